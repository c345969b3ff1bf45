"""Parallel uploads that record every acknowledged PUT with its ETag.

Operations on one key always run in order on one thread (the key picks the
thread), so "the last acknowledged PUT of a key" is well defined. boto3 does
not retry: a PUT either answered 200 (acknowledged) or it did not.
"""

from __future__ import annotations

import threading
import time
import urllib.request
import zlib
from dataclasses import dataclass

import boto3
from botocore.config import Config

from .corpus import Photo


def s3_client(env: dict, timeout_s: float = 10.0):
    config = Config(
        s3={"addressing_style": "path"}, signature_version="s3v4",
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=3, read_timeout=timeout_s, max_pool_connections=32,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required")
    return boto3.session.Session().client(
        "s3", endpoint_url=env["IMGPIPE_S3_ENDPOINT"], region_name=env["IMGPIPE_S3_REGION"],
        aws_access_key_id=env["IMGPIPE_S3_ACCESS_KEY"],
        aws_secret_access_key=env["IMGPIPE_S3_SECRET_KEY"], config=config)


@dataclass(frozen=True)
class Op:
    """Upload `photo` under `key` after sleeping `delay_s`; delete it right after when `delete`."""

    key: str
    photo: Photo
    delay_s: float = 0.0
    delete: bool = False


@dataclass
class Put:
    key: str
    md5: str
    acked: bool
    etag: str
    started: float
    error: str = ""


class Ledger:
    """Every PUT attempt, thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self.puts: list[Put] = []
        self.photos_by_md5: dict[str, Photo] = {}
        self.deleted: set[str] = set()

    def add(self, put: Put, photo: Photo) -> None:
        with self._lock:
            self.puts.append(put)
            self.photos_by_md5[photo.md5] = photo

    def mark_deleted(self, key: str) -> None:
        with self._lock:
            self.deleted.add(key)

    def acked_count(self) -> int:
        with self._lock:
            return sum(1 for p in self.puts if p.acked)

    def last_acked(self) -> dict[str, Put]:
        with self._lock:
            last = {}
            for put in self.puts:
                if put.acked:
                    last[put.key] = put
            return last

    def attempted(self) -> int:
        with self._lock:
            return len(self.puts)


class RateLimit:
    def __init__(self, per_second: float):
        self._interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(self._next, now)
            self._next = slot + self._interval
            delay = slot - now
        if delay > 0:
            time.sleep(delay)


class ReadinessGate:
    """What a load balancer (a Kubernetes Service with MinIO's readiness probe on
    /minio/health/cluster) does for its clients: no request reaches MinIO while
    it is not ready. After a restart MinIO serves S3 before it has loaded the
    buckets' notification rules, and uploads in that window produce no event;
    the cluster check answers 503 until the rules are loaded."""

    def __init__(self, endpoint: str, fresh_s: float = 0.05):
        self.url = endpoint.rstrip("/") + "/minio/health/cluster"
        self.fresh_s = fresh_s
        self._lock = threading.Lock()
        self._open_until = 0.0

    def wait(self, stop: threading.Event) -> None:
        while not stop.is_set():
            with self._lock:
                if time.monotonic() < self._open_until:
                    return
                if self._ready():
                    self._open_until = time.monotonic() + self.fresh_s
                    return
            time.sleep(0.05)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url, timeout=0.5) as response:
                return response.status == 200
        except Exception:  # noqa: BLE001 - refused, 503, timeout: not ready
            return False


class Uploader:
    """Runs a list of Ops on `threads` threads in the background."""

    def __init__(self, env: dict, bucket: str, ledger: Ledger, threads: int = 6,
                 rate: float = 0.0, retry_for_s: float = 90.0,
                 gate: ReadinessGate | None = None):
        self.env = env
        self.bucket = bucket
        self.ledger = ledger
        self.threads = threads
        self.rate = RateLimit(rate)
        self.retry_for_s = retry_for_s
        self.gate = gate
        self._workers: list[threading.Thread] = []
        self._stop = threading.Event()

    def start(self, ops: list[Op]) -> None:
        lanes: list[list[Op]] = [[] for _ in range(self.threads)]
        for op in ops:
            lanes[zlib.crc32(op.key.encode()) % self.threads].append(op)
        for lane in lanes:
            thread = threading.Thread(target=self._run_lane, args=(lane,), daemon=True)
            thread.start()
            self._workers.append(thread)

    def run(self, ops: list[Op], timeout_s: float) -> None:
        self.start(ops)
        self.join(timeout_s)

    def join(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        for thread in self._workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        done = not any(t.is_alive() for t in self._workers)
        if not done:
            self._stop.set()
        return done

    def busy(self) -> bool:
        return any(t.is_alive() for t in self._workers)

    def _run_lane(self, lane: list[Op]) -> None:
        client = s3_client(self.env)
        for op in lane:
            if self._stop.is_set():
                return
            if op.delay_s:
                time.sleep(op.delay_s)
            put = self._put_until_acked(client, op)
            if op.delete and put.acked:
                self._delete(client, op.key)

    def _put_until_acked(self, client, op: Op) -> Put:
        """Like a real client: a failed PUT is tried again (each attempt recorded) for a while."""
        deadline = time.monotonic() + self.retry_for_s
        while True:
            self.rate.wait()
            if self.gate is not None:
                self.gate.wait(self._stop)
            put = self._put(client, op)
            if put.acked or time.monotonic() > deadline or self._stop.is_set():
                return put
            time.sleep(1.0)

    def _put(self, client, op: Op) -> Put:
        started = time.time()
        try:
            response = client.put_object(Bucket=self.bucket, Key=op.key, Body=op.photo.body,
                                         ContentType=op.photo.content_type)
            status = response["ResponseMetadata"]["HTTPStatusCode"]
            put = Put(op.key, op.photo.md5, status == 200, response.get("ETag", "").strip('"'),
                      started, "" if status == 200 else f"HTTP {status}")
        except Exception as error:  # noqa: BLE001 - any failure means "not acknowledged"
            put = Put(op.key, op.photo.md5, False, "", started, f"{type(error).__name__}: {error}")
        self.ledger.add(put, op.photo)
        return put

    def _delete(self, client, key: str) -> None:
        try:
            client.delete_object(Bucket=self.bucket, Key=key)
            self.ledger.mark_deleted(key)
        except Exception:  # noqa: BLE001 - a failed delete leaves the object: it is then expected
            pass
