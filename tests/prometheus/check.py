#!/usr/bin/env python3
"""Every PromQL expression of the Grafana dashboard and the Prometheus rules, checked.

1. Syntax: all of them go through `promtool check rules` (as recording rules).
2. Against the real thing: a worker runs on the local stack (source .stack/env) with a
   short real workload (photos and one broken upload, which is dead-lettered); a real
   Prometheus (the local stack's, started with scripts/stack/stack.sh prometheus-up in a
   folder of its own) scrapes it every second and evaluates deploy/prometheus/imgpipe-rules.yaml.
   Every expression must then evaluate without error, every metric it names must exist
   (exported by the worker, or recorded by a rule), every dashboard panel and recording
   rule must return series unless a labelled family it reads had no sample in this
   workload (then it is listed), and ImgpipeDeadLetters must be firing.

Usage: check.py --binary build/src/cli/imgpipe   (make test-prometheus)
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import boto3
from botocore.config import Config
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "faults"))
from harness import kafka_io  # noqa: E402  (the fault suite's Kafka helpers)

RULES = ROOT / "deploy" / "prometheus" / "imgpipe-rules.yaml"
STACK_SH = str(ROOT / "scripts" / "stack" / "stack.sh")
DASHBOARD = ROOT / "deploy" / "grafana" / "imgpipe.json"
NAME = re.compile(r"\b((?:imgpipe|process)[a-zA-Z0-9_:]*)")
PHOTOS = 20


def panel_expressions() -> list[tuple[str, str, str]]:
    """("panel", where, expr) of every dashboard target, with $job matching every job."""
    found = []
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$job", ".*")
            found.append(("panel", f"panel '{panel['title']}'", expr))
    return found


def rule_expressions(prometheus: str) -> list[tuple[str, str, str]]:
    """(record|alert, where, expr) of every rule, as the running Prometheus loaded them."""
    groups = json.loads(http_text(f"{prometheus}/api/v1/rules"))["data"]["groups"]
    kinds = {"recording": "record", "alerting": "alert"}
    return [(kinds[rule["type"]], f"{kinds[rule['type']]} {rule['name']}", rule["query"])
            for group in groups for rule in group["rules"]]


def check_syntax(panels: list[tuple[str, str, str]]) -> None:
    """The rules file, and each panel's expression as a recording rule, through promtool."""
    rules = {"groups": [{"name": "syntax", "rules": [
        {"record": f"check:expr_{i}", "expr": expr} for i, (_, _, expr) in enumerate(panels)]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as file:
        json.dump(rules, file)  # JSON is YAML
    result = subprocess.run(["promtool", "check", "rules", str(RULES), file.name],
                            capture_output=True, text=True)
    os.unlink(file.name)
    if result.returncode != 0:
        sys.exit(f"promtool rejects an expression:\n{result.stdout}{result.stderr}")
    print(f"syntax: the rules and {len(panels)} panel expressions parse")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit(f"timed out waiting for {what}")


def http_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def query(prometheus: str, expr: str) -> dict:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        return json.loads(http_text(url))
    except urllib.error.HTTPError as error:  # 400 for a bad query: the body says why
        return json.loads(error.read().decode())


def jpeg(seed: int) -> bytes:
    image = Image.effect_noise((320, 240), 40 + seed).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    args = parser.parse_args()
    panels = panel_expressions()
    check_syntax(panels)

    env = dict(os.environ)
    run_id = uuid.uuid4().hex[:6]
    source, target = f"raw-prom-{run_id}", f"processed-prom-{run_id}"
    worker_port, prometheus_port = free_port(), free_port()
    work = Path(tempfile.mkdtemp(prefix="imgpipe-prometheus-"))
    env.update({"IMGPIPE_SOURCE_BUCKET": source, "IMGPIPE_TARGET_BUCKET": target,
                "IMGPIPE_KAFKA_GROUP": f"imgpipe-prom-{run_id}", "IMGPIPE_WORKERS": "2",
                "IMGPIPE_HTTP_LISTEN": f"127.0.0.1:{worker_port}",
                # The dead-letter topic's record count every second, not every 30.
                "IMGPIPE_METRICS_DLQ_INTERVAL_MS": "1000"})
    subprocess.run([args.binary, "setup"], env=env, check=True, capture_output=True)
    kafka_io.start_group_at_end(env["IMGPIPE_KAFKA_BROKERS"], env["IMGPIPE_KAFKA_GROUP"],
                                env["IMGPIPE_KAFKA_TOPIC"])

    # The stack's own Prometheus service (STACK_PROMETHEUS=1), in a folder of this run's,
    # scraping this worker every second.
    prometheus_env = dict(env, STACK_DIR=str(work), PROMETHEUS_PORT=str(prometheus_port),
                          PROMETHEUS_TARGETS=f"127.0.0.1:{worker_port}",
                          PROMETHEUS_SCRAPE_INTERVAL="1s")
    processes = []
    try:
        with open(work / "worker.log", "w") as log:
            processes.append(subprocess.Popen([args.binary, "run"], env=env, stderr=log))
        subprocess.run([STACK_SH, "prometheus-up"], env=prometheus_env, check=True)
        worker = f"http://127.0.0.1:{worker_port}"
        prometheus = f"http://127.0.0.1:{prometheus_port}"
        wait_for("the worker's /readyz", lambda: "ready" in http_text(f"{worker}/readyz"), 60)
        wait_for("Prometheus", lambda: "Ready" in http_text(f"{prometheus}/-/ready"), 60)
        # The series must be seen at 0 before the work, or increase() misses the first step.
        wait_for("a first scrape", lambda: query(prometheus, 'up{job="imgpipe"} == 1')["data"]["result"], 30)

        s3 = boto3.client("s3", endpoint_url=env["IMGPIPE_S3_ENDPOINT"],
                          aws_access_key_id=env["IMGPIPE_S3_ACCESS_KEY"],
                          aws_secret_access_key=env["IMGPIPE_S3_SECRET_KEY"],
                          region_name=env["IMGPIPE_S3_REGION"],
                          config=Config(s3={"addressing_style": "path"}))
        for i in range(PHOTOS):
            s3.put_object(Bucket=source, Key=f"photos/{i:03d}.jpg", Body=jpeg(i))
        s3.put_object(Bucket=source, Key="photos/broken.jpg", Body=b"not a photo at all")

        def processed() -> float:
            match = re.search(r"^imgpipe_objects_processed_total (\S+)$",
                              http_text(f"{worker}/metrics"), re.M)
            return float(match.group(1)) if match else 0
        wait_for(f"{PHOTOS} processed objects", lambda: processed() >= PHOTOS, 120)
        # Scrapes and rule evaluations after the work: rate() needs two samples, and the
        # lag (librdkafka statistics every 5 s) must have been reported.
        wait_for("a dead-letter alert", lambda: query(
            prometheus, 'ALERTS{alertname="ImgpipeDeadLetters",alertstate="firing"}')["data"]["result"], 60)
        time.sleep(6)
        exported = set(re.findall(r"^# TYPE (\S+) ", http_text(f"{worker}/metrics"), re.M))
        check_live(prometheus, rule_expressions(prometheus) + panels, exported)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        subprocess.run([STACK_SH, "prometheus-down"], env=prometheus_env, check=False)


def check_live(prometheus: str, found: list[tuple[str, str, str]], exported: set[str]) -> None:
    recorded = {where.removeprefix("record ") for kind, where, _ in found if kind == "record"}
    problems, without_data = [], []
    for kind, where, expr in found:
        answer = query(prometheus, expr)
        if answer.get("status") != "success":
            problems.append(f"{where}: {answer.get('error')}: {expr}")
            continue
        names = {name.removesuffix("_bucket") for name in NAME.findall(expr)}
        unknown = sorted(n for n in names if n not in exported and n not in recorded)
        if unknown:
            problems.append(f"{where}: no such metric {', '.join(unknown)}: {expr}")
            continue
        if kind == "alert":
            continue  # empty while it does not fire; the names above exist
        if not answer["data"]["result"]:
            silent = [n for n in names if not query(prometheus, f"count({n})")["data"]["result"]]
            if not silent:
                problems.append(f"{where}: no series although its metrics have some: {expr}")
            else:
                without_data.append(f"{where} ({', '.join(sorted(silent))} had no sample)")
    for line in without_data:
        print(f"no data in this workload: {line}")
    if problems:
        sys.exit("\n".join(["PromQL checks failed:"] + problems))
    print(f"live: {len(found)} expressions evaluated against Prometheus after a real workload; "
          f"{len(found) - len(without_data)} returned series or are alerts; "
          "ImgpipeDeadLetters fired")


if __name__ == "__main__":
    main()
