#!/usr/bin/env python3
"""The chart against the real worker binary (a local build of build/src/cli/imgpipe):

  check_worker_env.py BINARY RENDERED_DIR

  - every IMGPIPE_* variable the chart sets (default and all-features renders,
    worker, setup Job and reconcile CronJob) is a setting the binary declares
    (`imgpipe config --reference`), so none is silently ignored;
  - the chart's config.yaml, with the chart's environment (stand-ins for
    Secrets), passes `imgpipe validate --config`.
Exit status 1 when either fails.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

import yaml

# Read by the binary outside the settings table (src/cli/main.cpp: the --config default).
OUTSIDE_TABLE = {"IMGPIPE_CONFIG"}
# Variables the chart may set before the worker declares them (none now:
# kafka.sasl's variables are real settings).
PENDING: set[str] = set()


def containers(docs):
    for d in docs:
        if d["kind"] in ("Deployment", "Job", "CronJob"):
            spec = d["spec"]["jobTemplate"]["spec"] if d["kind"] == "CronJob" else d["spec"]
            for c in spec["template"]["spec"]["containers"]:
                yield d["kind"], c


def main(argv) -> int:
    binary, rendered = argv
    ref = subprocess.run([binary, "config", "--reference"], capture_output=True, text=True)
    declared = set(re.findall(r"`(IMGPIPE_[A-Z0-9_]+)`", ref.stdout))
    if ref.returncode != 0 or len(declared) < 10:
        print(f"`{binary} config --reference` listed {len(declared)} settings (exit {ref.returncode})")
        return 1
    failed, pending_used = False, set()
    for values in ("default", "all-features"):
        with open(os.path.join(rendered, f"chart-{values}.yaml"), encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for kind, c in containers(docs):
            for e in c.get("env", []):
                name = e["name"]
                if not name.startswith("IMGPIPE_") or name in declared or name in OUTSIDE_TABLE:
                    continue
                if name in PENDING:
                    pending_used.add(name)
                    continue
                print(f"chart/{values} {kind}: {name} is not a setting of imgpipe (imgpipe config --reference)")
                failed = True
    print(f"env: every IMGPIPE_* variable of the chart is one of the {len(declared)} settings imgpipe declares")
    if pending_used:
        print(f"note: kafka.sasl sets {', '.join(sorted(pending_used))}, which imgpipe does not declare yet")

    with open(os.path.join(rendered, "chart-default.yaml"), encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    cm = next(d for d in docs if d["kind"] == "ConfigMap" and "config.yaml" in d.get("data", {}))
    _, worker = next((k, c) for k, c in containers(docs) if k == "Deployment")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    secrets = tempfile.TemporaryDirectory()
    for e in worker["env"]:
        if e["name"] == "IMGPIPE_CONFIG":
            continue
        # Secrets and the CPU-limit reference resolve only in a cluster: stand-ins.
        env[e["name"]] = e.get("value", "2" if e["name"] == "IMGPIPE_RENDERS" else "from-a-secret")
        if e["name"].endswith("_FILE"):
            # A mounted secret file: a stand-in with the mode the chart gives it.
            stand_in = os.path.join(secrets.name, e["name"])
            with open(stand_in, "w", encoding="utf-8") as f:
                f.write("from-a-secret-file\n")
            os.chmod(stand_in, 0o440)
            env[e["name"]] = stand_in
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(cm["data"]["config.yaml"])
        path = f.name
    try:
        r = subprocess.run([binary, "validate", "--config", path], env=env, capture_output=True, text=True)
    finally:
        os.unlink(path)
        secrets.cleanup()
    if r.returncode != 0:
        print("imgpipe validate refuses the chart's config.yaml with the chart's environment:")
        print(r.stdout + r.stderr)
        return 1
    print("imgpipe validate: the chart's config.yaml with the chart's environment is valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
