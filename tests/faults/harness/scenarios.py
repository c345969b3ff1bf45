"""The eight fault scenarios. Each gets a fresh ScenarioRun, injects its fault
while uploads are running, waits for the pipeline to go idle and adds its own
checks to the common ones (scenario.ScenarioRun.finish)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter, defaultdict

from confluent_kafka.admin import AdminClient

from . import kafka_io, worker_logs
from .scenario import EVENT_TOPIC, ScenarioRun
from .uploader import Op, ReadinessGate
from .verify import list_keys

GRACE_S = 5.0  # IMGPIPE_SHUTDOWN_GRACE_MS of every scenario
TERM_TIMEOUT_S = 35.0


def _uploads(sc: ScenarioRun) -> int:
    return sc.suite.scale.uploads


def _run_with_fault(sc: ScenarioRun, workers: int, fault, ops=None, threads: int = 6,
                    min_window_s: float = 0.0, gate: ReadinessGate | None = None) -> None:
    """Set-up, workers, uploads in the background (spread over at least `min_window_s`),
    `fault(sc, duration)`, then idle."""
    sc.setup()
    sc.start_workers(workers)
    ops = ops if ops is not None else sc.photo_plan(_uploads(sc))
    window = max(sc.upload_seconds(len(ops)), min_window_s)
    uploader = sc.uploader(threads, rate=len(ops) / window, gate=gate)
    uploader.start(ops)
    fault(sc, window)
    if not uploader.join(timeout_s=window * 3 + 180):
        sc.notes.append("the uploader did not finish in time; the rest of its plan was dropped")
    sc.idle_outcome = sc.wait_idle()


# ---------------------------------------------------------------- 1


def kill9_worker(sc: ScenarioRun) -> None:
    def fault(sc: ScenarioRun, duration: float) -> None:
        moments = sorted(sc.rng.uniform(0.1, 0.9) * duration for _ in range(5))
        begin, kills = time.monotonic(), []
        for moment in moments:
            sc.sleep(max(0.0, begin + moment - time.monotonic()))
            kills.append(round(time.monotonic() - begin, 1))
            sc.fleet.kill9(sc.fleet.workers["w1"])
            sc.sleep(sc.rng.uniform(0.2, 2.0))
            sc.fleet.start("w1")
            # The next kill hits a worker that joined and did some work.
            sc.fleet.wait_ready(30)
            sc.sleep(1.0)
        sc.extra["kill_moments_s"] = kills

    # A restarted worker needs several seconds to rejoin: five kills need a minute of uploads.
    _run_with_fault(sc, 1, fault, min_window_s=70)


# ---------------------------------------------------------------- 2


def kafka_broker_killed(sc: ScenarioRun) -> None:
    def fault(sc: ScenarioRun, duration: float) -> None:
        sc.sleep(duration * 0.35)
        sc.suite.stack.kill_kafka()
        sc.sleep(sc.suite.scale.kafka_outage_s)
        started = time.monotonic()
        sc.suite.stack.kafka_up()
        sc.extra["kafka_down_s"] = round(sc.suite.scale.kafka_outage_s + time.monotonic() - started, 1)

    _run_with_fault(sc, 2, fault)


# ---------------------------------------------------------------- 3


def minio_killed(sc: ScenarioRun) -> None:
    """The uploads go through a readiness gate, as behind a Kubernetes Service whose MinIO
    readiness probe is /minio/health/cluster (deploy/minio): that is the configuration that
    keeps MinIO's restart window from losing events, and every such upload must be processed.
    Beside it, one client PUTs straight at MinIO without the gate while it restarts: those
    uploads measure the window itself (`ungated_*` in the details); what they lose is for the
    reconciler, not the worker, and does not fail the scenario."""
    ungated: list[str] = []
    errors: Counter = Counter()
    stop_ungated = threading.Event()

    def put_ungated() -> None:
        photo, n = sc.photos[0], 0
        while not stop_ungated.is_set():
            key = f"ungated/{n:05d}.jpg"
            n += 1
            try:
                sc.client.put_object(Bucket=sc.source, Key=key, Body=photo.body,
                                     ContentType=photo.content_type)
                ungated.append(key)
            except Exception as error:  # noqa: BLE001 - MinIO is down: not acknowledged
                errors[type(error).__name__] += 1
            time.sleep(0.02)

    def fault(sc: ScenarioRun, duration: float) -> None:
        sc.sleep(duration * 0.4)
        acked_before = sc.ledger.acked_count()
        sc.extra["minio_killed_at"] = round(time.time(), 3)
        sc.suite.stack.kill_minio()
        sc.extra["acked_before_kill"] = acked_before
        prober = threading.Thread(target=put_ungated, daemon=True)
        prober.start()
        sc.sleep(5)
        started = time.monotonic()
        sc.suite.stack.up()
        sc.extra["minio_down_s"] = round(5 + time.monotonic() - started, 1)
        sc.extra["minio_restarted_at"] = round(time.time(), 3)
        sc.sleep(3)
        stop_ungated.set()
        prober.join(10)

    gate = ReadinessGate(sc.suite.client_env["IMGPIPE_S3_ENDPOINT"])
    _run_with_fault(sc, 2, fault, gate=gate)
    sc.extra["ungated_acked"] = len(ungated)
    sc.extra["ungated_errors"] = dict(errors)
    sc.after_finish = lambda sc: _check_minio_restart(sc, ungated)


def _check_minio_restart(sc: ScenarioRun, ungated: list[str]) -> None:
    killed_at = sc.extra["minio_killed_at"]
    before = [k for k, put in sc.missing_keys.items() if put.started < killed_at]
    sc.check("every upload acknowledged before the kill has its output", not before,
             f"{len(before)} missing" + (": " + ", ".join(before[:10]) if before else ""))
    present = list_keys(sc.client, sc.target)
    lost = [k for k in ungated if k not in present]
    sc.extra["ungated_without_output"] = len(lost)
    sc.extra["ungated_without_output_samples"] = lost[:10]
    # What MinIO dropped is what the reconciler is for: a backfill over the
    # ungated prefix must find exactly those uploads missing and process them.
    summary = json.loads(sc._imgpipe(  # pylint: disable=protected-access
        "backfill", "--direct", "--json", "--prefix", "ungated/",
        "--checkpoint", os.path.join(sc.dir, "backfill-checkpoint.json")).splitlines()[-1])
    sc.extra["backfill_found_missing"] = summary["missing"]
    # At least those: an upload stored while its 200 was lost counts as missing too.
    sc.check("backfill finds every ungated upload whose event was lost",
             summary["missing"] >= len(lost), f"{summary['missing']} found, {len(lost)} lost")
    present = list_keys(sc.client, sc.target)
    still = [k for k in ungated if k not in present]
    sc.check("after the backfill every acknowledged ungated upload has its output", not still,
             f"{len(still)} still without output" + (": " + ", ".join(still[:10]) if still else ""))


# ---------------------------------------------------------------- 4


def rebalance_churn(sc: ScenarioRun) -> None:
    def fault(sc: ScenarioRun, duration: float) -> None:
        fleet, begin = sc.fleet, time.monotonic()
        timeline = []

        def at(fraction: float) -> None:
            sc.sleep(max(0.0, begin + fraction * duration - time.monotonic()))

        def term(name: str, why: str) -> None:
            seconds = fleet.terminate(fleet.workers[name], TERM_TIMEOUT_S)
            timeline.append(f"{time.monotonic() - begin:.1f}s SIGTERM {name} ({why}): exit in {seconds:.1f}s")

        def start(name: str) -> None:
            fleet.start(name)
            timeline.append(f"{time.monotonic() - begin:.1f}s start {name}")

        at(0.15)
        start("w4")
        sc.sleep(1.0)
        term("w1", "rebalance for w4 in progress")
        at(0.35)
        term("w2", "steady state")
        at(0.5)
        start("w5")
        sc.sleep(0.5)
        term("w4", "rebalance for w5 in progress")
        at(0.65)
        start("w6")
        sc.sleep(0.3)
        term("w5", "right after w6 started")
        at(0.8)
        start("w1")
        sc.extra["timeline"] = timeline

    _run_with_fault(sc, 3, fault)


# ---------------------------------------------------------------- 5

KAFKA_POISON = {
    "not json": b"this is not JSON at all {",
    "no Records": json.dumps({"EventName": "s3:ObjectCreated:Put", "Key": "x/y"}).encode(),
}


def _poison_plan(sc: ScenarioRun, good: int, objects: int) -> list[Op]:
    ops = sc.photo_plan(good, prefix="good", reupload=0.1)
    kinds = sorted(sc.suite.corpus.poison)
    for i in range(objects):
        reason = kinds[i % len(kinds)]
        key = f"poison/{reason}-{i:03d}"
        sc.poison_objects[key] = reason
        ops.insert(sc.rng.randint(0, len(ops)), Op(key, sc.suite.corpus.poison[reason]))
    return ops


def _upload_and_delete(sc: ScenarioRun, count: int) -> None:
    ops = [Op(f"deleted/{i:03d}", sc.rng.choice(sc.photos), delete=True) for i in range(count)]
    sc.uploader(threads=2, rate=0).run(ops, timeout_s=120)
    for key in sorted(sc.ledger.deleted):
        sc.poison_objects[key] = "object_missing"


def _produce_kafka_poison(sc: ScenarioRun, count: int) -> None:
    messages, reasons = [], []
    for i in range(count):
        label = sorted(KAFKA_POISON)[i % len(KAFKA_POISON)]
        messages.append((f"{sc.source}/kafka-poison-{i:03d}", KAFKA_POISON[label]))
        reasons.append(label)
    for (partition, offset), (key, _), label in zip(kafka_io.produce(sc.brokers, EVENT_TOPIC, messages),
                                                    messages, reasons):
        sc.poison_messages.append((partition, offset, key, label))


def _dead_letter_verdicts(sc: ScenarioRun) -> dict[str, tuple[str, str]]:
    """Item -> (expected reason, reason found or 'absent'), from the DLQ or else the log."""
    dlq, _ = sc.dead_letters()
    found: dict[str, str] = {}
    if dlq:
        for record in dlq:
            found[record.key] = record.headers.get("imgpipe.errors.reason", "?")
            found[f"{record.headers.get('imgpipe.errors.partition')}:"
                  f"{record.headers.get('imgpipe.errors.offset')}"] = found[record.key]
    else:
        for line in worker_logs.summarise(sc.log_dir, sc.source).failed:
            if "key" in line and "bucket" in line:
                found[f"{sc.source}/{line['key']}"] = line.get("reason", "?")
            if "offset" in line:
                found[f"{line.get('partition')}:{line.get('offset')}"] = line.get("reason", "?")
    verdicts = {}
    for key, reason in sc.poison_objects.items():
        verdicts[key] = (reason, found.get(f"{sc.source}/{key}", "absent"))
    for partition, offset, key, label in sc.poison_messages:
        verdicts[f"kafka {label} {partition}:{offset}"] = (
            "malformed_event", found.get(key, found.get(f"{partition}:{offset}", "absent")))
    return verdicts


def poison(sc: ScenarioRun) -> None:
    total = max(10, _uploads(sc) // 10)
    deleted, kafka_messages = max(2, total // 6), max(2, total // 5)
    objects = max(4, total - deleted - kafka_messages)
    sc.setup()
    _upload_and_delete(sc, deleted)
    sc.start_workers(2)
    ops = _poison_plan(sc, _uploads(sc) - objects - deleted, objects)
    uploader = sc.uploader()
    uploader.start(ops)
    sc.sleep(sc.upload_seconds(len(ops)) * 0.5)
    _produce_kafka_poison(sc, kafka_messages)
    uploader.join(timeout_s=sc.upload_seconds(len(ops)) * 3 + 120)
    sc.idle_outcome = sc.wait_idle()
    sc.fleet.terminate_all(TERM_TIMEOUT_S)
    verdicts = _dead_letter_verdicts(sc)
    wrong = {k: v for k, v in verdicts.items() if v[0] != v[1]}
    where = "the dead-letter topic" if sc.dead_letters()[0] else "the workers' 'failed' log lines"
    sc.check("every poison item dead-lettered with its reason", not wrong,
             f"{len(verdicts) - len(wrong)}/{len(verdicts)} right, read from {where}; wrong: "
             + "; ".join(f"{k}: want {w}, got {g}" for k, (w, g) in sorted(wrong.items())[:12]))
    sc.extra["poison_expected"] = dict(Counter(w for w, _ in verdicts.values()))


# ---------------------------------------------------------------- 6


def _partitions_of(sc: ScenarioRun, worker: str) -> tuple[set[int], dict[str, int]]:
    """Partitions `worker` processed events of, and key -> partition of every event so far."""
    records = kafka_io.read_from(sc.brokers, EVENT_TOPIC, sc.topic_start, timeout_s=20)
    prefix = f"{sc.source}/"
    partition_of = {r.key[len(prefix):]: r.partition for r in records if r.key.startswith(prefix)}
    keys = worker_logs.processed_keys(sc.fleet.workers[worker].log_path, sc.source)
    return {partition_of[k] for k in keys if k in partition_of}, partition_of


def sigstop_worker(sc: ScenarioRun) -> None:
    session_s = 6.0

    def fault(sc: ScenarioRun, duration: float) -> None:
        sc.sleep(duration * 0.35)
        owned, partition_of = _partitions_of(sc, "w1")
        stalled = sc.fleet.workers["w1"]
        stalled.pause()
        paused_at = time.monotonic()
        recent = [p for p in sorted(sc.ledger.last_acked().values(), key=lambda p: -p.started)
                  if not owned or partition_of.get(p.key) in owned]
        count = max(20, _uploads(sc) // 7)
        ops = [Op(p.key, sc.other_photo(sc.ledger.photos_by_md5[p.md5])) for p in recent[:count]]
        sc.uploader(threads=4, rate=0).run(ops, timeout_s=120)
        sc.sleep(max(0.0, paused_at + 3 * session_s - time.monotonic()))
        stalled.resume()
        sc.extra["stalled_worker_partitions"] = sorted(owned)
        sc.extra["reuploaded_while_stopped"] = len(ops)
        sc.extra["stopped_s"] = round(time.monotonic() - paused_at, 1)

    _run_with_fault(sc, 2, fault)


# ---------------------------------------------------------------- 7


def same_key_race(sc: ScenarioRun) -> None:
    large = [p for p in sc.photos if max(p.width, p.height) >= 480]
    small = [p for p in sc.photos if max(p.width, p.height) <= 360]
    ops = []
    for i in range(_uploads(sc) // 2):
        first = sc.rng.choice(large)
        key = f"race/{i:04d}"
        ops.append(Op(key, first))
        ops.append(Op(key, sc.other_photo(first, small), delay_s=sc.rng.uniform(0.0, 2.0)))
    _run_with_fault(sc, 2, lambda sc, duration: None, ops=ops, threads=8)


# ---------------------------------------------------------------- 8


READYZ_TIMEOUT_S = 10.0  # longer than the scenario's S3 request timeout (5 s)


def _sample_readyz(worker, stop: threading.Event, samples: Counter, latencies: list) -> None:
    """About once a second: /readyz's answer (or 'timeout'/'refused') and how long it took."""
    while not stop.is_set() and worker.running() and not worker.expected_exit:
        started = time.monotonic()
        answer = worker.readyz(timeout_s=READYZ_TIMEOUT_S)
        if worker.expected_exit:
            return
        samples[answer] += 1
        latencies.append(time.monotonic() - started)
        stop.wait(1.0)


def _start_samplers(sc: ScenarioRun, stop: threading.Event, samples: dict, latencies: dict):
    threads = []
    for worker in sc.fleet.running():
        thread = threading.Thread(target=_sample_readyz, daemon=True,
                                  args=(worker, stop, samples[worker.name], latencies[worker.name]))
        thread.start()
        threads.append(thread)
    return threads


def _group_members(sc: ScenarioRun) -> int:
    admin = AdminClient({"bootstrap.servers": sc.brokers, "log_level": 3})
    future = admin.describe_consumer_groups([sc.group])[sc.group]
    return len(future.result(timeout=10).members)


def store_stalled(sc: ScenarioRun) -> None:
    stall_s = sc.suite.scale.stall_s
    samples: dict[str, Counter] = defaultdict(Counter)
    latencies: dict[str, list] = defaultdict(list)

    def fault(sc: ScenarioRun, duration: float) -> None:
        sc.sleep(duration * 0.3)
        stop = threading.Event()
        sc.suite.stack.pause_minio()
        paused_at = time.monotonic()
        samplers = _start_samplers(sc, stop, samples, latencies)
        try:
            sc.sleep(stall_s / 2)
            exit_s = sc.fleet.terminate(sc.fleet.workers["w1"], TERM_TIMEOUT_S)
            sc.extra["sigterm_during_stall_exit_s"] = round(exit_s, 2)
            sc.check("SIGTERM during the stall exits within the grace + 3 s", exit_s <= GRACE_S + 3,
                     f"{exit_s:.1f}s (grace {GRACE_S:.0f}s)")
            sc.sleep(max(0.0, paused_at + stall_s - 3 - time.monotonic()))
            members = _group_members(sc)
            sc.check("the remaining worker stays in its group during the stall", members == 1,
                     f"{members} member(s) 3 s before the end of the stall")
            sc.sleep(max(0.0, paused_at + stall_s - time.monotonic()))
        finally:
            sc.suite.stack.resume_minio()
            stop.set()
            for thread in samplers:
                thread.join(READYZ_TIMEOUT_S + 2)
        sc.extra["readyz_during_stall"] = {name: dict(c) for name, c in samples.items()}
        sc.extra["readyz_max_latency_s"] = {name: round(max(v, default=0), 1)
                                            for name, v in latencies.items()}

    sc.expect_no_dead_letters = True
    _run_with_fault(sc, 2, fault)
    for name, counts in sorted(samples.items()):
        sc.check(f"/readyz of {name} answered 503 during the stall", counts.get("503", 0) > 0,
                 ", ".join(f"{code}: {n}" for code, n in sorted(counts.items()))
                 + f"; slowest answer {max(latencies[name], default=0):.1f}s"
                 + f" (client timeout {READYZ_TIMEOUT_S:.0f}s)")


ALL = [
    ("1-kill9-worker", kill9_worker, {}),
    ("2-kafka-broker-killed", kafka_broker_killed, {}),
    ("3-minio-killed", minio_killed, {}),
    ("4-rebalance-churn", rebalance_churn, {}),
    ("5-poison", poison, {}),
    ("6-sigstop-worker", sigstop_worker, {"IMGPIPE_KAFKA_SESSION_TIMEOUT_MS": "6000"}),
    ("7-same-key-race", same_key_race, {}),
    ("8-store-stalled", store_stalled, {"IMGPIPE_S3_REQUEST_TIMEOUT_MS": "5000"}),
]
