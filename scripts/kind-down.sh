#!/usr/bin/env bash
# Removes the kind cluster that scripts/kind-up.sh created, with everything in
# it (Kafka, MinIO and their volumes). The images built for it stay in Docker
# (docker image rm imgpipe/imgpipe:dev imgpipe/minio:<version> removes them).
set -euo pipefail
readonly CLUSTER_NAME=imgpipe
die() { printf 'kind-down: error: %s\n' "$*" >&2; exit 1; }
command -v kind >/dev/null 2>&1 || die "kind is not installed (kind-up.sh created the cluster with it)"
command -v docker >/dev/null 2>&1 || die "docker is not installed: there is no kind cluster to remove"
docker info >/dev/null 2>&1 || die "docker is installed but its daemon does not answer (is Docker running?)"
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  kind delete cluster --name "$CLUSTER_NAME"
else
  echo "kind-down: no kind cluster named $CLUSTER_NAME; nothing to do"
fi
