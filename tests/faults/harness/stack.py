"""The suite's private Kafka + MinIO, driven through scripts/stack/stack.sh.

It never touches the default ports or .stack: STACK_DIR and the four ports are
always set explicitly for every stack.sh call.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class StackConfig:
    repo: str
    stack_dir: str
    kafka_port: int
    kafka_controller_port: int
    minio_port: int
    minio_console_port: int


def _pid_alive(pid: int, pattern: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return pattern in cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False


class Stack:
    def __init__(self, config: StackConfig, log_path: str):
        self.config = config
        self.log_path = log_path
        self.minio_paused = False
        self._script = os.path.join(config.repo, "scripts/stack/stack.sh")

    # ------------------------------------------------------------ stack.sh

    def _env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "STACK_DIR": self.config.stack_dir,
            "KAFKA_PORT": str(self.config.kafka_port),
            "KAFKA_CONTROLLER_PORT": str(self.config.kafka_controller_port),
            "MINIO_PORT": str(self.config.minio_port),
            "MINIO_CONSOLE_PORT": str(self.config.minio_console_port),
            # A loaded 2-core machine can take longer than stack.sh's 60 s default.
            "STACK_START_TIMEOUT": os.environ.get("STACK_START_TIMEOUT", "180"),
        })
        return env

    def _run(self, command: str, timeout_s: float = 600) -> None:
        with open(self.log_path, "ab") as log:
            log.write(f"--- stack.sh {command}\n".encode())
            log.flush()
            result = subprocess.run([self._script, command], env=self._env(), stdout=log,
                                    stderr=subprocess.STDOUT, timeout=timeout_s, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"stack.sh {command} failed (rc {result.returncode}); see {self.log_path}")

    def up(self) -> None:
        self._run("up")

    def kafka_up(self) -> None:
        self._run("kafka-up")

    def down(self) -> None:
        if self.minio_paused:
            self.resume_minio()
        self._run("down", timeout_s=120)

    def client_env(self) -> dict:
        """The variables stack.sh wrote to $STACK_DIR/env."""
        values = {}
        with open(os.path.join(self.config.stack_dir, "env"), encoding="utf-8") as env_file:
            for line in env_file:
                line = line.strip()
                if line.startswith("export "):
                    name, _, value = line[len("export "):].partition("=")
                    values[name] = " ".join(shlex.split(value))
        return values

    # ------------------------------------------------------------ processes

    def _pid(self, service: str) -> int | None:
        pidfile = os.path.join(self.config.stack_dir, service, f"{service}.pid")
        pattern = {
            "kafka": f"kafka.Kafka {self.config.stack_dir}/kafka/server.properties",
            "minio": f" server {self.config.stack_dir}/minio/data ",
        }[service]
        try:
            with open(pidfile, encoding="utf-8") as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        return pid if _pid_alive(pid, pattern) else None

    def _kill9(self, service: str) -> None:
        pid = self._pid(service)
        if pid is None:
            raise RuntimeError(f"{service} is not running")
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.1)

    def kill_kafka(self) -> None:
        self._kill9("kafka")

    def kill_minio(self) -> None:
        self._kill9("minio")

    def pause_minio(self) -> None:
        pid = self._pid("minio")
        if pid is None:
            raise RuntimeError("minio is not running")
        os.kill(pid, signal.SIGSTOP)
        self.minio_paused = True

    def resume_minio(self) -> None:
        pid = self._pid("minio")
        if pid is not None:
            os.kill(pid, signal.SIGCONT)
        self.minio_paused = False
