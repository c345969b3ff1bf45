#!/usr/bin/env bash
# imgpipe process: one JSON line per input, outputs under DIR/<bucket>/<key>,
# exit 0 when all succeeded and 2 when any was rejected.
set -euo pipefail
imgpipe=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

photo=/usr/share/backgrounds/mate/nature/Aqua.jpg   # 2560x1600
printf 'not an image' >"$work/notes.jpg"
cat >"$work/rules.yaml" <<'YAML'
rules:
  - name: web
    match: {bucket: uploads, suffix: .jpg}
    outputs:
      - {name: thumb, bucket: thumbs, key: "t/{key}.{format}", resize: {width: 200}, format: webp, sidecar: true}
      - {name: big, bucket: big, resize: {width: 1280}}
YAML

# All good: exit 0, both outputs and the sidecar on disk, dimensions in the line.
"$imgpipe" process --config "$work/rules.yaml" --bucket uploads --output-dir "$work/out" "$photo" >"$work/ok.jsonl" \
  || fail "exit status $? for a good input"
[[ $(wc -l <"$work/ok.jsonl") -eq 1 ]] || fail "expected one line: $(cat "$work/ok.jsonl")"
python3 - "$work/ok.jsonl" <<'PY'
import json, sys
line = json.loads(open(sys.argv[1]).read())
assert line["status"] == "ok", line
outputs = {o["variant"]: o for o in line["outputs"]}
assert outputs["thumb"]["key"] == "t/Aqua.jpg.webp" and outputs["thumb"]["width"] == 200, outputs
assert outputs["thumb"]["format"] == "webp" and outputs["thumb"]["height"] == 125, outputs
assert outputs["big"]["key"] == "Aqua.jpg" and outputs["big"]["width"] == 1280, outputs
PY
[[ -s "$work/out/thumbs/t/Aqua.jpg.webp" ]] || fail "thumbs/t/Aqua.jpg.webp missing"
[[ -s "$work/out/thumbs/t/Aqua.jpg.webp.json" ]] || fail "sidecar missing"
[[ -s "$work/out/big/Aqua.jpg" ]] || fail "big/Aqua.jpg missing"
[[ $(head -c 4 "$work/out/thumbs/t/Aqua.jpg.webp") == RIFF ]] || fail "thumb is not WebP"

# A rejected, a missing and a skipped input: exit 2, one line each, reasons named.
status=0
"$imgpipe" process --config "$work/rules.yaml" --bucket uploads --output-dir "$work/out" \
  "$work/notes.jpg" "$work/missing.jpg" /usr/share/backgrounds/mate/abstract/Flow.png >"$work/bad.jsonl" || status=$?
[[ $status -eq 2 ]] || fail "exit status $status, expected 2"
python3 - "$work/bad.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["status"] for l in lines] == ["rejected", "rejected", "skipped"], lines
assert lines[0]["reason"] == "not_an_image", lines[0]
assert lines[1]["reason"] == "object_missing", lines[1]
assert lines[2]["reason"] == "no_matching_rule", lines[2]
PY
echo "imgpipe process: statuses, reasons, outputs and exit codes as documented"
