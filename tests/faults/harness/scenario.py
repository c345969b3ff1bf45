"""One scenario's life: fresh buckets and consumer group, workers, uploads,
the wait until the pipeline is idle, and the collection of its results."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field

from . import kafka_io, worker_logs
from .corpus import Corpus, Photo
from .procs import Fleet, Worker
from .uploader import Ledger, Op, ReadinessGate, Uploader, s3_client
from .verify import Box, OutputChecker, aspect_differs, list_keys

EVENT_TOPIC = "bucket-events"  # the topic the stack's MinIO publishes to (stack.sh)
BOX = Box(256, 256)


@dataclass(frozen=True)
class Scale:
    """How big the suite runs: uploads per scenario, upload rate, fault durations."""

    name: str
    uploads: int
    rate: float
    kafka_outage_s: float
    stall_s: float
    quiet_s: float
    idle_timeout_s: float


SHORT = Scale("short", uploads=100, rate=6.0, kafka_outage_s=15, stall_s=20, quiet_s=30,
              idle_timeout_s=300)
FULL = Scale("full", uploads=1000, rate=20.0, kafka_outage_s=30, stall_s=60, quiet_s=45,
             idle_timeout_s=900)


@dataclass
class Suite:
    """What every scenario shares."""

    repo: str
    binary: str
    stack: object
    corpus: Corpus
    scale: Scale
    seed: int
    run_id: str
    out_dir: str
    client_env: dict = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


RULES_TEMPLATE = """\
rules:
  - name: faults
    match: {{bucket: {source}}}
    outputs:
      - name: fit
        bucket: {target}
        key: "{{key}}"
        resize: {{width: {width}, height: {height}}}
        format: jpeg
        sidecar: true
"""


class ScenarioRun:
    def __init__(self, suite: Suite, index: int, name: str, settings: dict | None = None):
        self.suite = suite
        self.name = name
        self.rng = random.Random(f"{suite.seed}-{name}")
        tag = f"f{suite.run_id}-{index}"
        self.source, self.target, self.group = f"{tag}-src", f"{tag}-out", f"faults-{tag}"
        self.dir = os.path.join(suite.out_dir, name)
        self.log_dir = os.path.join(self.dir, "logs")
        os.makedirs(self.log_dir, exist_ok=True)
        self.ledger = Ledger()
        self.settings = {"IMGPIPE_WORKERS": "2", "IMGPIPE_SHUTDOWN_GRACE_MS": "5000",
                         "IMGPIPE_RETRY_INITIAL_MS": "100", **(settings or {})}
        self.env = self._base_env()
        self.client = s3_client(suite.client_env)
        self.poison_objects: dict[str, str] = {}   # key -> expected reason
        self.poison_messages: list[tuple[int, int, str, str]] = []  # partition, offset, key, reason
        self.checks: list[dict] = []
        self.extra: dict = {}
        self.notes: list[str] = []
        self.started = time.monotonic()
        self.fleet = Fleet(self._make_worker, self.started)
        self.topic_start: dict[int, int] = {}
        self.dlq_start: dict[int, int] = {}
        self.dlq_topic = ""
        self.idle_outcome = ""
        self.expect_no_dead_letters = False
        self.missing_keys: dict = {}
        self.after_finish = None  # scenario checks that need the final state

    # ------------------------------------------------------------ set-up

    def _base_env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMGPIPE_")}
        env.update(self.suite.client_env)
        config_path = os.path.join(self.dir, "rules.yaml")
        with open(config_path, "w", encoding="utf-8") as config:
            config.write(RULES_TEMPLATE.format(source=self.source, target=self.target,
                                               width=BOX.width, height=BOX.height))
        env.update({"IMGPIPE_CONFIG": config_path, "IMGPIPE_KAFKA_TOPIC": EVENT_TOPIC,
                    "IMGPIPE_KAFKA_GROUP": self.group,
                    "IMGPIPE_KAFKA_DLQ_TOPIC": f"{EVENT_TOPIC}.dlq",
                    "IMGPIPE_SOURCE_BUCKET": self.source, "IMGPIPE_TARGET_BUCKET": self.target})
        env.update(self.settings)
        return env

    def _imgpipe(self, *args: str) -> str:
        result = subprocess.run([self.suite.binary, *args], env=self.env, capture_output=True,
                                text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"imgpipe {' '.join(args)} failed: {result.stdout}{result.stderr}")
        return result.stdout

    def setup(self) -> None:
        with open(os.path.join(self.dir, "setup.txt"), "w", encoding="utf-8") as out:
            out.write(self._imgpipe("setup"))
        config = dict(line.split(" = ", 1) for line in self._imgpipe("config").splitlines()
                      if " = " in line)
        self.dlq_topic = config.get("kafka.dlq_topic", "").strip() or f"{EVENT_TOPIC}.dlq"
        brokers = self.brokers
        self.topic_start = kafka_io.start_group_at_end(brokers, self.group, EVENT_TOPIC)
        self.dlq_start = kafka_io.end_offsets(brokers, self.dlq_topic)

    @property
    def brokers(self) -> str:
        return self.suite.client_env["IMGPIPE_KAFKA_BROKERS"]

    def _make_worker(self, name: str) -> Worker:
        port = free_port()
        env = dict(self.env, IMGPIPE_HTTP_LISTEN=f"127.0.0.1:{port}")
        return Worker(name, self.suite.binary, env, os.path.join(self.log_dir, f"{name}.log"), port)

    def start_workers(self, count: int, wait_ready: bool = True) -> list[Worker]:
        workers = [self.fleet.start(f"w{i + 1}") for i in range(count)]
        if wait_ready and not self.fleet.wait_ready(60):
            self.notes.append("not every worker was ready within 60 s of its start")
        return workers

    # ------------------------------------------------------------ uploads

    @property
    def photos(self) -> list[Photo]:
        return self.suite.corpus.photos

    def other_photo(self, old: Photo, pool: list[Photo] | None = None) -> Photo:
        candidates = [p for p in (pool or self.photos) if aspect_differs(p, old, BOX)]
        return self.rng.choice(candidates)

    def photo_plan(self, uploads: int, prefix: str = "photos", reupload: float = 0.15) -> list[Op]:
        """Unique keys; about `reupload` of them uploaded again later with a different image."""
        firsts = round(uploads / (1 + reupload))
        placed = []
        for i in range(firsts):
            placed.append((float(i), Op(f"{prefix}/{i:05d}", self.rng.choice(self.photos))))
        for index in self.rng.sample(range(firsts), uploads - firsts):
            first = placed[index][1]
            due = index + self.rng.randint(10, 80) + 0.5
            placed.append((due, Op(first.key, self.other_photo(first.photo))))
        placed.sort(key=lambda item: item[0])
        return [op for _, op in placed]

    def uploader(self, threads: int = 6, rate: float | None = None,
                 gate: ReadinessGate | None = None) -> Uploader:
        return Uploader(self.suite.client_env, self.source, self.ledger, threads,
                        self.suite.scale.rate if rate is None else rate, gate=gate)

    def upload_seconds(self, uploads: int) -> float:
        return uploads / self.suite.scale.rate

    def sleep(self, seconds: float) -> None:
        """Sleeps while watching the workers for exits nobody caused."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.fleet.poll()
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def wait_acked(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while self.ledger.acked_count() < count and time.monotonic() < deadline:
            self.sleep(0.2)

    # ------------------------------------------------------------ idle

    def expected_keys(self) -> dict[str, str]:
        """Key -> ETag of its last acknowledged PUT, for every key that should have an output."""
        skip = set(self.poison_objects) | self.ledger.deleted
        return {k: p.etag for k, p in self.ledger.last_acked().items() if k not in skip}

    def checker(self) -> OutputChecker:
        return OutputChecker(self.client, self.source, self.target, BOX, self.ledger, sidecar=True)

    def wait_idle(self, settle_s: float = 6.0) -> str:
        """Until every expected output names its current source (then `settle_s` quiet), or no
        progress for the scale's quiet time, or its timeout."""
        scale = self.suite.scale
        checker = self.checker()
        confirmed: dict[str, str] = {}
        deadline = time.monotonic() + scale.idle_timeout_s
        last_change, signature = time.monotonic(), None
        while True:
            self.fleet.poll()
            expected = self.expected_keys()
            present = list_keys(self.client, self.target)
            for key, etag in expected.items():
                if confirmed.get(key) != etag and key in present and checker.confirmed(key, etag):
                    confirmed[key] = etag
            done = all(confirmed.get(k) == e for k, e in expected.items())
            now_signature = (len(confirmed), len(present), worker_logs.total_size(self.log_dir))
            if now_signature != signature:
                signature, last_change = now_signature, time.monotonic()
            quiet = time.monotonic() - last_change
            if done and quiet >= settle_s:
                return "complete"
            if quiet >= scale.quiet_s:
                return f"no progress for {scale.quiet_s:.0f}s"
            if time.monotonic() > deadline:
                return f"timeout after {scale.idle_timeout_s:.0f}s"
            time.sleep(2)

    # ------------------------------------------------------------ results

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append({"name": name, "ok": bool(ok), "detail": detail})

    def dead_letters(self) -> tuple[list[kafka_io.Record], str]:
        if not self.dlq_topic or not kafka_io.topic_exists(self.brokers, self.dlq_topic):
            return [], "no dead-letter topic"
        records = kafka_io.read_from(self.brokers, self.dlq_topic, self.dlq_start)
        prefix = f"{self.source}/"
        return [r for r in records if r.key.startswith(prefix)], self.dlq_topic

    def _write_ledger(self, lost: list[tuple[str, str]]) -> None:
        """puts.jsonl: every PUT attempt (time, key, ETag, acknowledged, error, event seen)."""
        lost_set = set(lost)
        with open(os.path.join(self.dir, "puts.jsonl"), "w", encoding="utf-8") as out:
            for put in self.ledger.puts:
                out.write(json.dumps({"t": round(put.started, 3), "key": put.key, "md5": put.md5,
                                      "acked": put.acked, "etag": put.etag, "error": put.error,
                                      "event_lost": (put.key, put.etag) in lost_set}) + "\n")

    def _lost_events(self) -> list[tuple[str, str]]:
        """Acknowledged (key, ETag) pairs with no event in the topic."""
        records = kafka_io.read_from(self.brokers, EVENT_TOPIC, self.topic_start)
        events = kafka_io.event_versions(records, self.source)
        acked = {(p.key, p.etag) for p in self.ledger.puts if p.acked}
        return sorted(acked - events)

    def _explain_missing(self, outputs, lost: list[tuple[str, str]]) -> None:
        last = self.ledger.last_acked()
        self.missing_keys = {k: last[k] for k in outputs.failed_keys.get("missing", [])}
        lost_set = set(lost)
        self.extra["missing_without_event"] = sum(
            1 for k, put in self.missing_keys.items() if (k, put.etag) in lost_set)

    def _dead_lettered(self, logs) -> tuple[dict, int]:
        """Reason -> count from the dead-letter topic, or from the log when it has none."""
        dlq, where = self.dead_letters()
        self.extra["dead_letter_source"] = (f"topic {where}" if dlq else
                                            f"worker 'failed' log lines ({where} has none)")
        counts = (dict(Counter(r.headers.get("imgpipe.errors.reason", "?") for r in dlq))
                  if dlq else logs.failed_reasons())
        if self.expect_no_dead_letters:
            self.check("nothing dead-lettered because of the outage", not counts,
                       json.dumps(counts, sort_keys=True))
        return counts, len(dlq)

    def _process_fields(self) -> dict:
        record = self.fleet.record
        return {
            "crashes": len(record.crashes),
            "crash_details": [f"{c.worker} at {c.at_s:.1f}s: {c.what}" for c in record.crashes],
            "kill9": record.kills,
            "sigterms": record.terms,
            "max_exit_s": round(max(record.exit_times, default=0.0), 2),
        }

    def finish(self) -> dict:
        """Stops the workers (measured), reads everything back and returns the result row."""
        self.fleet.terminate_all(timeout_s=35)
        logs = worker_logs.summarise(self.log_dir, self.source)
        outputs = self.checker().check(sorted(self.expected_keys()))
        lost = self._lost_events()
        self._write_ledger(lost)
        self._explain_missing(outputs, lost)
        if self.after_finish is not None:
            self.after_finish(self)
        dead_lettered, dlq_records = self._dead_lettered(logs)
        duplicates, basis = logs.duplicates()
        return {
            "name": self.name,
            "uploaded": self.ledger.attempted(),
            "acknowledged": self.ledger.acked_count(),
            "outputs_expected": outputs.expected,
            "present": outputs.present,
            "missing": outputs.status["missing"],
            "stale": outputs.status["stale"],
            "invalid": outputs.status["invalid"],
            "duplicates": duplicates,
            "duplicates_basis": basis,
            "dead_lettered": dead_lettered,
            "dead_letter_topic_records": dlq_records,
            "failed_log_lines": logs.failed_reasons(),
            **self._process_fields(),
            "wall_s": round(time.monotonic() - self.started, 1),
            "lost_in_minio": len(lost),
            "lost_in_minio_samples": [f"{k} {e}" for k, e in lost[:10]],
            "idle": self.idle_outcome,
            "samples": outputs.samples,
            "checks": self.checks,
            "notes": self.notes,
            **self.extra,
        }
