#!/usr/bin/env python3
"""Side-by-side end-to-end benchmark (issue 9): imgpipe and its peers on the same stack.

Every system does the same job (fit in 1024x1024, auto-orient, sRGB, strip
metadata, JPEG quality 85, same key in a target bucket) and is measured the same
way, one system at a time, on the local stack whose settings are in the
environment (source .stack/env):

* backlog drain: the corpus is uploaded while no consumer runs; once every
  upload's event is in Kafka, the system's consumer group is committed at the
  topic's end offsets of before the uploads and the system is started; the clock
  runs from its start to the last output's Last-Modified. CPU of the system's
  processes (children included, from /proc) and of MinIO and Kafka, peak RSS
  (sum over the system's processes, sampled every 50 ms), output bytes; every
  output is read back and checked (JPEG, upright, longest side 1024, no EXIF or
  ICC profile).
* steady low rate: RATE uploads per second for STEADY seconds with the system
  running; latency from each PUT's return to its output's Last-Modified, split
  at the event's Kafka timestamp into MinIO's part and the consumer's part.
* single uploads: SINGLE uploads SINGLE_GAP seconds apart, so that each event
  reaches a consumer with nothing else in hand (MinIO publishes from its queue
  folder in bursts, one listing every 3 s: at the low rate most events wait
  behind others of their burst); the consumer's part again.

`limit` (bench_limit: libvips over the corpus in memory) gets the drain figures
only, and after each run the same corpus through imgpipe's own image::render()
(bench_limit --via-render) and through the thinnest S3 consumer (bench_limit
--via-s3: a GET from a bucket holding the corpus, the same libvips calls, a
PUT). Last, what imgpipe's GET, PUT and HEAD for a photo
cost an S3 client (curl, with libcurl as imgpipe uses it). Prints progress to
stderr and writes one JSON document (see report.py for the tables and the
chart) to --json.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import io
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewPartitions, NewTopic
from kafka.structs import OffsetAndMetadata
from minio import Minio
from minio.deleteobjects import DeleteObject
from PIL import Image

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SIZE = 1024
ENV = os.environ
TOPIC = ENV.get("IMGPIPE_KAFKA_TOPIC", "bucket-events")
BROKERS = ENV.get("IMGPIPE_KAFKA_BROKERS", "127.0.0.1:9092").split(",")
CONTENT_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def say(text: str) -> None:
    print(f"    {text}", file=sys.stderr, flush=True)


# ---- processes: CPU and memory from /proc --------------------------------------

def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, utime+stime+cutime+cstime ticks) of every process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(name)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))
    return table


def _tree(roots: list[int], table) -> list[int]:
    members, frontier = set(), [r for r in roots if r in table]
    while frontier:
        pid = frontier.pop()
        members.add(pid)
        frontier += [p for p, (ppid, _) in table.items() if ppid == pid and p not in members]
    return sorted(members)


def cpu_seconds(roots: list[int]) -> float:
    table = _proc_table()
    return sum(table[p][1] for p in _tree(roots, table)) / CLK_TCK


def rss_bytes(roots: list[int]) -> int:
    total = 0
    for pid in _tree(roots, _proc_table()):
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as f:
                total += int(f.read().split()[1]) * PAGE
        except OSError:
            pass
    return total


class RssSampler(threading.Thread):
    """Peak of the summed RSS of a process tree, sampled every 50 ms."""

    def __init__(self, roots: list[int]):
        super().__init__(daemon=True)
        self.roots, self.peak, self._done = roots, 0, threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, rss_bytes(self.roots))
            self._done.wait(0.05)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def stack_pid(name: str) -> int | None:
    path = os.path.join(ENV.get("IMGPIPE_STACK_DIR", ".stack"), name, f"{name}.pid")
    try:
        pid = int(open(path, encoding="ascii").read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


# ---- Kafka ----------------------------------------------------------------------

def partitions(consumer: KafkaConsumer) -> list[TopicPartition]:
    ids = None
    for _ in range(100):
        ids = consumer.partitions_for_topic(TOPIC)
        if ids:
            break
        time.sleep(0.1)
    if not ids:
        raise SystemExit(f"e2e: topic {TOPIC} not found on {BROKERS}")
    return [TopicPartition(TOPIC, p) for p in sorted(ids)]


def ensure_partitions(count: int) -> int:
    """Gives the topic at least `count` partitions (one per consumer process of
    python-procs; MinIO partitions by key, so each key keeps its order), creating
    it on a just-started stack where MinIO has not published yet. Returns the count."""
    consumer = KafkaConsumer(bootstrap_servers=BROKERS)
    have = len(consumer.partitions_for_topic(TOPIC) or ())
    consumer.close()
    if have >= count:
        return have
    admin = KafkaAdminClient(bootstrap_servers=BROKERS)
    if have == 0:  # as `imgpipe setup` would make it (kafka.partitions, 6 by default)
        count = max(count, int(ENV.get("IMGPIPE_KAFKA_PARTITIONS", "6")))
        admin.create_topics([NewTopic(TOPIC, num_partitions=count, replication_factor=1)])
    else:
        admin.create_partitions({TOPIC: NewPartitions(total_count=count)})
    admin.close()
    say(f"topic {TOPIC}: {have} -> {count} partitions (at least one per core, so that python-procs can scale)")
    return count


def end_offsets() -> dict[TopicPartition, int]:
    consumer = KafkaConsumer(bootstrap_servers=BROKERS)
    offsets = consumer.end_offsets(partitions(consumer))
    consumer.close()
    return offsets


def commit_group(group: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = KafkaConsumer(bootstrap_servers=BROKERS, group_id=group, enable_auto_commit=False)
    consumer.assign(list(offsets))
    consumer.commit({tp: OffsetAndMetadata(off, "", -1) for tp, off in offsets.items()})
    consumer.close()


def event_times(start: dict[TopicPartition, int], bucket: str, keys: set[str],
                timeout_s: float) -> dict[str, int]:
    """Kafka timestamp (ms) of the first ObjectCreated event of each key of `bucket`
    after `start`; waits until every key has one or timeout_s passed."""
    consumer = KafkaConsumer(bootstrap_servers=BROKERS, enable_auto_commit=False)
    consumer.assign(list(start))
    for tp, off in start.items():
        consumer.seek(tp, off)
    found: dict[str, int] = {}
    deadline = time.monotonic() + timeout_s
    while len(found) < len(keys) and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                for key in created_keys(record.value, bucket):
                    found.setdefault(key, record.timestamp)
    consumer.close()
    return found


def created_keys(value: bytes, bucket: str) -> list[str]:
    try:
        event = json.loads(value)
        return [urllib.parse.unquote_plus(r["s3"]["object"]["key"]) for r in event.get("Records", [])
                if r.get("eventName", "").startswith("s3:ObjectCreated:")
                and r["s3"]["bucket"]["name"] == bucket]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


# ---- S3 -------------------------------------------------------------------------

def s3_client() -> Minio:
    endpoint = urllib.parse.urlparse(ENV["IMGPIPE_S3_ENDPOINT"])
    return Minio(endpoint.netloc, access_key=ENV["IMGPIPE_S3_ACCESS_KEY"], secret_key=ENV["IMGPIPE_S3_SECRET_KEY"],
                 secure=endpoint.scheme == "https", region=ENV.get("IMGPIPE_S3_REGION", "us-east-1"))


def upload(client: Minio, bucket: str, key: str, path: str) -> float:
    """PUTs the file; returns the time (epoch s) the PUT returned."""
    client.fput_object(bucket, key, path, content_type=CONTENT_TYPES.get(os.path.splitext(path)[1], "image/jpeg"))
    return time.time()


def outputs(client: Minio, bucket: str, prefix: str) -> dict[str, tuple[float, int]]:
    """key -> (Last-Modified epoch s, bytes) of the outputs under prefix."""
    return {o.object_name: (o.last_modified.timestamp(), o.size)
            for o in client.list_objects(bucket, prefix=prefix, recursive=True)}


def wait_for_outputs(client: Minio, bucket: str, prefix: str, count: int, timeout_s: float,
                     alive) -> dict[str, tuple[float, int]]:
    deadline = time.monotonic() + timeout_s
    found = {}
    while time.monotonic() < deadline:
        found = outputs(client, bucket, prefix)
        if len(found) >= count or not alive():
            break
        time.sleep(0.5)
    return found


def remove_bucket(client: Minio, bucket: str) -> None:
    try:
        names = [DeleteObject(o.object_name) for o in client.list_objects(bucket, recursive=True)]
        for error in client.remove_objects(bucket, names):  # lazy: each error is one not deleted
            say(f"could not remove {bucket}/{error.name}: {error.message}")
        client.remove_bucket(bucket)
    except Exception as error:  # cleanup must not hide the result
        say(f"could not remove bucket {bucket}: {error}")


def check_output(data: bytes, displayed: tuple[int, int]) -> str | None:
    """Why an output is wrong, or None: JPEG, longest side 1024, upright, no EXIF/ICC."""
    image = Image.open(io.BytesIO(data))
    if image.format != "JPEG":
        return f"format {image.format}"
    w, h = image.size
    if max(w, h) != SIZE:
        return f"size {w}x{h}"
    if (w > h) != (displayed[0] > displayed[1]):
        return f"orientation {w}x{h} for {displayed[0]}x{displayed[1]}"
    if image.info.get("exif") or image.info.get("icc_profile"):
        return "metadata left"
    return None


# ---- systems --------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class System:
    """How to start one system on (source, target, group)."""

    def __init__(self, name: str, args):
        self.name, self.args = name, args

    def commands(self, source: str, target: str, group: str, work: str) -> list[tuple[list[str], dict]]:
        a = self.args
        env = dict(ENV)
        if self.name in ("imgpipe", "imgpipe-image"):
            config = os.path.join(work, f"{self.name}.yaml")
            with open(config, "w", encoding="utf-8") as f:
                f.write(imgpipe_rules(source, target))
            os.chmod(config, 0o644)  # the image's worker runs as uid 10001
            env.update(IMGPIPE_CONFIG=config, IMGPIPE_KAFKA_GROUP=group, IMGPIPE_SOURCE_BUCKET=source,
                       IMGPIPE_TARGET_BUCKET=target, IMGPIPE_HTTP_LISTEN=f"127.0.0.1:{free_port()}")
            for name in ("IMGPIPE_WORKERS", "IMGPIPE_WIDTH", "IMGPIPE_HEIGHT", "IMGPIPE_QUALITY"):
                env.pop(name, None)
            env.update(a.imgpipe_setting)  # tuning runs only; results use the defaults
            if self.name == "imgpipe":
                return [([a.imgpipe, "run"], env)]
            env["IMGPIPE_CONFIG"] = "/bench/imgpipe.yaml"
            # As tests/container/image_test.sh runs it; settings travel by name (-e NAME).
            cmd = a.engine + ["run", "--rm", "--name", group, "--network", "host", "--user", "10001:10001",
                              "--read-only", "--tmpfs", "/tmp", "-v", f"{config}:/bench/imgpipe.yaml:ro"]
            cmd += [arg for name in sorted(env) if name.startswith("IMGPIPE_") for arg in ("-e", name)]
            return [(cmd + [a.image, "run"], env)]
        if self.name in ("python-tutorial", "python-procs"):
            count = 1 if self.name == "python-tutorial" else a.cores
            cmd = [sys.executable, os.path.join(a.peers, "python_tutorial.py"), "--group", group,
                   "--source", source, "--target", target, "--idle-exit", "3600"]
            if count > 1:
                # With kafka-python's default (500) the first process to join
                # takes the whole backlog in one batch and works through it
                # while the others wait (2026-12-07: 304 of 308 messages in one
                # process); one record per poll lets the group share it.
                cmd += ["--max-poll-records", "1"]
            return [(cmd, env)] * count
        if self.name == "node-sharp":
            env["BENCH_NODE_DIR"] = a.node_dir
            cmd = ["node", os.path.join(a.peers, "node_sharp.mjs"), "--group", group, "--source", source,
                   "--target", target]
            return [(cmd, env)]
        raise SystemExit(f"e2e: unknown system {self.name}")

    def prepare(self, source: str, target: str, work: str) -> None:
        """Buckets and the source's notification, made the same way for every system."""
        env = dict(ENV, IMGPIPE_SOURCE_BUCKET=source, IMGPIPE_TARGET_BUCKET=target)
        env.pop("IMGPIPE_CONFIG", None)
        done = subprocess.run([self.args.imgpipe, "setup"], env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"e2e: imgpipe setup failed: {done.stderr[-400:]}")


def imgpipe_rules(source: str, target: str) -> str:
    """imgpipe's defaults, with the benchmark's job: every upload to JPEG q85 (the
    default rule keeps PNG and WebP inputs' formats)."""
    return (f"pipeline:\n  source_bucket: {source}\n  target_bucket: {target}\n"
            "rules:\n  - name: bench\n    match: {bucket: " + source + "}\n    outputs:\n"
            "      - name: jpeg\n        bucket: " + target + "\n        key: \"{key}\"\n"
            "        resize: {width: 1024, height: 1024}\n        format: jpeg\n"
            "        encoder: {quality: 85}\n")


class Running:
    """The processes of one system; stopped with SIGTERM (then SIGKILL after 20 s)."""

    def __init__(self, commands, log_path: str, container: str | None = None, engine=()):
        self.container, self.engine = container, list(engine)
        self.log = open(log_path, "ab")
        self.procs = [subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
                      for cmd, env in commands]
        # A container's worker is not a child of `podman run` (conmon starts
        # it): measured is the container's own process tree.
        try:
            self.pids = container_pid(engine, container, self.alive) if container else [p.pid for p in self.procs]
        except BaseException:
            self.stop()
            raise

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def stop(self) -> list[int]:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = []
        for p in self.procs:
            try:
                codes.append(p.wait(timeout=20))
            except subprocess.TimeoutExpired:
                p.kill()
                codes.append(p.wait())
        if self.container:  # gone already (--rm) unless podman run was killed
            subprocess.run(self.engine + ["rm", "-f", "--ignore", self.container], capture_output=True, check=False)
        self.log.close()
        return codes


def container_pid(engine: list[str], name: str, alive) -> list[int]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and alive():
        done = subprocess.run(engine + ["inspect", "--format", "{{.State.Pid}}", name], capture_output=True,
                              text=True, check=False)
        if done.returncode == 0 and done.stdout.strip() not in ("", "0"):
            return [int(done.stdout.strip())]
        time.sleep(0.2)
    raise SystemExit(f"e2e: container {name} did not start")


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "count": 0}
    values = sorted(values)

    def at(q: float) -> float:
        return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))], 1)
    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "count": len(values)}


def idle_arrivals(times: dict[str, tuple[float, float]]) -> list[float]:
    """Consumer part (ms) of the events that reached Kafka while the system had
    nothing in hand: no earlier event's output was still to come. MinIO
    publishes from its queue folder in bursts (one listing every 3 s), so most
    events of a burst wait behind others; these are the system's own latency,
    without that queueing. `times`: key -> (Kafka timestamp, output time), ms."""
    events = sorted(times.values())
    idle, busy_until = [], float("-inf")
    for arrived, done in events:
        if busy_until <= arrived:
            idle.append(done - arrived)
        busy_until = max(busy_until, done)
    return idle


def backlog(system: System, files: list[dict], client: Minio, source: str, group: str,
            prefix: str) -> dict[str, dict]:
    """Uploads the corpus under `prefix` while nothing consumes, waits until every
    event is in Kafka and commits `group` at the offsets of before the uploads."""
    a = system.args
    before = end_offsets()
    keys = {f"{prefix}{f['name']}": f for f in files}
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda k: upload(client, source, k, os.path.join(a.corpus, keys[k]["name"])), keys))
    seen = event_times(before, source, set(keys), a.timeout)
    if len(seen) < len(keys):
        raise SystemExit(f"e2e: {system.name}: only {len(seen)}/{len(keys)} events reached Kafka")
    commit_group(group, before)
    return keys


def start(system: System, source: str, target: str, group: str, work: str) -> Running:
    return Running(system.commands(source, target, group, work), os.path.join(work, f"{system.name}.log"),
                   container=group if system.name == "imgpipe-image" else None, engine=system.args.engine)


def drain(system: System, running: Running, started: float, stack_before: dict[str, float],
          keys: dict[str, dict], client: Minio, target: str, work: str, prefix: str) -> dict:
    a = system.args
    cpu_before = cpu_seconds(running.pids)
    sampler = RssSampler(running.pids)
    sampler.start()
    found = wait_for_outputs(client, target, prefix, len(keys), a.timeout, running.alive)
    cpu = cpu_seconds(running.pids) - cpu_before
    stack_cpu = {n: cpu_seconds([pid]) - stack_before[n] for n, pid in stack_pids().items()}
    peak = sampler.stop()
    if len(found) < len(keys):
        raise SystemExit(f"e2e: {system.name}: {len(found)}/{len(keys)} outputs after {a.timeout} s "
                         f"(log: {work}/{system.name}.log)")
    last = max(t for t, _ in found.values())
    first = min(t for t, _ in found.values())
    n = len(keys)
    result = {
        "images": n, "drain_s": round(last - started, 3), "startup_s": round(first - started, 3),
        "images_per_s": round(n / (last - started), 2),
        "cpu_s_per_image": round(cpu / n, 4),
        "minio_cpu_s_per_image": round(stack_cpu["minio"] / n, 4) if "minio" in stack_cpu else None,
        "kafka_cpu_s_per_image": round(stack_cpu["kafka"] / n, 4) if "kafka" in stack_cpu else None,
        "peak_rss_mb": round(peak / 2**20, 1),
        "out_kib_per_image": round(sum(b for _, b in found.values()) / n / 1024, 1),
        "out_kib_by_format": out_kib_by_format(found, keys),
        "bad_outputs": check_outputs(client, target, keys),
        "larger_than_input": sorted(k for k, (_, size) in found.items() if size > keys[k]["bytes"]),
    }
    return result


ROUNDED = ("drain_s", "startup_s", "images_per_s", "cpu_s_per_image", "minio_cpu_s_per_image",
           "kafka_cpu_s_per_image")


def combine_drains(drains: list[dict]) -> dict:
    """One system's drain figures from several rounds: the median of each rate
    and cost, the highest peak RSS, every wrong or larger output of any round;
    the rounds' own rates and costs are kept under drain_rounds."""
    out = dict(drains[0])
    if len(drains) == 1:
        return out
    for field in ROUNDED:
        values = [d[field] for d in drains if d.get(field) is not None]
        out[field] = round(statistics.median(values), 4) if values else None
    out["peak_rss_mb"] = max(d["peak_rss_mb"] for d in drains)
    if "bad_outputs" in out:  # the limit rows write no outputs to check
        out["bad_outputs"] = {k: v for d in drains for k, v in d["bad_outputs"].items()}
        out["larger_than_input"] = sorted({k for d in drains for k in d["larger_than_input"]})
    out["drain_rounds"] = [{f: d.get(f) for f in ROUNDED} for d in drains]
    return out


def stack_pids() -> dict[str, int]:
    return {name: pid for name in ("minio", "kafka") if (pid := stack_pid(name))}


def out_kib_by_format(found, keys) -> dict[str, float]:
    by: dict[str, list[int]] = {}
    for key, (_, size) in found.items():
        by.setdefault(keys[key]["format"], []).append(size)
    return {fmt: round(sum(v) / len(v) / 1024, 1) for fmt, v in sorted(by.items())}


def check_outputs(client: Minio, target: str, keys: dict[str, dict]) -> dict[str, str]:
    bad = {}
    for key, entry in keys.items():
        w, h = entry["stored_width"], entry["stored_height"]
        displayed = (h, w) if entry.get("orientation", 1) in (5, 6, 7, 8) else (w, h)
        response = client.get_object(target, key)
        try:
            problem = check_output(response.read(), displayed)
        finally:
            response.close()
            response.release_conn()
        if problem:
            bad[key] = problem
    return bad


def timed_uploads(system: System, running: Running, files: list[dict], client: Minio, source: str,
                  target: str, prefix: str, rate: float, count: int):
    """Uploads `count` files under `prefix` at `rate` per second and waits for
    their outputs: (key -> PUT returned, key -> (output time, bytes), key ->
    event's Kafka timestamp in ms), times in epoch s unless said."""
    before = end_offsets()
    puts: dict[str, float] = {}
    start = time.time() + 0.5
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = {}
        for i in range(count):
            entry = files[i % len(files)]
            key = f"{prefix}{i:04d}-{entry['name']}"
            time.sleep(max(0.0, start + i / rate - time.time()))
            futures[key] = pool.submit(upload, client, source, key, os.path.join(system.args.corpus, entry["name"]))
        for key, future in futures.items():
            puts[key] = future.result()
    found = wait_for_outputs(client, target, prefix, count, system.args.timeout, running.alive)
    return puts, found, event_times(before, source, set(puts), 30)


def latency_parts(puts, found, kafka_ms):
    """(total, MinIO's part, consumer's part) in ms of the uploads whose output exists."""
    total, minio_part, consumer_part = [], [], []
    for key, put_s in puts.items():
        if key not in found:
            continue
        out_s = found[key][0]
        total.append((out_s - put_s) * 1000)
        if key in kafka_ms:
            minio_part.append(kafka_ms[key] - put_s * 1000)
            consumer_part.append(out_s * 1000 - kafka_ms[key])
    return total, minio_part, consumer_part


def steady(system: System, running: Running, files: list[dict], client: Minio, source: str,
           target: str) -> dict:
    a = system.args
    count = int(a.rate * a.steady)
    puts, found, kafka_ms = timed_uploads(system, running, files, client, source, target, "steady/", a.rate, count)
    total, minio_part, consumer_part = latency_parts(puts, found, kafka_ms)
    t, m, c = percentiles(total), percentiles(minio_part), percentiles(consumer_part)
    idle = percentiles(idle_arrivals({k: (kafka_ms[k], found[k][0] * 1000) for k in puts
                                      if k in found and k in kafka_ms}))
    return {"low_rate_uploads": count, "low_rate_outputs": len(found),
            "p50_ms": t["p50"], "p95_ms": t["p95"], "p99_ms": t["p99"],
            "low_rate_minio_p50_ms": m["p50"], "low_rate_minio_p95_ms": m["p95"],
            "low_rate_minio_p99_ms": m["p99"],
            "low_rate_consumer_p50_ms": c["p50"], "low_rate_consumer_p95_ms": c["p95"],
            "low_rate_consumer_p99_ms": c["p99"],
            "low_rate_consumer_idle_p50_ms": idle["p50"], "low_rate_consumer_idle_p95_ms": idle["p95"],
            "low_rate_idle_arrivals": idle["count"],
            "samples": {"total_ms": [round(v, 1) for v in total], "minio_ms": [round(v, 1) for v in minio_part],
                        "consumer_ms": [round(v, 1) for v in consumer_part],
                        # when each event entered Kafka, ms after the first: MinIO's delivery pattern
                        "arrivals_ms": relative(sorted(kafka_ms.values()))}}


def single(system: System, running: Running, files: list[dict], client: Minio, source: str,
           target: str) -> dict:
    """Uploads far enough apart (--single-gap s; MinIO lists its queue folder
    every 3 s) that each event finds the consumer idle and alone: its own
    latency, without waiting behind the rest of a MinIO burst."""
    a = system.args
    puts, found, kafka_ms = timed_uploads(system, running, files, client, source, target, "single/",
                                          1 / a.single_gap, a.single)
    _, minio_part, consumer_part = latency_parts(puts, found, kafka_ms)
    m, c = percentiles(minio_part), percentiles(consumer_part)
    return {"single_uploads": a.single, "single_gap_s": a.single_gap, "single_outputs": len(found),
            "single_minio_p50_ms": m["p50"],
            "single_consumer_p50_ms": c["p50"], "single_consumer_p95_ms": c["p95"]}


def relative(times: list[float]) -> list[float]:
    return [round(t - times[0], 1) for t in times] if times else []


def run_system(system: System, files: list[dict], client: Minio, stamp: str, work: str) -> dict:
    source, target = f"bench-{system.name}-{stamp}-src", f"bench-{system.name}-{stamp}-dst"
    group = f"bench-{system.name}-{stamp}"
    say(f"{system.name}: s3://{source} -> s3://{target}, group {group}")
    system.prepare(source, target, work)
    running, codes, drains, per_start = None, [], [], 1
    try:
        for r in range(system.args.drain_rounds):
            if running:  # each round starts the system on a backlog waiting in Kafka
                codes += running.stop()
                running = None
            prefix = "drain/" if r == 0 else f"drain{r + 1}/"
            keys = backlog(system, files, client, source, group, prefix)
            stack_before = {n: cpu_seconds([pid]) for n, pid in stack_pids().items()}
            started = time.time()
            running = start(system, source, target, group, work)
            per_start = len(running.procs)
            drains.append(drain(system, running, started, stack_before, keys, client, target, work, prefix))
            say(f"{system.name}: drained {drains[-1]['images']} in {drains[-1]['drain_s']} s "
                f"({drains[-1]['images_per_s']}/s, {drains[-1]['cpu_s_per_image'] * 1000:.0f} ms CPU/image)")
        result = combine_drains(drains)
        result.update(steady(system, running, files, client, source, target))
        say(f"{system.name}: low rate p50 {result['p50_ms']} ms (MinIO {result['low_rate_minio_p50_ms']}, "
            f"consumer {result['low_rate_consumer_p50_ms']})")
        if system.args.single:
            result.update(single(system, running, files, client, source, target))
            say(f"{system.name}: {system.args.single} single uploads, consumer part p50 "
                f"{result['single_consumer_p50_ms']} ms")
    finally:
        codes += running.stop() if running else []
        if not system.args.keep:
            remove_bucket(client, source)
            remove_bucket(client, target)
    result["exit_codes"] = codes
    if system.name in ("python-tutorial", "python-procs"):
        counts = process_counts(os.path.join(work, f"{system.name}.log"))
        # one list per start of the system: each drain round, the last with the low rate
        result["processes"] = [counts[i:i + per_start] for i in range(0, len(counts), per_start)]
    return {"name": system.name, **result}


def process_counts(log_path: str) -> list[dict]:
    """The counts each python_tutorial.py process printed when it stopped (whether
    the processes of python-procs shared the work)."""
    with open(log_path, encoding="utf-8", errors="replace") as log:
        return [json.loads(line) for line in log if line.startswith('{"messages"')]


def minio_delivery(args, client: Minio, stamp: str, work: str) -> dict:
    """How many events per second this MinIO node delivers to Kafka: --events
    small objects PUT 8 at a time into a bucket with the notification, then the
    span of their events' Kafka timestamps. Each upload's event passes through
    MinIO's queue folder and one synchronous Kafka request (docs/performance.md)."""
    bucket = f"bench-events-{stamp}"
    System("events", args).prepare(bucket, f"{bucket}-dst", work)
    before = end_offsets()
    minio_before = cpu_seconds([pid]) if (pid := stack_pid("minio")) else None
    keys = [f"e/{i:05d}" for i in range(args.events)]
    body = b"\xff" * 1024
    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:  # the client's pool holds 10
        list(pool.map(lambda k: client.put_object(bucket, k, io.BytesIO(body), len(body)), keys))
    puts_done = time.time()
    seen = sorted(event_times(before, bucket, set(keys), args.timeout).values())
    minio_cpu = cpu_seconds([pid]) - minio_before if minio_before is not None else None
    try:
        if len(seen) < len(keys):
            raise SystemExit(f"e2e: only {len(seen)}/{len(keys)} events of {bucket} reached Kafka")
        span = (seen[-1] - seen[0]) / 1000
        out = {"objects": len(keys), "puts_per_s": round(len(keys) / (puts_done - started), 1),
               "events_per_s": round((len(seen) - 1) / span, 1) if span > 0 else None,
               "first_event_after_first_put_s": round(seen[0] / 1000 - started, 2),
               "last_event_after_last_put_s": round(seen[-1] / 1000 - puts_done, 2),
               "minio_cpu_ms_per_object": round(minio_cpu * 1000 / len(keys), 2) if minio_cpu is not None else None}
    finally:
        remove_bucket(client, bucket)
        remove_bucket(client, f"{bucket}-dst")
    say(f"MinIO event delivery: {out['objects']} PUTs at {out['puts_per_s']}/s, events into Kafka at "
        f"{out['events_per_s']}/s, the last {out['last_event_after_last_put_s']} s after the last PUT")
    return out


def curl_cpu_s(config: str) -> float:
    """CPU seconds of one curl process running the requests of `config` (one
    connection, reused, as a worker's libcurl handle pool keeps it)."""
    region = ENV.get("IMGPIPE_S3_REGION", "us-east-1")
    user = f"{ENV['IMGPIPE_S3_ACCESS_KEY']}:{ENV['IMGPIPE_S3_SECRET_KEY']}"
    # --fail: an error reply (403, 404) is a failed run, not a cheap request.
    with subprocess.Popen(["curl", "-sS", "--fail", "--fail-early", "--aws-sigv4", f"aws:amz:{region}:s3",
                           "--user", user, "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-K", config],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        errors = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0 or errors.strip():
        raise SystemExit(f"e2e: curl failed ({proc.returncode}): {errors[-400:]}")
    return usage.ru_utime + usage.ru_stime


def s3_client_floor(args, files: list[dict], client: Minio, stamp: str, out_kib: float) -> dict:
    """What imgpipe's S3 requests for one photo cost a libcurl client: the CPU
    of curl for a GET of a corpus photo, a PUT of an output of `out_kib` and a
    HEAD, each over an evenly spread sample of --s3-floor photos (at least 2),
    three times; the medians. A consumer making these requests through libcurl
    spends at least their sum."""
    wanted = min(len(files), max(2, args.s3_floor))
    sample = [files[i * len(files) // wanted] for i in range(wanted)]  # spread over the mix
    bucket = f"bench-floor-{stamp}"
    client.make_bucket(bucket)
    endpoint = ENV["IMGPIPE_S3_ENDPOINT"].rstrip("/")
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda f: upload(client, bucket, f["name"], os.path.join(args.corpus, f["name"])), sample))
        with tempfile.TemporaryDirectory(prefix="imgpipe-floor-") as folder:
            body = os.path.join(folder, "output")
            with open(body, "wb") as f:
                f.write(os.urandom(int(out_kib * 1024)))
            lines = {
                "get": [f'url = "{endpoint}/{bucket}/{f["name"]}"\noutput = "/dev/null"' for f in sample],
                "put": [f'url = "{endpoint}/{bucket}/out/{f["name"]}"\nupload-file = "{body}"\noutput = "/dev/null"'
                        for f in sample],
                "head": [f'url = "{endpoint}/{bucket}/{f["name"]}"\nhead\noutput = "/dev/null"' for f in sample]}
            ms = {}
            for kind, entries in lines.items():
                # The first request alone, subtracted: curl's own start is no request's cost.
                configs = []
                for name, chosen in ((f"{kind}.cfg", entries), (f"{kind}-first.cfg", entries[:1])):
                    configs.append(os.path.join(folder, name))
                    with open(configs[-1], "w", encoding="utf-8") as f:
                        f.write("\n".join(chosen) + "\n")
                runs = [(curl_cpu_s(configs[0]) - curl_cpu_s(configs[1])) * 1000 / (len(sample) - 1)
                        for _ in range(3)]
                ms[f"{kind}_ms"] = round(max(0.0, statistics.median(runs)), 3)  # a difference: noise can undershoot
    finally:
        remove_bucket(client, bucket)
    out = {"photos": len(sample), "mean_photo_mib": round(sum(f["bytes"] for f in sample) / len(sample) / 2**20, 2),
           "put_kib": round(out_kib, 1), **ms}
    out["per_photo_ms"] = round(ms["get_ms"] + ms["put_ms"] + ms["head_ms"], 3)
    say(f"S3 client floor: GET {ms['get_ms']} + PUT {ms['put_ms']} + HEAD {ms['head_ms']} ms of curl's CPU per photo")
    return out


def limit_buckets(args, files: list[dict], client: Minio, stamp: str) -> tuple[str, str]:
    """The buckets of bench_limit --via-s3, for both limit rows: the corpus
    (uploaded here, without a notification) and one for the outputs."""
    source, target = f"bench-limit-{stamp}-src", f"bench-limit-{stamp}-dst"
    try:
        for bucket in (source, target):
            client.make_bucket(bucket)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda f: upload(client, source, f["name"], os.path.join(args.corpus, f["name"])), files))
    except BaseException:
        for bucket in (source, target):
            remove_bucket(client, bucket)
        raise
    return source, target


def run_limit(args, name: str, buckets: tuple[str, str]) -> dict:
    """bench_limit of the host build (limit) or of the image's build stage
    (limit-image), once per drain round; each run followed by imgpipe's own
    render() on the same bytes (--via-render) and by the thinnest S3 consumer
    (--via-s3: GET from buckets[0], the same libvips calls, PUT to buckets[1];
    no Kafka)."""

    def once(extra: list[str]) -> dict:
        cmd = [args.limit, args.corpus]
        if name == "limit-image":
            # Only the S3 run needs the network; its settings travel by name (-e NAME).
            network = ["--network", "none"]
            if "--via-s3" in extra:
                network = ["--network", "host"] + [a for n in ENV if n.startswith("IMGPIPE_S3_") for a in ("-e", n)]
            cmd = args.engine + ["run", "--rm", *network, "-v", f"{args.corpus}:/corpus:ro", args.build_image,
                                 "/src/build/bench/limit/bench_limit", "/corpus"]
        done = subprocess.run(cmd + ["--threads", str(args.cores)] + extra, capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            raise SystemExit(f"e2e: {name} {' '.join(extra)} failed: {done.stderr[-400:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    runs, renders, via_s3 = [], [], []
    for _ in range(args.drain_rounds):
        out = once([])
        say(f"{name}: {out['images_per_s']:.1f}/s, {out['cpu_s_per_image'] * 1000:.0f} ms CPU/image")
        runs.append({"images": out["images"], "images_per_s": round(out["images_per_s"], 2),
                     "cpu_s_per_image": round(out["cpu_s_per_image"], 4), "peak_rss_mb": out["peak_rss_mb"],
                     "out_kib_per_image": out["out_kib_per_image"]})
        # imgpipe's own render() on the same corpus in memory, right after: what
        # it costs above the libvips calls, without Kafka, S3 or the stack.
        rendered = once(["--via-render"])
        say(f"{name} --via-render: {rendered['cpu_s_per_image'] * 1000:.0f} ms CPU/image")
        renders.append(rendered["cpu_s_per_image"])
        # The same libvips calls between a GET and a PUT of the same store, the
        # stack beside them: what any libvips consumer of this store pays.
        fetched = once(["--via-s3", *buckets])
        say(f"{name} --via-s3: {fetched['images_per_s']:.1f}/s, {fetched['cpu_s_per_image'] * 1000:.0f} ms CPU/image")
        via_s3.append(fetched["cpu_s_per_image"])
    return {"name": name, **combine_drains(runs), "libvips": out["libvips"],
            "shrink_on_load": out.get("shrink_on_load", "conservative"),
            "render_cpu_s_per_image": round(statistics.median(renders), 4),
            "render_rounds": [round(r, 4) for r in renders],
            "s3_cpu_s_per_image": round(statistics.median(via_s3), 4),
            "s3_rounds": [round(r, 4) for r in via_s3],
            "note": "corpus in memory: peak RSS includes it"}


def machine(args) -> dict:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo", encoding="ascii")
                  if line.startswith("model name")), "?")
    mem = next(int(line.split()[1]) for line in open("/proc/meminfo", encoding="ascii")
               if line.startswith("MemTotal"))
    os_name = next((line.split("=", 1)[1].strip().strip('"') for line in open("/etc/os-release", encoding="utf-8")
                    if line.startswith("PRETTY_NAME=")), "?")
    return {"cpu": model, "cores": args.cores, "mem_gib": round(mem / 2**20, 1), "os": os_name,
            "kernel": platform.release(), "load_before": os.getloadavg()[0]}


def positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text}: must be more than 0")
    return value


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, help="folder made by make_camera_corpus.py")
    parser.add_argument("--imgpipe", required=True)
    parser.add_argument("--limit", required=True, help="bench_limit")
    parser.add_argument("--node-dir", default="", help="where npm ci installed the node peer's modules")
    parser.add_argument("--systems", default="imgpipe,imgpipe-image,python-tutorial,python-procs,node-sharp,limit,limit-image")
    parser.add_argument("--image", default="", help="the worker's container image (imgpipe-image)")
    parser.add_argument("--engine", default="podman", help="container engine command line (scripts/image.sh engine)")
    parser.add_argument("--build-image", default="",
                        help="the image's build stage, whose bench_limit makes the limit-image row")
    parser.add_argument("--rate", type=float, default=2.0, help="uploads/s of the steady phase")
    parser.add_argument("--steady", type=float, default=60.0, help="seconds of the steady phase")
    parser.add_argument("--single", type=int, default=10, help="uploads of the single-upload phase (0: skip)")
    parser.add_argument("--drain-rounds", type=int, default=1, choices=range(1, 10), metavar="1-9",
                        help="drains per system (limit rows: runs); the results give the median of each figure")
    parser.add_argument("--single-gap", type=positive, default=4.0, help="seconds between single uploads")
    parser.add_argument("--timeout", type=float, default=600.0, help="longest wait for a phase's outputs")
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--keep", action="store_true", help="keep the buckets")
    parser.add_argument("--events", type=int, default=0,
                        help="measure MinIO's event delivery with this many small uploads first (0: not)")
    parser.add_argument("--s3-floor", type=int, default=60, metavar="PHOTOS",
                        help="measure what a photo's GET, PUT and HEAD cost an S3 client over this many (0: not)")
    parser.add_argument("--imgpipe-setting", action="append", default=[], metavar="IMGPIPE_NAME=VALUE",
                        help="a setting for both imgpipe rows, for tuning runs (the results use the defaults)")
    parser.add_argument("--json", required=True)
    args = parser.parse_args(argv)
    args.imgpipe_setting = dict(setting.split("=", 1) for setting in args.imgpipe_setting)
    if any(not name.startswith("IMGPIPE_") for name in args.imgpipe_setting):
        parser.error("--imgpipe-setting takes IMGPIPE_NAME=VALUE")
    args.peers = os.path.dirname(os.path.abspath(__file__))
    args.engine = args.engine.split()
    manifest = json.load(open(os.path.join(args.corpus, "manifest.json"), encoding="utf-8"))
    files = manifest["files"]
    client = s3_client()
    stamp = time.strftime("%Y%m%d%H%M%S") + f"-{os.getpid()}"
    result = {"machine": machine(args), "corpus": manifest["summary"],
              "job": "fit 1024x1024, auto-orient, sRGB, strip, JPEG q85",
              "settings": {"rate_per_s": args.rate, "steady_s": args.steady, "drain_rounds": args.drain_rounds},
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "systems": []}
    result["topic_partitions"] = ensure_partitions(args.cores)
    work = tempfile.mkdtemp(prefix="imgpipe-e2e-")  # the systems' logs; kept when a system fails
    buckets = None  # bench_limit --via-s3's, made for the first limit row
    try:
        for name in args.systems.split(","):
            if name in ("limit", "limit-image"):
                buckets = buckets or limit_buckets(args, files, client, stamp)
                result["systems"].append(run_limit(args, name, buckets))
            else:
                result["systems"].append(run_system(System(name, args), files, client, stamp, work))
            with open(args.json, "w", encoding="utf-8") as f:  # partial results survive a later failure
                json.dump(result, f, indent=1)
    finally:
        for bucket in buckets if buckets and not args.keep else ():
            remove_bucket(client, bucket)
    if args.s3_floor > 0 and len(files) > 1:
        written = [s["out_kib_per_image"] for s in result["systems"]
                   if s["name"].startswith("imgpipe") and s.get("out_kib_per_image")]
        result["s3_client_floor"] = s3_client_floor(args, files, client, stamp, written[0] if written else 100.0)
    # Last: measured first, it left the next system's first output 11-12 s
    # late (two runs of 2026-12-07; without it 0.3 s).
    if args.events:
        result["minio_event_delivery"] = minio_delivery(args, client, stamp, work)
    if not args.keep:
        shutil.rmtree(work)
    result["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
