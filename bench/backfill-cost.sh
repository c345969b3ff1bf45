#!/usr/bin/env bash
# What a backfill costs here: listing and comparing N objects (default
# 10 000) with two outputs each, when nothing exists yet and when everything
# is up to date, and processing them with --direct. Writes
# bench/results/backfill-cost.{md,json}.
#
#   source .stack/env && bench/backfill-cost.sh build/src/cli/imgpipe [N]
#
# Expects the local stack (make stack-up). The objects are small (160x120
# JPEGs), so the numbers are about requests, not decoding. The buckets
# (bfcost-*) are left in the stack; `make stack-clean` removes them.
set -euo pipefail

imgpipe=$(realpath "${1:?usage: bench/backfill-cost.sh path/to/imgpipe [objects]}")
count=${2:-10000}
: "${IMGPIPE_S3_ENDPOINT:?source .stack/env first}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
results=$here/results
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

id=bfcost-$(date +%s)
source_bucket=$id-raw
target_bucket=$id-out
export IMGPIPE_STATE_DIR=$work/state
s3() {  # s3 METHOD PATH [curl args...]: a signed request to the stack's MinIO
  local method=$1 path=$2
  shift 2
  curl -sf -X "$method" --aws-sigv4 "aws:amz:${IMGPIPE_S3_REGION:-us-east-1}:s3" \
    --user "$IMGPIPE_S3_ACCESS_KEY:$IMGPIPE_S3_SECRET_KEY" "$@" "$IMGPIPE_S3_ENDPOINT/$path"
}
export -f s3

cat >"$work/rules.yaml" <<YAML
rules:
  - name: photos
    match: {bucket: $source_bucket, suffix: .jpg}
    outputs:
      - {name: thumb, bucket: $target_bucket, key: "thumbs/{key}", resize: {width: 64, height: 64}}
      - {name: web, bucket: $target_bucket, key: "web/{key}.{format}", resize: {width: 96, height: 96}, format: webp}
YAML
cat >"$work/tiny.yaml" <<YAML
rules:
  - name: tiny
    match: {bucket: raw}
    outputs: [{name: tiny, bucket: out, key: "{key}", resize: {width: 160, height: 120}}]
YAML
"$imgpipe" process --config "$work/tiny.yaml" --output-dir "$work/tiny" \
  /usr/share/backgrounds/mate/nature/Dune.jpg >/dev/null
photo=$work/tiny/out/Dune.jpg

s3 PUT "$source_bucket" >/dev/null
s3 PUT "$target_bucket" >/dev/null
echo "uploading $count objects to $source_bucket ..." >&2
upload_start=$(date +%s.%N)
# shellcheck disable=SC2016  # expanded by the inner bash
seq -f "obj/%05g.jpg" 0 $((count - 1)) |
  xargs -P 16 -I{} bash -c 's3 PUT "$0/$2" -T "$1" -o /dev/null' "$source_bucket" "$photo" {}
upload_s=$(echo "$(date +%s.%N) - $upload_start" | bc)

run() {  # run NAME ARGS...: one backfill, its JSON summary with the wall time added
  local name=$1
  shift
  local start end
  start=$(date +%s.%N)
  IMGPIPE_LOG_LEVEL=warn "$imgpipe" backfill --config "$work/rules.yaml" --json "$@" \
    2>"$work/$name.err" >"$work/$name.json"
  end=$(date +%s.%N)
  python3 - "$work/$name.json" "$(echo "$end - $start" | bc)" "$name" <<'PY'
import json, sys
summary = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
summary["wall_s"] = round(float(sys.argv[2]), 2)
summary["name"] = sys.argv[3]
print(json.dumps(summary))
PY
}

echo "dry run, nothing rendered yet ..." >&2
missing=$(run missing --dry-run)
echo "processing with --direct ..." >&2
direct=$(run direct --direct)
echo "dry run, everything up to date ..." >&2
current=$(run current --dry-run)

mkdir -p "$results"
python3 - "$results" "$count" "$upload_s" "$missing" "$direct" "$current" <<'PY'
import json, os, platform, sys
out, count, upload_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
runs = [json.loads(text) for text in sys.argv[4:]]
machine = {"cores": os.cpu_count(), "kernel": platform.release()}
doc = {"objects": count, "outputs_per_object": 2, "upload_s": round(upload_s, 1),
       "machine": machine, "runs": runs}
open(os.path.join(out, "backfill-cost.json"), "w").write(json.dumps(doc, indent=2) + "\n")
labels = {"missing": "dry run, no outputs yet", "direct": "--direct (render and write)",
          "current": "dry run, all up to date"}
lines = ["# Backfill cost", "",
         f"{count} objects (160x120 JPEG), two outputs each, local MinIO, "
         f"{machine['cores']} cores; `bench/backfill-cost.sh`.", "",
         "| run | wall s | objects/s | LIST | HEAD | GET | classes |", "|---|---|---|---|---|---|---|"]
for run in runs:
    classes = ", ".join(f"{k} {run[k]}" for k in ("missing", "stale", "outdated", "up_to_date")
                        if run.get(k))
    gets = count if run["name"] == "direct" else 0
    lines.append(f"| {labels[run['name']]} | {run['wall_s']} | {round(count / run['wall_s'])} | "
                 f"{run['list_requests']} | {run['head_requests']} | {gets} | {classes} |")
lines += ["", "HEADs of a dry run are counted by the backfill itself; with `--direct` the worker's "
          "own HEADs and GETs (one GET per object, a HEAD before each conditional PUT) come on top "
          "and are not in the HEAD column.", ""]
open(os.path.join(out, "backfill-cost.md"), "w").write("\n".join(lines))
print("\n".join(lines))
PY
