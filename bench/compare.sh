#!/usr/bin/env bash
# `make bench`: imgpipe side by side with what users would run instead, end to
# end on the local stack (bench/README.md says what and how).
#
#   bench/compare.sh BUILD_DIR        (the stack's env file sourced, the stack up)
#
# Installs the peers (Python venv, npm) and makes the camera-like corpus on the
# first run, all into $IMGPIPE_CACHE; then bench/peers/e2e.py measures each
# system and e2e_report.py writes bench/results/latest.{md,json,png} and a dated
# copy. BENCH_QUICK=1 (`make bench QUICK=1`, run by `make test`): 12 images,
# 10 s at the low rate, 2 single uploads, 100 event uploads, results into $IMGPIPE_CACHE/bench-results/quick: it
# shows that the harness works, its numbers are not results.
# Settings: BENCH_COUNT (300 images), BENCH_STEADY_S (60), BENCH_RATE (2 per s),
# BENCH_EVENTS (2000 small uploads that time MinIO's event delivery; 0: skip),
# BENCH_SINGLE (10 uploads 4 s apart, each alone in the consumer; QUICK: 2; 0: skip),
# BENCH_DRAIN_ROUNDS (3 drains per system, medians reported; QUICK: 2),
# BENCH_SYSTEMS (imgpipe,imgpipe-image,python-tutorial,python-procs,node-sharp,
# limit,limit-image; QUICK leaves out the two image rows),
# BENCH_KEEP=1 (keep the buckets and the systems' logs).
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in bench/peers

build=$(realpath "${1:?usage: bench/compare.sh BUILD_DIR}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
peers=$here/peers
# shellcheck source=bench/peers.sh
source "$here/peers.sh"
cache=${IMGPIPE_CACHE:-$HOME/.cache/imgpipe}
imgpipe=$build/src/cli/imgpipe
limit=$build/bench/limit/bench_limit
count=${BENCH_COUNT:-300} steady=${BENCH_STEADY_S:-60} events=${BENCH_EVENTS:-2000} single=${BENCH_SINGLE:-10}
rounds=${BENCH_DRAIN_ROUNDS:-3}
results=$here/results dated=1
systems=${BENCH_SYSTEMS:-imgpipe,imgpipe-image,python-tutorial,python-procs,node-sharp,limit,limit-image}
if [[ ${BENCH_QUICK:-0} == 1 ]]; then  # the image rows: make test-image exercises the image
  count=12 steady=10 events=${BENCH_EVENTS:-100} single=${BENCH_SINGLE:-2} rounds=${BENCH_DRAIN_ROUNDS:-2}
  results=$cache/bench-results/quick dated=0
  systems=${BENCH_SYSTEMS:-imgpipe,python-tutorial,python-procs,node-sharp,limit}
fi

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

[[ -x $imgpipe && -x $limit ]] || die "$imgpipe or $limit missing (make build)"
for v in IMGPIPE_S3_ENDPOINT IMGPIPE_S3_ACCESS_KEY IMGPIPE_S3_SECRET_KEY IMGPIPE_KAFKA_BROKERS; do
  [[ -n ${!v:-} ]] || die "$v is not set: run through 'make bench' or 'source .stack/env' first"
done
mkdir -p "$cache" "$results"
log=$(mktemp "${TMPDIR:-/tmp}/imgpipe-bench-install.XXXXXX")
trap 'rm -f "$log" "${raw:-}"' EXIT

say "peers (into $cache)"
venv=$cache/bench-venv node_dir=$cache/bench-node
peers_venv "$venv" "$peers/requirements.txt" "$log" || die "could not make $venv: $(tail -3 "$log")"
peers_node "$node_dir" "$peers" "$log" || die "could not install the node peer: $(tail -3 "$log")"

(cd "$peers" && "$venv/bin/python" -m unittest -q test_e2e_report test_e2e 2>"$log") ||
  die "the report's own tests failed: $(tail -5 "$log")"

corpus=$cache/bench-camera-$count
if [[ ! -f $corpus/manifest.json ]]; then
  say "corpus: $count camera-like images (once; about 2.5 s an image on 2 cores)"
  rm -rf "$corpus.tmp"
  "$venv/bin/python" "$peers/make_camera_corpus.py" "$corpus.tmp" --count "$count" >/dev/null
  rm -rf "$corpus" && mv "$corpus.tmp" "$corpus"
fi
cat "$corpus"/* >/dev/null  # into the page cache: every system reads warm files

image_args=()
if [[ ,$systems, == *,imgpipe-image,* || ,$systems, == *,limit-image,* ]]; then
  say "the image's build stage (for limit-image; cached layers of make image)"
  "$here/../scripts/image.sh" build-stage >"$log" 2>&1 || die "scripts/image.sh build-stage: $(tail -3 "$log")"
  image=$("$here/../scripts/image.sh" tag)
  image_args=(--image "$image" --build-image "$image-build" --engine "$("$here/../scripts/image.sh" engine | tr '\n' ' ')")
fi

say "end to end: $systems; $count images, ${BENCH_RATE:-2}/s for ${steady} s"
raw=$(mktemp "${TMPDIR:-/tmp}/imgpipe-bench-raw.XXXXXX")
keep=()
[[ ${BENCH_KEEP:-0} == 1 ]] && keep=(--keep)
"$venv/bin/python" "$peers/e2e.py" --corpus "$corpus" --imgpipe "$imgpipe" --limit "$limit" \
  --node-dir "$node_dir" --rate "${BENCH_RATE:-2}" --steady "$steady" --single "$single" --events "$events" \
  --drain-rounds "$rounds" \
  --json "$raw" "${keep[@]}" \
  --systems "$systems" "${image_args[@]}"
date_arg=()
((dated)) && date_arg=(--date "$(date -u +%Y-%m-%d)")
"$venv/bin/python" "$peers/e2e_report.py" "$raw" --out "$results" "${date_arg[@]}"
rm -f "$raw"
printf '\nresults: %s/latest.md (and .json, .png)\n' "$results"
