#!/usr/bin/env bash
# Builds the benchmark corpus: 48 JPEGs of 4000x3000 derived from Debian's
# mate-backgrounds photos (every *.jpg under /usr/share/backgrounds/mate, 16
# files), three variants of each: (a) centre 4:3 crop, quality 90; (b) west
# crop mirrored, quality 90; (c) east crop, quality 85; all baseline, 4:2:0
# chroma, no metadata. The result is cached; a second call only checks a stamp.
#
#   bench/corpus.sh path/to/imgpipe [DIR]    prints DIR on stdout
#
# DIR defaults to ${IMGPIPE_CACHE:-~/.cache/imgpipe}/bench-corpus.
# BENCH_PHOTOS overrides the source folder.
#
# Made by bench/peers/make_corpus.py with the pinned Pillow when BENCH_PYTHON
# names a python that has it (bench/run.sh passes its venv's): the same bytes
# on every machine. Otherwise made by `imgpipe process` (libvips, Lanczos
# upscale), whose bytes follow the build of imgpipe and libvips. The stamp
# records which, so the two never mix.
set -euo pipefail

imgpipe=${1:?usage: corpus.sh path/to/imgpipe [DIR]}
cache=${IMGPIPE_CACHE:-$HOME/.cache/imgpipe}
corpus=${2:-$cache/bench-corpus}
photos=${BENCH_PHOTOS:-/usr/share/backgrounds/mate}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly variants=3

log() { printf 'corpus: %s\n' "$*" >&2; }
die() { printf 'corpus: error: %s\n' "$*" >&2; exit 1; }

mapfile -t sources < <(find "$photos" -type f -iname '*.jpg' 2>/dev/null | LC_ALL=C sort)
(( ${#sources[@]} > 0 )) || die "no *.jpg under $photos (apt-get install mate-backgrounds)"

# The imgpipe recipe of the same three variants (the fallback).
# {name} drops the directory and the extension; unique_keys: false says that is
# fine here: the keys are the photos' file names, and the count of JPEGs made
# (below) would show two that met.
recipe=$(cat <<'EOF'
rules:
  - name: corpus
    match: {bucket: photos}
    outputs:
      - name: a
        bucket: corpus
        key: "{name}-a.{format}"
        unique_keys: false
        resize: {width: 4000, height: 3000, mode: fill, gravity: centre, upscale: true}
        format: jpeg
        encoder: {quality: 90, chroma: "420"}
      - name: b
        bucket: corpus
        key: "{name}-b.{format}"
        unique_keys: false
        operations:
          - resize: {width: 4000, height: 3000, mode: fill, gravity: west, upscale: true}
          - flip: horizontal
        format: jpeg
        encoder: {quality: 90, chroma: "420"}
      - name: c
        bucket: corpus
        key: "{name}-c.{format}"
        unique_keys: false
        resize: {width: 4000, height: 3000, mode: fill, gravity: east, upscale: true}
        format: jpeg
        encoder: {quality: 85, chroma: "420"}
EOF
)

if [[ -n ${BENCH_PYTHON:-} ]] && "$BENCH_PYTHON" -c 'import PIL' 2>/dev/null; then
  maker="pillow $("$BENCH_PYTHON" -c 'import PIL; print(PIL.__version__)')"
  recipe_text=$(cat "$here/peers/make_corpus.py")
else
  [[ -x $imgpipe ]] || die "$imgpipe is not an executable (make build)"
  maker="imgpipe $(sha256sum "$imgpipe" | cut -c1-12)"
  recipe_text=$recipe
fi
expected=$(( ${#sources[@]} * variants ))
stamp=$( { printf '%s\n%s\n' "$maker" "$recipe_text"; for f in "${sources[@]}"; do stat -c '%n %s' "$f"; done; } \
         | sha256sum | cut -c1-16)

if [[ -f $corpus/.stamp && $(<"$corpus/.stamp") == "$stamp" ]] \
   && (( $(find "$corpus" -maxdepth 1 -name '*.jpg' | wc -l) == expected )); then
  log "cached: $expected JPEGs in $corpus (made by ${maker%% *})"
  printf '%s\n' "$corpus"
  exit 0
fi

log "building $expected JPEGs of 4000x3000 from ${#sources[@]} photos in $photos with ${maker} (once)"
mkdir -p "$(dirname "$corpus")"
tmp=$(mktemp -d "$corpus.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cores=$(nproc)
if [[ $maker == pillow* ]]; then
  "$BENCH_PYTHON" "$here/peers/make_corpus.py" --out "$tmp/out/corpus" --workers "$cores" \
    "${sources[@]}" >/dev/null || die "make_corpus.py failed"
else
  printf '%s\n' "$recipe" >"$tmp/recipe.yaml"
  # `imgpipe process` handles its files one after another: one process per core,
  # each render on one thread (it would use every core otherwise).
  per_process=$(( (${#sources[@]} + cores - 1) / cores ))
  printf '%s\0' "${sources[@]}" |
    IMGPIPE_RENDERS=1 xargs -0 -P "$cores" -n "$per_process" \
      "$imgpipe" process --config "$tmp/recipe.yaml" --bucket photos --output-dir "$tmp/out" \
      >"$tmp/process.jsonl" || die "imgpipe process failed: $(grep -v '"status":"ok"' "$tmp/process.jsonl" | head -3)"
fi
made=$(find "$tmp/out/corpus" -maxdepth 1 -name '*.jpg' | wc -l)
(( made == expected )) || die "made $made JPEGs, expected $expected"

rm -rf "$corpus"
mv "$tmp/out/corpus" "$corpus"
printf '%s\n' "$stamp" >"$corpus/.stamp"
printf '%s\n' "$maker" >"$corpus/.maker"
log "built $made JPEGs in $corpus ($(du -sh "$corpus" | cut -f1))"
printf '%s\n' "$corpus"
