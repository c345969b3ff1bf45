#!/usr/bin/env python3
"""Shows that every check of scripts/validate-k8s.sh can fail: breaks one thing
at a time in a scratch copy of the repository and expects validate-k8s.sh to
fail with the named check (`make validate-k8s-selftest`; about a minute).

  selftest.py ROOT [NAME-SUBSTRING]

The working tree is never modified. Mutations that need the worker binary
(build/src/cli/imgpipe) are skipped when it has not been built. A mutation of a
symlink (deploy/prometheus/imgpipe-rules.yaml) replaces the link with an edited
copy of its target: the drift the link is there to prevent.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

# (name, file, old text, new text, checks that must fail, needs the binary)
MUTATIONS = [
    ("kind config field typo", "deploy/kind/kind-config.yaml",
     "    extraPortMappings:", "    extraPortMapping:", {"kind-config"}, False),
    ("kind maps a port nothing uses", "deploy/kind/kind-config.yaml",
     "{containerPort: 31102, hostPort: 31102", "{containerPort: 31103, hostPort: 31103", {"consistency"}, False),
    ("kind node image of another Kubernetes", "deploy/kind/kind-config.yaml",
     "  - role: worker\n    image: kindest/node:v1.37.0", "  - role: worker\n    image: kindest/node:v1.36.1",
     {"consistency"}, False),
    ("Kafka listener field typo", "deploy/strimzi/kafka.yaml",
     "        type: internal\n", "        typ: internal\n", {"kubeconform"}, False),
    ("Kafka cluster renamed", "deploy/strimzi/kafka.yaml",
     "  name: imgpipe\n  namespace: kafka", "  name: images\n  namespace: kafka", {"consistency"}, False),
    ("topic partitions differ from the chart", "deploy/strimzi/topics.yaml",
     "  partitions: 6\n  replicas: 3\n  config:\n    min.insync.replicas: 2\n    cleanup.policy: delete\n    retention.ms: 604800000",
     "  partitions: 12\n  replicas: 3\n  config:\n    min.insync.replicas: 2\n    cleanup.policy: delete\n    retention.ms: 604800000",
     {"consistency"}, False),
    ("min ISR equal to replicas", "deploy/strimzi/topics.yaml",
     "    min.insync.replicas: 2\n    cleanup.policy: delete\n    retention.ms: 2592000000",
     "    min.insync.replicas: 3\n    cleanup.policy: delete\n    retention.ms: 2592000000", {"consistency"}, False),
    ("node ids of the pools overlap", "deploy/strimzi/nodepools.yaml",
     'strimzi.io/next-node-ids: "[3-5]"', 'strimzi.io/next-node-ids: "[2-4]"', {"consistency"}, False),
    ("MinIO reads a Secret key that does not exist", "deploy/minio/base/statefulset.yaml",
     "                  key: rootUser", "                  key: username", {"consistency"}, False),
    ("MinIO container field typo", "deploy/minio/base/statefulset.yaml",
     "          imagePullPolicy: IfNotPresent", "          imagePullPolicyy: IfNotPresent", {"kubeconform"}, False),
    ("MinIO event queue inside the data drive", "deploy/minio/base/statefulset.yaml",
     "              value: /queue", "              value: /data/queue", {"consistency"}, False),
    ("MinIO bootstrap port wrong", "deploy/minio/base/statefulset.yaml",
     "imgpipe-kafka-bootstrap.kafka.svc:9093", "imgpipe-kafka-bootstrap.kafka.svc:9092", {"consistency"}, False),
    ("a Kafka listener without TLS", "deploy/strimzi/kafka.yaml",
     "        type: internal\n        tls: true", "        type: internal\n        tls: false", {"consistency"}, False),
    ("the worker may write the event topic", "deploy/strimzi/users.yaml",
     "      - resource: {type: topic, name: bucket-events, patternType: literal}\n        operations: [Read, Describe]",
     "      - resource: {type: topic, name: bucket-events, patternType: literal}\n        operations: [Read, Write, Describe]",
     {"consistency"}, False),
    ("the chart reads a Kafka Secret nobody makes", "deploy/helm/imgpipe/values.yaml",
     "    existingSecret: imgpipe-worker-kafka", "    existingSecret: imgpipe-kafka", {"consistency"}, False),
    ("MinIO without a seccomp profile", "deploy/minio/base/statefulset.yaml",
     "        seccompProfile:\n          type: RuntimeDefault\n", "", {"consistency"}, False),
    ("kind image's MinIO differs from the local stack's", "scripts/stack/stack.sh",
     "readonly MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c", "readonly MINIO_VERSION=v0.0.0-20250101000000-000000000000",
     {"consistency"}, False),
    ("distributed MinIO peers do not match replicas", "deploy/minio/overlays/distributed/statefulset-distributed.yaml",
     "minio-{0...3}", "minio-{0...2}", {"consistency"}, False),
    ("overlay names a missing patch", "deploy/minio/overlays/distributed/kustomization.yaml",
     "  - path: statefulset-distributed.yaml", "  - path: statefulset-dist.yaml", {"kustomize"}, False),
    ("manifest not used anywhere", "deploy/minio/base/kustomization.yaml",
     "  - services.yaml\n", "", {"inventory"}, False),
    ("stray YAML file", "deploy/notes.yaml", None, "todo: [write, this]\n", {"inventory"}, False),
    ("chart topic differs from KafkaTopic", "deploy/helm/imgpipe/values.yaml",
     "  topic: bucket-events\n", "  topic: bucket-event\n", {"consistency"}, False),
    ("worker root filesystem writable", "deploy/helm/imgpipe/values.yaml",
     "  readOnlyRootFilesystem: true", "  readOnlyRootFilesystem: false", {"consistency"}, False),
    ("Deployment field typo", "deploy/helm/imgpipe/templates/deployment.yaml",
     "      automountServiceAccountToken: false", "      automountServiceAccountTokens: false",
     {"kubeconform"}, False),
    ("reconcile CronJob field typo", "deploy/helm/imgpipe/templates/reconcile-cronjob.yaml",
     "          automountServiceAccountToken: false", "          automountServiceAccountTokens: false",
     {"kubeconform"}, False),
    ("reconcile CronJob without --once", "deploy/helm/imgpipe/templates/reconcile-cronjob.yaml",
     "                - --once\n", "", {"consistency"}, False),
    ("chart value not documented", "deploy/helm/imgpipe/README.md",
     "| `tmpSizeLimit` |", "| tmpSizeLimit |", {"consistency"}, False),
    ("schema lacks a value", "deploy/helm/imgpipe/values.schema.json",
     '"tmpSizeLimit": {', '"tmpSize": {', {"helm-lint", "helm-render"}, False),
    ("PrometheusRule field typo", "deploy/helm/imgpipe/templates/prometheusrule.yaml",
     "  {{- $rules | nindent 2 }}", '  {{- $rules | replace "    rules:" "    rule:" | nindent 2 }}',
     {"kubeconform"}, False),
    ("rules file copied instead of linked", "deploy/prometheus/imgpipe-rules.yaml",
     "        for: 15m\n", "        for: 30m\n", {"consistency"}, False),
    ("dashboard ConfigMap holds YAML, not JSON", "deploy/helm/imgpipe/templates/grafana-dashboard.yaml",
     "    {{- $dashboard | nindent 4 }}", "    {{- $dashboard | fromJson | toYaml | nindent 4 }}",
     {"consistency"}, False),
    ("chart file no template reads", "deploy/helm/imgpipe/files/old-rules.yaml", None, "groups: []\n",
     {"inventory"}, False),
    ("CI values leave the PrometheusRule off", "deploy/helm/imgpipe/ci/all-features-values.yaml",
     "  prometheusRule:\n    enabled: true", "  prometheusRule:\n    enabled: false", {"consistency"}, False),
    ("chart lets KEDA exceed the partitions", "deploy/helm/imgpipe/templates/_helpers.tpl",
     '{{- if gt $max (int .Values.kafka.partitions) }}', '{{- if gt $max 1000 }}', {"helm-refuse"}, False),
    ("Chart.yaml without version", "deploy/helm/imgpipe/Chart.yaml",
     "version: 0.1.0\n", "", {"helm-lint"}, False),
    ("image runs as a named user", "Dockerfile",
     "USER 10001:10001", "USER imgpipe", {"dockerfile"}, False),
    ("apt lists kept in the image", "Dockerfile",
     " && rm -rf /var/lib/apt/lists/* \\\n && groupadd", " && groupadd", {"hadolint"}, False),
    ("base image :latest", "deploy/minio/image/Dockerfile",
     "ARG RUNTIME_IMAGE=debian:bookworm-slim", "ARG RUNTIME_IMAGE=debian:latest\nFROM debian:latest AS extra",
     {"hadolint"}, False),
    ("build context lacks a source folder", ".dockerignore", "!src/\n", "", {"dockerfile"}, False),
    ("runtime stage never runs the binary", "Dockerfile",
     'RUN ["/usr/local/bin/imgpipe", "--version"]\n', "", {"dockerfile"}, False),
    ("image build skips the unit tests", "Dockerfile",
     " && ctest --test-dir build -L unit --output-on-failure -j \"$(nproc)\" \\\n", "", {"dockerfile"}, False),
    ("kind-up installs another Strimzi", "scripts/kind-up.sh",
     "readonly STRIMZI_VERSION=1.2.0", "readonly STRIMZI_VERSION=1.3.0", {"consistency"}, False),
    ("kind-up with an unquoted variable", "scripts/kind-up.sh",
     'cd "$ROOT"\n', "cd $ROOT\n", {"shellcheck"}, False),
    ("pipeline config the worker refuses", "deploy/helm/imgpipe/values.yaml",
     "    width: 1024\n", "    width: 0\n", {"worker-config"}, True),
    ("chart sets a variable the worker does not know", "deploy/helm/imgpipe/ci/all-features-values.yaml",
     '  - name: IMGPIPE_MAX_IN_FLIGHT', '  - name: IMGPIPE_MAX_INFLIGHT', {"worker-config"}, True),
]

SKIP_DIRS = {".git", ".stack", ".cache", "node_modules"}


def copy_repo(root: str, dest: str):
    def ignore(directory, names):
        rel = os.path.relpath(directory, root)
        return [n for n in names if n in SKIP_DIRS or (rel == "." and n.startswith("build"))]
    shutil.copytree(root, dest, ignore=ignore, symlinks=True)


def main(argv) -> int:
    root = os.path.abspath(argv[0])
    only = argv[1] if len(argv) > 1 else ""
    verbose = bool(os.environ.get("SELFTEST_VERBOSE"))
    binary = os.path.join(root, "build", "src", "cli", "imgpipe")
    have_binary = os.access(binary, os.X_OK)
    crds = os.environ.get("IMGPIPE_K8S_CRDS", os.path.join(root, "deploy", "validate", "crds"))
    failures, ran, skipped = [], 0, 0
    with tempfile.TemporaryDirectory(prefix="imgpipe-selftest-") as tmp:
        pristine = os.path.join(tmp, "pristine")
        copy_repo(root, pristine)
        for name, rel, old, new, expect, needs_binary in MUTATIONS:
            if only and only not in name:
                continue
            if needs_binary and not have_binary:
                print(f"selftest: skip {name} (no build/src/cli/imgpipe)")
                skipped += 1
                continue
            work = os.path.join(tmp, "work")
            shutil.rmtree(work, ignore_errors=True)
            copy_repo(pristine, work)
            path = os.path.join(work, rel)
            if old is None:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(new)
            else:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                if old not in text:
                    failures.append(f"{name}: the text to break is no longer in {rel} (update selftest.py)")
                    print(f"selftest: STALE {name}")
                    continue
                if os.path.islink(path):
                    os.unlink(path)  # break the copy, not the link's target
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text.replace(old, new, 1))
            env = dict(os.environ, IMGPIPE_K8S_CRDS=os.path.abspath(crds),
                       VALIDATE_K8S_OUT=os.path.join(tmp, "out"), IMGPIPE_BINARY=binary)
            t0 = time.monotonic()
            r = subprocess.run([os.path.join(work, "scripts", "validate-k8s.sh")], cwd=work, env=env,
                               capture_output=True, text=True)
            failed = set(re.findall(r"^validate-k8s: FAIL (\S+)", r.stdout, re.M))
            ran += 1
            ok = r.returncode != 0 and failed & expect
            print(f"selftest: {'ok  ' if ok else 'MISS'} {name:48} -> failed: {', '.join(sorted(failed)) or 'nothing'}"
                  f" ({time.monotonic() - t0:.1f} s)")
            if not ok:
                failures.append(f"{name}: expected {sorted(expect)} to fail, got {sorted(failed) or 'none'}")
                print(r.stdout[-3000:])
            elif verbose:
                print(r.stdout)
    print(f"selftest: {ran - len(failures)} of {ran} breakages caught" + (f", {skipped} skipped" if skipped else ""))
    for f in failures:
        print(f"selftest: FAIL {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
