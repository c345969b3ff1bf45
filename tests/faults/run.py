#!/usr/bin/env python3
"""imgpipe fault suite: `make test-faults` (full) and `make test-faults-short`.

Starts a private Kafka + MinIO (scripts/stack/stack.sh with its own STACK_DIR
and ports), runs each scenario against `imgpipe run` workers, writes
<results>/faults.md and faults.json and exits 1 when any scenario failed.
See tests/faults/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import subprocess
import sys
import time
import traceback

from harness import corpus, procs, report, scenarios
from harness.scenario import FULL, SHORT, ScenarioRun, Suite
from harness.stack import Stack, StackConfig

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def parse_args() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="about 100 uploads per scenario")
    parser.add_argument("--uploads", type=int, help="override the uploads per scenario")
    parser.add_argument("--only", default="", help="comma-separated scenario numbers, e.g. 1,5")
    parser.add_argument("--seed", type=int, default=int(env("FAULTS_SEED", "1337")))
    parser.add_argument("--binary", default=os.path.join(REPO, "build/src/cli/imgpipe"))
    parser.add_argument("--results", default=os.path.join(REPO, "test-results"))
    parser.add_argument("--cache", default=env("IMGPIPE_CACHE", os.path.expanduser("~/.cache/imgpipe")))
    parser.add_argument("--stack-dir", default=env("FAULTS_STACK_DIR", os.path.join(REPO, ".stack-faults")))
    parser.add_argument("--kafka-port", type=int, default=int(env("FAULTS_KAFKA_PORT", "19092")))
    parser.add_argument("--kafka-controller-port", type=int,
                        default=int(env("FAULTS_KAFKA_CONTROLLER_PORT", "19093")))
    parser.add_argument("--minio-port", type=int, default=int(env("FAULTS_MINIO_PORT", "19000")))
    parser.add_argument("--minio-console-port", type=int,
                        default=int(env("FAULTS_MINIO_CONSOLE_PORT", "19001")))
    parser.add_argument("--keep-stack", action="store_true", help="leave the stack running at the end")
    return parser.parse_args()


def check_isolation(args: argparse.Namespace) -> None:
    ports = {args.kafka_port, args.kafka_controller_port, args.minio_port, args.minio_console_port}
    if ports & {9092, 9093, 9000, 9001} or len(ports) != 4:
        sys.exit("faults: the suite's ports must be four distinct ports other than 9092/9093/9000/9001")
    if os.path.realpath(args.stack_dir) == os.path.realpath(os.path.join(REPO, ".stack")):
        sys.exit("faults: the suite needs its own STACK_DIR, not .stack")


def commit() -> str:
    result = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False)
    return result.stdout.strip() or "unknown"


def run_one(suite: Suite, index: int, name: str, function, settings: dict) -> dict:
    print(f"faults: [{name}] starting", flush=True)
    run = ScenarioRun(suite, index, name, settings)
    try:
        function(run)
        row = run.finish()
    except Exception as error:  # noqa: BLE001 - one broken scenario must not hide the others
        traceback.print_exc()
        procs.kill_all()
        if suite.stack.minio_paused:
            suite.stack.resume_minio()
        row = {"name": name, "error": f"{type(error).__name__}: {error}", "checks": run.checks}
    row["problems"] = report.verdict(row)
    status = "pass" if not row["problems"] else "FAIL: " + "; ".join(row["problems"])
    print(f"faults: [{name}] {status} ({row.get('wall_s', 0):.0f}s)", flush=True)
    return row


def start_suite(stack: Stack, rows: list, args, photos, scale, run_id: str, out_dir: str):
    """The shared Suite once the stack is up; None (and an error row) when it cannot start."""
    try:
        stack.up()
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        rows.append({"name": "stack", "error": str(error), "problems": [f"stack: {error}"]})
        print(f"faults: the stack did not start: {error}", file=sys.stderr, flush=True)
        return None
    return Suite(REPO, args.binary, stack, photos, scale, args.seed, run_id, out_dir,
                 stack.client_env())


def selected(only: str) -> list[tuple[int, str, object, dict]]:
    wanted = {int(n) for n in only.split(",") if n.strip()}
    return [(i + 1, name, fn, settings) for i, (name, fn, settings) in enumerate(scenarios.ALL)
            if not wanted or i + 1 in wanted]


def main() -> int:
    args = parse_args()
    check_isolation(args)
    scale = SHORT if args.short else FULL
    if args.uploads:
        scale = dataclasses.replace(scale, uploads=args.uploads)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run_id = time.strftime("%H%M%S")
    out_dir = os.path.join(args.results, "faults", f"{scale.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(out_dir, exist_ok=True)
    stack = Stack(StackConfig(REPO, args.stack_dir, args.kafka_port, args.kafka_controller_port,
                              args.minio_port, args.minio_console_port),
                  os.path.join(out_dir, "stack.log"))
    started, wall = time.strftime("%Y-%m-%d %H:%M:%S"), time.monotonic()
    rows: list[dict] = []
    try:
        print(f"faults: {scale.name} suite, results in {out_dir}", flush=True)
        photos = corpus.load(os.path.join(args.cache, "faults-corpus"), seed=args.seed)
        suite = start_suite(stack, rows, args, photos, scale, run_id, out_dir)
        for index, name, function, settings in selected(args.only) if suite else []:
            rows.append(run_one(suite, index, name, function, settings))
    finally:
        procs.kill_all()
        if not args.keep_stack:
            try:
                stack.down()
            except Exception as error:  # noqa: BLE001 - report, but keep the results
                print(f"faults: stopping the stack failed: {error}", file=sys.stderr)
    passed = sum(1 for row in rows if not row["problems"])
    meta = {"scale": scale.name, "seed": args.seed, "started": started, "commit": commit(),
            "binary": os.path.abspath(args.binary),
            "wall_s": round(time.monotonic() - wall, 1), "passed": passed}
    report.write(rows, meta, args.results)
    report.write(rows, meta, out_dir)
    print(f"faults: {passed}/{len(rows)} scenarios passed; see {args.results}/faults.md", flush=True)
    return 0 if rows and passed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
