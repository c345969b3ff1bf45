#!/usr/bin/env bash
# What the library version is worth: the same `imgpipe process` run (default
# rules: fit in 1024x1024, auto-orient, sRGB, strip) over the benchmark corpus
# (bench/corpus.sh) by the host build (Debian 12: libvips 8.14) and by the
# container image (Debian 13: libvips 8.16). One process, files one after
# another, so CPU time per image is the figure; bash's `time` measures user
# and system CPU of the process in both places. Runs each RUNS times
# alternately and prints the median of each and their ratio.
#
#   bench/image_vs_host.sh path/to/imgpipe IMAGE [RUNS]
set -euo pipefail

readonly HOST_BIN=${1:?usage: image_vs_host.sh path/to/imgpipe IMAGE [RUNS]}
readonly IMAGE=${2:?usage: image_vs_host.sh path/to/imgpipe IMAGE [RUNS]}
readonly RUNS=${3:-3}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT

corpus="$("$ROOT/bench/corpus.sh" "$HOST_BIN")"
mapfile -t ENGINE < <("$ROOT/scripts/image.sh" engine)
count=$(find "$corpus" -maxdepth 1 -name '*.jpg' | wc -l)
((count > 0)) || { echo "no JPEGs in $corpus" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Prints "user system wall" seconds of one run.
# shellcheck disable=SC2016  # expanded by the inner bash
# One thread per render (IMGPIPE_RENDERS=1), as measured before `process` used every core.
readonly TIMED='TIMEFORMAT="%U %S %R"; { time IMGPIPE_RENDERS=1 "$0" process --output-dir "$1" "$2"/*.jpg >/dev/null 2>&1; } 2>&1'
host_run() { bash -c "$TIMED" "$HOST_BIN" "$out" "$corpus"; }
image_run() {
  "${ENGINE[@]}" run --rm --network none --read-only --tmpfs /tmp -v "$corpus:/corpus:ro" \
    --entrypoint /bin/bash "$IMAGE" -c "$TIMED" /usr/local/bin/imgpipe /tmp /corpus
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cpu_ms_per_image() { awk -v n="$count" '{ printf "%.1f\n", ($1 + $2) * 1000 / n }'; }

host_cpu=() image_cpu=()
for ((i = 1; i <= RUNS; i++)); do
  host_cpu+=("$(host_run | cpu_ms_per_image)")
  image_cpu+=("$(image_run | cpu_ms_per_image)")
  echo "run $i: host ${host_cpu[-1]} ms, image ${image_cpu[-1]} ms of CPU per image" >&2
done
host="$(printf '%s\n' "${host_cpu[@]}" | median)"
image="$(printf '%s\n' "${image_cpu[@]}" | median)"
echo "corpus: $count JPEGs in $corpus; $RUNS runs each, medians"
echo "host  (Debian 12, libvips $(pkg-config --modversion vips 2>/dev/null || echo '?')): $host ms CPU per image"
echo "image (Debian 13, $IMAGE): $image ms CPU per image"
awk -v a="$image" -v b="$host" 'BEGIN { printf "image / host: %.2f\n", a / b }'
