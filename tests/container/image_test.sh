#!/usr/bin/env bash
# `make test-image`: the worker's container image against the local stack, as
# a deployment runs it: host networking, a non-root user, a read-only root
# filesystem with only /tmp writable. Runs `imgpipe setup` and `imgpipe run`
# from the image, uploads five photos, waits for their five outputs, checks
# /readyz and /metrics, stops the container with SIGTERM and expects exit 0
# within the shutdown grace. Prints the image size.
#
#   tests/container/image_test.sh IMAGE
# Expects the stack's settings in the environment (source .stack/env).
set -euo pipefail

readonly IMAGE=${1:?usage: image_test.sh IMAGE}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly ROOT
readonly OUT="${IMAGE_TEST_OUT:-$ROOT/build/test-image}"
readonly PHOTOS=/usr/share/backgrounds/mate/nature
readonly GRACE_MS=20000
readonly WAIT_S=120

suffix="$(date +%s)-$$"
readonly SOURCE_BUCKET="img-test-$suffix" TARGET_BUCKET="img-test-$suffix-out"
readonly GROUP="imgpipe-image-test-$suffix" CONTAINER="imgpipe-image-test-$suffix"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
readonly PORT

passed=0
failed=0
ok() { printf 'test-image: ok   %s\n' "$*"; passed=$((passed + 1)); }
fail() { printf 'test-image: FAIL %s\n' "$*"; failed=$((failed + 1)); }
die() { printf 'test-image: error: %s\n' "$*" >&2; exit 1; }

mapfile -t ENGINE < <("$ROOT/scripts/image.sh" engine)
engine_name=podman
[[ "${ENGINE[0]}" == docker ]] && engine_name=docker

for var in IMGPIPE_KAFKA_BROKERS IMGPIPE_S3_ENDPOINT IMGPIPE_S3_ACCESS_KEY IMGPIPE_S3_SECRET_KEY; do
  [[ -n "${!var:-}" ]] || die "$var is not set: source .stack/env first (make test-image does)"
done
export IMGPIPE_SOURCE_BUCKET="$SOURCE_BUCKET" IMGPIPE_TARGET_BUCKET="$TARGET_BUCKET"
export IMGPIPE_KAFKA_GROUP="$GROUP" IMGPIPE_HTTP_LISTEN="127.0.0.1:$PORT"
export IMGPIPE_SHUTDOWN_GRACE_MS="$GRACE_MS"

# The settings travel by name (-e NAME), so no secret is on a command line.
container_args() {
  local args=(--network host --user 10001:10001 --read-only --tmpfs /tmp)
  [[ "$engine_name" == podman ]] && args+=(--read-only-tmpfs=false)
  local var
  for var in $(compgen -e | grep '^IMGPIPE_'); do args+=(-e "$var"); done
  printf '%s\n' "${args[@]}"
}
mapfile -t RUN_ARGS < <(container_args)

s3() {  # curl with SigV4 against the stack's S3
  curl -fsS --aws-sigv4 "aws:amz:${IMGPIPE_S3_REGION:-us-east-1}:s3" \
    --user "${IMGPIPE_S3_ACCESS_KEY}:${IMGPIPE_S3_SECRET_KEY}" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}
# header NAME < response headers: its value.
header() { tr -d '\r' | awk -v name="$1" 'tolower($1) == tolower(name) ":" { sub(/^[^:]*: */, ""); print; exit }'; }

cleanup() {
  "${ENGINE[@]}" rm -f "$CONTAINER" >/dev/null 2>&1 || true
}
trap cleanup EXIT

mkdir -p "$OUT"
echo "test-image: $IMAGE ($engine_name), buckets $SOURCE_BUCKET -> $TARGET_BUCKET, worker on 127.0.0.1:$PORT"

if "${ENGINE[@]}" run --rm "${RUN_ARGS[@]}" "$IMAGE" setup >"$OUT/setup.log" 2>&1; then
  ok "imgpipe setup from the image"
else
  cat "$OUT/setup.log"
  die "imgpipe setup from the image failed"
fi

"${ENGINE[@]}" run -d --name "$CONTAINER" "${RUN_ARGS[@]}" "$IMAGE" run >/dev/null
ready=no
for _ in $(seq 1 150); do
  if curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then ready=yes; break; fi
  [[ "$("${ENGINE[@]}" inspect --format '{{.State.Running}}' "$CONTAINER")" == true ]] || break
  sleep 0.2
done
if [[ "$ready" == yes ]]; then ok "worker container ready (/readyz 200)"; else
  "${ENGINE[@]}" logs "$CONTAINER" 2>&1 | tail -n 30
  die "worker container not ready after 30 s"
fi
uid="$("${ENGINE[@]}" exec "$CONTAINER" id -u 2>/dev/null || true)"
if [[ "$uid" =~ ^[0-9]+$ && "$uid" -ne 0 ]]; then ok "runs as non-root (uid $uid)"; else fail "container uid is '${uid:-unknown}'"; fi
if "${ENGINE[@]}" exec "$CONTAINER" /bin/sh -c 'echo x >/usr/local/bin/probe' 2>/dev/null; then
  fail "the root filesystem is writable"
else
  ok "the root filesystem is read-only"
fi

mapfile -t files < <(find "$PHOTOS" -name '*.jpg' | sort | head -n 5)
((${#files[@]} == 5)) || die "need five photos in $PHOTOS (Debian package mate-backgrounds)"
declare -A source_etag
for file in "${files[@]}"; do
  key="image-test/$(basename "$file")"
  s3 -T "$file" "$IMGPIPE_S3_ENDPOINT/$SOURCE_BUCKET/$key" -o /dev/null
  source_etag[$key]="$(s3 -I "$IMGPIPE_S3_ENDPOINT/$SOURCE_BUCKET/$key" | header etag | tr -d '"')"
done
ok "uploaded ${#files[@]} photos"

deadline=$((SECONDS + WAIT_S))
missing=("${!source_etag[@]}")
while ((${#missing[@]} > 0 && SECONDS < deadline)); do
  still=()
  for key in "${missing[@]}"; do
    s3 -I "$IMGPIPE_S3_ENDPOINT/$TARGET_BUCKET/$key" >"$OUT/head" 2>/dev/null || still+=("$key")
  done
  missing=("${still[@]}")
  ((${#missing[@]} == 0)) || sleep 0.5
done
if ((${#missing[@]} == 0)); then ok "all 5 outputs written"; else fail "outputs missing after ${WAIT_S}s: ${missing[*]}"; fi

for key in "${!source_etag[@]}"; do
  headers="$(s3 -I "$IMGPIPE_S3_ENDPOINT/$TARGET_BUCKET/$key" 2>/dev/null || true)"
  derived="$(header x-amz-meta-imgpipe-source-etag <<<"$headers")"
  width="$(header x-amz-meta-imgpipe-width <<<"$headers")"
  height="$(header x-amz-meta-imgpipe-height <<<"$headers")"
  if [[ "$derived" == "${source_etag[$key]}" && -n "$width" && "$width" -le 1024 && "$height" -le 1024 ]]; then
    ok "$key: ${width}x${height}, derived from ETag $derived"
  else
    fail "$key: source ETag ${source_etag[$key]}, output records '$derived', ${width:-?}x${height:-?}"
  fi
done

code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")"
if [[ "$code" == 200 ]]; then ok "/readyz 200 after the work"; else fail "/readyz answered $code"; fi
curl -fsS "http://127.0.0.1:$PORT/metrics" >"$OUT/metrics.txt" || true
processed="$(awk '$1 == "imgpipe_objects_processed_total" { print $2 }' "$OUT/metrics.txt")"
if [[ -n "$processed" ]] && awk -v n="$processed" 'BEGIN { exit !(n >= 5) }'; then
  ok "/metrics: imgpipe_objects_processed_total $processed"
else
  fail "/metrics: imgpipe_objects_processed_total is '${processed:-absent}', want >= 5"
fi

start_ms=$(date +%s%3N)
"${ENGINE[@]}" kill --signal TERM "$CONTAINER" >/dev/null
status="$("${ENGINE[@]}" wait "$CONTAINER" | tail -n1)"
exit_ms=$(($(date +%s%3N) - start_ms))
"${ENGINE[@]}" logs "$CONTAINER" >"$OUT/worker.log" 2>&1 || true
if [[ "$status" == 0 && "$exit_ms" -le $((GRACE_MS + 2000)) ]]; then
  ok "SIGTERM: exit status 0 after ${exit_ms} ms"
else
  fail "SIGTERM: exit status $status after ${exit_ms} ms (grace ${GRACE_MS} ms); log in $OUT/worker.log"
fi

size="$("$ROOT/scripts/image.sh" size)"
echo "test-image: image $IMAGE is $((size / 1024 / 1024)) MiB ($size bytes)"
echo "test-image: logs and metrics in ${OUT#"$ROOT"/}"
echo "$passed passed, $failed failed"
((failed == 0))
