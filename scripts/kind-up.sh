#!/usr/bin/env bash
# The whole imgpipe system on a local kind cluster, for a machine with Docker:
# a four-node cluster (deploy/kind), Strimzi and its Kafka cluster
# (deploy/strimzi), MinIO (deploy/minio), the worker image built from this
# checkout and its Helm chart (deploy/helm/imgpipe), then a smoke test: five
# images uploaded to bucket raw, five outputs awaited in bucket processed.
# Re-running it updates what changed; scripts/kind-down.sh removes it all.
#
#   scripts/kind-up.sh                       everything, single-node MinIO
#   MINIO_MODE=distributed scripts/kind-up.sh  MinIO on four pods over the workers
#   WITH_KEDA=1 scripts/kind-up.sh           also KEDA, and the chart's ScaledObject
#   MINIO_IMAGE=<image> scripts/kind-up.sh   use that MinIO image instead of building one
#   SKIP_SMOKE=1 scripts/kind-up.sh          no smoke test
#
# Needs: docker (running), kind, kubectl, helm, curl. docs/kubernetes.md
# explains each step and maps it to the original design notes.
set -euo pipefail

readonly CLUSTER_NAME=imgpipe
readonly KAFKA_NAMESPACE=kafka
readonly KAFKA_CLUSTER=imgpipe
readonly MINIO_NAMESPACE=imgpipe
readonly APP_NAMESPACE=imgpipe
readonly STRIMZI_VERSION=1.2.0
readonly KEDA_VERSION=2.20.2
readonly MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
readonly IMAGE_REPOSITORY=imgpipe/imgpipe
readonly STRIMZI_CHART=oci://quay.io/strimzi-helm/strimzi-kafka-operator
readonly KEDA_CHART_REPO=https://kedacore.github.io/charts
readonly MINIO_MODE="${MINIO_MODE:-single}"
readonly WITH_KEDA="${WITH_KEDA:-0}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
readonly CONTEXT="kind-$CLUSTER_NAME"

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'kind-up: error: %s\n' "$*" >&2; exit 1; }
k() { kubectl --context "$CONTEXT" "$@"; }
h() { helm --kube-context "$CONTEXT" "$@"; }

# ---------------------------------------------------------------- tools
require() { # command, what it is for, how to get it
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed. $2
  Install: $3"
}
require docker "kind runs the Kubernetes nodes as Docker containers." \
  "Docker Engine or Docker Desktop (docs.docker.com/get-docker)"
require kind "kind creates the local cluster." \
  "go install sigs.k8s.io/kind@v0.33.0, or a release binary (kind.sigs.k8s.io/docs/user/quick-start)"
require kubectl "kubectl talks to the cluster." \
  "your package manager (brew install kubectl, apt-get install kubectl) or kubernetes.io/docs/tasks/tools"
require helm "helm installs the Strimzi operator and the imgpipe chart." \
  "brew install helm, or go install helm.sh/helm/v3/cmd/helm@v3.22.0"
require curl "the smoke test uploads and lists objects with curl (--aws-sigv4)." "your package manager"
docker info >/dev/null 2>&1 || die "docker is installed but its daemon does not answer (is Docker running? may this user use it?)"
case "$MINIO_MODE" in
  single) minio_dir=deploy/minio/base ;;
  distributed) minio_dir=deploy/minio/overlays/distributed ;;
  *) die "MINIO_MODE must be single or distributed, not $MINIO_MODE" ;;
esac
mem_bytes="$(docker info --format '{{.MemTotal}}' 2>/dev/null || echo 0)"
if ((mem_bytes > 0 && mem_bytes < 8 * 1024 * 1024 * 1024)); then
  echo "kind-up: warning: Docker has $((mem_bytes / 1024 / 1024)) MiB of memory; the cluster wants about 6 GiB." >&2
fi

# ---------------------------------------------------------------- cluster
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  log "kind cluster $CLUSTER_NAME exists, reusing it"
else
  log "creating kind cluster $CLUSTER_NAME (1 control plane, 3 workers; a few minutes)"
  kind create cluster --name "$CLUSTER_NAME" --config deploy/kind/kind-config.yaml --wait 180s
fi
k apply -f deploy/kind/namespaces.yaml

# ---------------------------------------------------------------- Kafka
log "installing the Strimzi operator $STRIMZI_VERSION (Helm chart) into namespace $KAFKA_NAMESPACE"
h upgrade --install strimzi "$STRIMZI_CHART" --version "$STRIMZI_VERSION" \
  --namespace "$KAFKA_NAMESPACE" --values deploy/strimzi/operator-values.yaml --wait --timeout 5m
log "creating Kafka cluster $KAFKA_CLUSTER (3 controllers, 3 brokers) and its topics"
k apply -k deploy/strimzi

# ---------------------------------------------------------------- images (while Kafka starts)
if [[ -n "${MINIO_IMAGE:-}" ]]; then
  minio_image="$MINIO_IMAGE"
  log "using MinIO image $minio_image"
  docker image inspect "$minio_image" >/dev/null 2>&1 || docker pull "$minio_image"
else
  minio_image="imgpipe/minio:$MINIO_VERSION"
  if docker image inspect "$minio_image" >/dev/null 2>&1; then
    log "MinIO image $minio_image exists"
  else
    log "building MinIO $MINIO_VERSION from source (deploy/minio/image; a few minutes, once)"
    docker build --build-arg "MINIO_VERSION=$MINIO_VERSION" -t "$minio_image" deploy/minio/image
  fi
fi
kind load docker-image --name "$CLUSTER_NAME" "$minio_image"

# The same image `make image` builds and `make test-image` runs (scripts/image.sh).
log "building the imgpipe image (Dockerfile; the C++ build and unit tests take a while the first time)"
CONTAINER_ENGINE=docker IMGPIPE_IMAGE="$IMAGE_REPOSITORY:dev" scripts/image.sh build
image_id="$(docker image inspect --format '{{.Id}}' "$IMAGE_REPOSITORY:dev")"
image_tag="dev-${image_id#sha256:}"
image_tag="${image_tag:0:16}"
docker tag "$IMAGE_REPOSITORY:dev" "$IMAGE_REPOSITORY:$image_tag"
kind load docker-image --name "$CLUSTER_NAME" "$IMAGE_REPOSITORY:$image_tag"

log "waiting for Kafka $KAFKA_CLUSTER to be ready (first start: several minutes)"
k -n "$KAFKA_NAMESPACE" wait "kafka/$KAFKA_CLUSTER" --for=condition=Ready --timeout=20m ||
  die "Kafka $KAFKA_CLUSTER is not ready; look at
  kubectl --context $CONTEXT -n $KAFKA_NAMESPACE get pods,kafka,kafkanodepool
  kubectl --context $CONTEXT -n $KAFKA_NAMESPACE logs deploy/strimzi-cluster-operator"
k -n "$KAFKA_NAMESPACE" wait kafkatopic --all --for=condition=Ready --timeout=5m
k -n "$KAFKA_NAMESPACE" wait kafkauser --all --for=condition=Ready --timeout=5m

# ---------------------------------------------------------------- Kafka credentials
# Strimzi keeps the cluster CA and each KafkaUser's password in namespace
# kafka; MinIO and the chart read theirs from namespace imgpipe.
copy_kafka_secrets() {
  local ca user target password
  k create namespace "$APP_NAMESPACE" --dry-run=client -o yaml | k apply -f - >/dev/null
  ca="$(k -n "$KAFKA_NAMESPACE" get secret "$KAFKA_CLUSTER-cluster-ca-cert" -o jsonpath='{.data.ca\.crt}' | base64 -d)"
  k -n "$APP_NAMESPACE" create secret generic kafka-cluster-ca --from-literal=ca.crt="$ca" \
    --dry-run=client -o yaml | k apply -f - >/dev/null
  for user in imgpipe-worker:imgpipe-worker-kafka minio:minio-kafka imgpipe-reconcile:imgpipe-reconcile-kafka; do
    target="${user#*:}"
    user="${user%%:*}"
    password="$(k -n "$KAFKA_NAMESPACE" get secret "$user" -o jsonpath='{.data.password}' | base64 -d)"
    k -n "$APP_NAMESPACE" create secret generic "$target" --from-literal=username="$user" \
      --from-literal=password="$password" --dry-run=client -o yaml | k apply -f - >/dev/null
  done
  log "Kafka's CA and the SCRAM users imgpipe-worker, minio and imgpipe-reconcile copied into namespace $APP_NAMESPACE"
}
copy_kafka_secrets

# ---------------------------------------------------------------- MinIO
log "deploying MinIO ($MINIO_MODE, $minio_dir)"
k kustomize "$minio_dir" | sed "s#image: imgpipe/minio:$MINIO_VERSION#image: $minio_image#" | k apply -f -
k -n "$MINIO_NAMESPACE" rollout status statefulset/minio --timeout=10m

# ---------------------------------------------------------------- KEDA (optional)
chart_args=(--set "image.tag=$image_tag")
if [[ "$WITH_KEDA" == 1 ]]; then
  log "installing KEDA $KEDA_VERSION"
  h upgrade --install keda keda --repo "$KEDA_CHART_REPO" --version "$KEDA_VERSION" \
    --namespace keda --create-namespace --wait --timeout 5m
  chart_args+=(--set keda.enabled=true)
fi

# ---------------------------------------------------------------- worker
log "installing the imgpipe chart (image $IMAGE_REPOSITORY:$image_tag); the setup Job runs imgpipe setup"
h upgrade --install imgpipe deploy/helm/imgpipe --namespace "$APP_NAMESPACE" \
  "${chart_args[@]}" --wait --wait-for-jobs --timeout 10m ||
  die "the imgpipe chart did not become ready; look at
  kubectl --context $CONTEXT -n $APP_NAMESPACE logs job/imgpipe-setup
  kubectl --context $CONTEXT -n $APP_NAMESPACE describe pods"
k -n "$APP_NAMESPACE" rollout status deployment/imgpipe --timeout=5m

# ---------------------------------------------------------------- endpoints
minio_api_port="$(k -n "$MINIO_NAMESPACE" get svc minio-external -o jsonpath='{.spec.ports[?(@.name=="api")].nodePort}')"
minio_console_port="$(k -n "$MINIO_NAMESPACE" get svc minio-external -o jsonpath='{.spec.ports[?(@.name=="console")].nodePort}')"
kafka_port="$(k -n "$KAFKA_NAMESPACE" get kafka "$KAFKA_CLUSTER" -o jsonpath='{.spec.kafka.listeners[?(@.name=="external")].configuration.bootstrap.nodePort}')"
access_key="$(k -n "$MINIO_NAMESPACE" get secret minio-credentials -o jsonpath='{.data.rootUser}' | base64 -d)"
secret_key="$(k -n "$MINIO_NAMESPACE" get secret minio-credentials -o jsonpath='{.data.rootPassword}' | base64 -d)"
s3="http://127.0.0.1:$minio_api_port"

# ---------------------------------------------------------------- smoke test
s3curl() {
  curl -sS --fail --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access_key:$secret_key" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}
if [[ "${SKIP_SMOKE:-0}" != 1 ]]; then
  curl --help all 2>/dev/null | grep -q -- --aws-sigv4 || die "this curl has no --aws-sigv4 (curl >= 7.75 needed for the smoke test; SKIP_SMOKE=1 skips it)"
  run="smoke-$(date +%Y%m%d-%H%M%S)"
  log "smoke test: 5 images to $s3/raw/$run/, waiting for 5 outputs in processed"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # a 160x120 JPEG gradient
  base64 -d >"$tmp/smoke.jpg" <<'JPEG'
/9j/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAx
NDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy
MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAARCAB4AKADASIAAhEBAxEB/8QAHwAAAQUBAQEB
AQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1Fh
ByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZ
WmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXG
x8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAEC
AwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHB
CSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0
dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX
2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDwVY6lWOpljqVY6EyYVCFY6kWOpljq
VY6pM64VCFY6lWOpljqRY6tM6oVCFY6lWOpljqVY6tM6oVCBY6lWOpljqVY6pM6oVCFY6kWOp1jq
RY6tM64VCFY6lWOpljqRY6tM6oVCFY6lWOpljqVY6pM6oVCFY6kWOpljqVY6tM64VCFY6lWOpljq
RY6pM6oVDzJY6lWOpljqRY68RM/FYVCFY6lWOpljqVY6tM6oVCFY6kWOpljqVY6pM6oVCFY6kWOp
1jqRY6tM64VCFY6lWOpljqVY6tM6oVCBY6lWOpljqVY6pM6oVCFY6kWOpljqVY6tM6oVCFY6lWOp
ljqRY6tM64VCFY6lWOpljqVY6pM6oVCFY6kWOpljqVY6tM6oVDzJY6kWOpljqVY68NM/FYVCFY6k
WOp1jqRY6tM6oVCFY6lWOpljqVY6tM6oVCBY6lWOpljqVY6pM64VCFY6kWOp1jqRY6tM6oVCFY6l
WOpljqRY6tM6oVCFY6lWOpljqVY6pM64VCFY6kWOpljqVY6tM6oVCFY6kWOp1jqRY6tM6oVCFY6l
WOpljqVY6pM64VDzFY6lWOpljqVY68RM/FIVCBY6lWOpljqVY6tM64VCFY6kWOp1jqRY6pM6oVCF
Y6lWOpljqRY6tM6oVCFY6lWOpljqVY6tM6oVCFY6kWOpljqVY6pM64VCFY6lWOpljqRY6tM6oVCF
Y6lWOpljqVY6tM6oVCBY6lWOpljqVY6pM6oVCFY6kWOp1jqRY6tM64VDzJY6kWOp1jqRY68NM/FY
VCFY6lWOpljqVY6tM6oVCBY6lWOpljqVY6tM6oVCFY6kWOp1jqRY6pM6oVCFY6lWOpljqRY6tM64
VCFY6lWOpljqVY6tM6oVCFY6kWOpljqVY6pM6oVCFY6kWOp1jqRY6tM64VCFY6lWOpljqVY6tM6o
VCBY6lWOpljqVY6pM6oVDzFY6lWOpljqVY68RM/FYVCFY6kWOp1jqRY6tM6oVCFY6lWOpljqRY6p
M6oVCFY6lWOpljqVY6tM64VCFY6kWOpljqVY6pM6oVCFY6lWOpljqRY6tM6oVCFY6lWOpljqVY6t
M6oVCBY6lWOpljqVY6pM64VCFY6kWOp1jqRY6tM6oVCFY6lWOpljqRY6tM6oVDzJY6lWOpljqRY6
8NM/FYVCFY6lWOpljqVY6tM6oVCFY6kWOpljqVY6tM64VCFY6lWOpljqRY6pM6oVCFY6lWOpljqV
Y6tM6oVCFY6kWOpljqVY6tM64VCFY6kWOp1jqRY6pM6oVCFY6lWOpljqVY6tM6oVCBY6lWOpljqV
Y6tM6oVCFY6kWOpljqVY6pM64VDzJY6kWOiivFR+LwbJVjqVY6KKpHVBskWOpVjooq0dUGyVY6kW
OiiqR1QkyVY6kWOiirR1wkyVY6lWOiirR1QbJFjqVY6KKpHVCTJVjqRY6KKtHXBslWOpVjooq0dU
GyRY6lWOiiqR1Qkz/9k=
JPEG
  for i in 1 2 3 4 5; do
    s3curl -H "Content-Type: image/jpeg" -T "$tmp/smoke.jpg" "$s3/raw/$run/image-$i.jpg" >/dev/null
  done
  outputs=0
  for _ in $(seq 1 90); do
    # list-type before prefix: curl signs the query as written (no sorting)
    outputs="$(s3curl "$s3/processed?list-type=2&prefix=$run%2F" | grep -o '<Key>[^<]*</Key>' | wc -l | tr -d ' ')"
    ((outputs >= 5)) && break
    sleep 2
  done
  if ((outputs < 5)); then
    echo "kind-up: smoke test FAILED: $outputs of 5 outputs after 180 s. Look at:" >&2
    echo "  kubectl --context $CONTEXT -n $APP_NAMESPACE logs deploy/imgpipe" >&2
    echo "  kubectl --context $CONTEXT -n $APP_NAMESPACE logs job/imgpipe-setup" >&2
    echo "  kubectl --context $CONTEXT -n $MINIO_NAMESPACE logs statefulset/minio" >&2
    exit 1
  fi
  echo "smoke test passed: 5 images in raw/$run/, $outputs outputs in processed/$run/"
fi

cat <<INFO

imgpipe is running on kind cluster "$CLUSTER_NAME" (kubectl context $CONTEXT).

  MinIO S3 API    $s3        (bucket raw in, processed out)
  MinIO console   http://127.0.0.1:$minio_console_port
  credentials     $access_key / $secret_key   (Secret $MINIO_NAMESPACE/minio-credentials)
  Kafka           127.0.0.1:$kafka_port      (external listener: TLS, SCRAM-SHA-512; CA in Secret $APP_NAMESPACE/kafka-cluster-ca)

Watch it:
  kubectl --context $CONTEXT get pods -A -o wide
  kubectl --context $CONTEXT -n $APP_NAMESPACE logs -f deploy/imgpipe
  kubectl --context $CONTEXT -n $KAFKA_NAMESPACE get kafka,kafkanodepool,kafkatopic
  kubectl --context $CONTEXT -n $APP_NAMESPACE exec deploy/imgpipe -- imgpipe status
  kubectl --context $CONTEXT -n $APP_NAMESPACE port-forward svc/imgpipe 8080:8080   # then curl localhost:8080/metrics
Upload an image:
  curl --aws-sigv4 aws:amz:us-east-1:s3 --user '$access_key:$secret_key' -T photo.jpg $s3/raw/photo.jpg
Remove everything: scripts/kind-down.sh
INFO
