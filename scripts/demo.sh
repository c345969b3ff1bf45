#!/usr/bin/env bash
# The demo behind `make demo`: set up buckets/topic/notification, start the
# worker, upload real photographs into `raw`, wait until every resized copy
# is in `processed`, print a table, write an HTML contact sheet of sources and
# outputs (scripts/demo_report.py), stop the worker with SIGTERM.
# Expects the stack's settings in the environment (source .stack/env).
# DEMO_PHOTOS (a folder), DEMO_HTTP_PORT (8080), DEMO_TIMEOUT_S (300),
# DEMO_REPORT_DIR (demo-report), IMGPIPE_SOURCE_BUCKET/IMGPIPE_TARGET_BUCKET.
set -euo pipefail

imgpipe=${1:?usage: demo.sh path/to/imgpipe}
photos=${DEMO_PHOTOS:-/usr/share/backgrounds/mate}
source_bucket=${IMGPIPE_SOURCE_BUCKET:-raw}
target_bucket=${IMGPIPE_TARGET_BUCKET:-processed}
port=${DEMO_HTTP_PORT:-8080}
export IMGPIPE_HTTP_LISTEN=127.0.0.1:${port}
log=${IMGPIPE_STACK_DIR:-.stack}/demo-worker.log
uploads=${IMGPIPE_STACK_DIR:-.stack}/demo-uploads.tsv
report_dir=${DEMO_REPORT_DIR:-demo-report}
timeout_s=${DEMO_TIMEOUT_S:-300}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# RFC 3986 encoding of each path segment of a key.
encode_key() { jq -rn --arg k "$1" '$k | split("/") | map(@uri) | join("/")'; }

s3_put() {  # file key
  curl -fsS --aws-sigv4 "aws:amz:${IMGPIPE_S3_REGION}:s3" \
    --user "${IMGPIPE_S3_ACCESS_KEY}:${IMGPIPE_S3_SECRET_KEY}" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    -T "$1" "${IMGPIPE_S3_ENDPOINT}/${source_bucket}/$(encode_key "$2")" -o /dev/null
}

now_ms() { date +%s%3N; }

stop_worker() {
  if [[ -n ${worker_pid:-} ]] && kill -0 "$worker_pid" 2>/dev/null; then
    kill -TERM "$worker_pid"
    wait "$worker_pid" && status=0 || status=$?
    say "worker stopped with SIGTERM, exit status ${status}"
  fi
}
trap stop_worker EXIT

say "imgpipe setup"
"$imgpipe" setup

say "starting the worker (log: ${log})"
"$imgpipe" run >"$log" 2>&1 &
worker_pid=$!
for _ in $(seq 1 150); do
  curl -fs "http://127.0.0.1:${port}/readyz" >/dev/null 2>&1 && break
  kill -0 "$worker_pid" 2>/dev/null || die "worker exited; see ${log}"
  sleep 0.2
done
curl -fs "http://127.0.0.1:${port}/readyz" >/dev/null || die "worker not ready after 30 s; see ${log}"

mapfile -t files < <(find "$photos" -type f \( -name '*.jpg' -o -name '*.png' \) | sort)
(( ${#files[@]} > 0 )) || die "no photos in ${photos} (Debian package mate-backgrounds)"
say "uploading ${#files[@]} photos to s3://${source_bucket}/demo/"
: >"$uploads"
start_ms=$(now_ms)
for file in "${files[@]}"; do
  dir=$(basename "$(dirname "$file")")
  key="demo/${dir} photos/$(basename "$file")"
  s3_put "$file" "$key"
  printf '%s\t%s\t%s\n' "$key" "$file" "$(now_ms)" >>"$uploads"
  printf '.'
done
printf '\n'

say "waiting for ${#files[@]} outputs in s3://${target_bucket}/demo/"
deadline=$(( $(date +%s) + timeout_s ))
while :; do
  done_count=$(jq -r --arg from "$start_ms" 'select(.msg=="processed" and (.key|startswith("demo/"))) | .key' "$log" 2>/dev/null | sort -u | wc -l)
  printf '\r  %d/%d' "$done_count" "${#files[@]}"
  (( done_count >= ${#files[@]} )) && break
  (( $(date +%s) < deadline )) || { printf '\n'; die "timed out; see ${log}"; }
  sleep 0.5
done
end_ms=$(now_ms)
printf '\n'

say "results"
scripts_dir=$(dirname "${BASH_SOURCE[0]}")
python3 "$scripts_dir/demo_report.py" --log "$log" --uploads "$uploads" --out "$report_dir" \
  --source-bucket "$source_bucket"
printf '\n%d photos in %.1f s, first upload to last output; metrics: http://127.0.0.1:%s/metrics\n' \
  "${#files[@]}" "$(( end_ms - start_ms ))e-3" "$port"
curl -fs "http://127.0.0.1:${port}/metrics" | grep -E '^imgpipe_(objects_processed_total|objects_failed_total|input_bytes_total|output_bytes_total) ' || true
say "contact sheet: file://$(realpath "$report_dir")/index.html"
if [[ -n ${IMGPIPE_STACK_PROMETHEUS:-} ]]; then
  say "Prometheus scraped the worker: ${IMGPIPE_STACK_PROMETHEUS}/graph (alerts: ${IMGPIPE_STACK_PROMETHEUS}/alerts)"
fi
