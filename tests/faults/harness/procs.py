"""Worker processes (`imgpipe run`) and the fleet that tracks their exits.

Every process started here is registered, so kill_all() can end them on any
exit path of the harness (exception, Ctrl-C, normal end).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

_REGISTRY: list[subprocess.Popen] = []
_REGISTRY_LOCK = threading.Lock()


def register(proc: subprocess.Popen) -> None:
    with _REGISTRY_LOCK:
        _REGISTRY.append(proc)


def kill_all() -> None:
    """SIGCONT then SIGKILL every registered process that is still running."""
    with _REGISTRY_LOCK:
        procs = list(_REGISTRY)
    for proc in procs:
        if proc.poll() is None:
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.kill(proc.pid, sig)
                except ProcessLookupError:
                    pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


def describe_exit(rc: int) -> str:
    if rc < 0:
        return f"killed by {signal.Signals(-rc).name}"
    return f"exit {rc}"


@dataclass
class Crash:
    worker: str
    what: str
    at_s: float


@dataclass
class FleetRecord:
    """What the scenario reports about its processes."""

    crashes: list[Crash] = field(default_factory=list)
    exit_times: list[float] = field(default_factory=list)
    kills: int = 0
    terms: int = 0


class Worker:
    """One `imgpipe run` process slot; restarts append to the same log file."""

    def __init__(self, name: str, binary: str, env: dict, log_path: str, port: int):
        self.name = name
        self.binary = binary
        self.env = env
        self.log_path = log_path
        self.port = port
        self.proc: subprocess.Popen | None = None
        self.expected_exit = False
        self.stopped = False

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "run"], env=self.env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True)
        register(self.proc)
        self.expected_exit = False
        self.stopped = False

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.running():
            os.kill(self.proc.pid, sig)

    def kill9(self) -> None:
        self.expected_exit = True
        self.signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def pause(self) -> None:
        self.signal(signal.SIGSTOP)
        self.stopped = True

    def resume(self) -> None:
        self.signal(signal.SIGCONT)
        self.stopped = False

    def terminate(self, timeout_s: float) -> tuple[float, int | None]:
        """SIGTERM, wait up to timeout_s: (seconds to exit, rc or None when it hung and was killed)."""
        self.expected_exit = True
        if self.stopped:
            self.resume()
        start = time.monotonic()
        self.signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
            return time.monotonic() - start, None
        return time.monotonic() - start, rc

    def readyz(self, timeout_s: float = 2.0) -> str:
        """The /readyz status code as text, or 'timeout' / 'refused'."""
        url = f"http://127.0.0.1:{self.port}/readyz"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                return str(response.status)
        except urllib.error.HTTPError as error:
            return str(error.code)
        except (TimeoutError, OSError) as error:
            return "timeout" if "timed out" in str(error) else "refused"

    def ready(self) -> bool:
        return self.readyz() == "200"


class Fleet:
    """The workers of one scenario; notices exits the harness did not cause."""

    def __init__(self, make_worker, start_time: float):
        self._make_worker = make_worker
        self.start_time = start_time
        self.workers: dict[str, Worker] = {}
        self.record = FleetRecord()

    def _now(self) -> float:
        return time.monotonic() - self.start_time

    def start(self, name: str) -> Worker:
        worker = self.workers.get(name) or self._make_worker(name)
        self.workers[name] = worker
        worker.start()
        return worker

    def running(self) -> list[Worker]:
        return [w for w in self.workers.values() if w.running()]

    def poll(self) -> None:
        """Records (and restarts) every worker that exited on its own."""
        for worker in self.workers.values():
            if worker.proc is None or worker.expected_exit:
                continue
            rc = worker.proc.poll()
            if rc is not None:
                self.record.crashes.append(Crash(worker.name, describe_exit(rc), self._now()))
                worker.start()

    def kill9(self, worker: Worker) -> None:
        self.poll()
        worker.kill9()
        self.record.kills += 1

    def terminate(self, worker: Worker, timeout_s: float) -> float:
        self.poll()
        seconds, rc = worker.terminate(timeout_s)
        self.record.terms += 1
        self.record.exit_times.append(seconds)
        if rc is None:
            self.record.crashes.append(
                Crash(worker.name, f"still running {timeout_s:.0f}s after SIGTERM (killed)", self._now()))
        elif rc != 0:
            self.record.crashes.append(
                Crash(worker.name, f"{describe_exit(rc)} after SIGTERM", self._now()))
        return seconds

    def terminate_all(self, timeout_s: float) -> None:
        for worker in self.running():
            self.terminate(worker, timeout_s)

    def wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.poll()
            if all(w.ready() for w in self.running()):
                return True
            time.sleep(0.5)
        return False
