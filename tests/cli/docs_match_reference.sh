#!/usr/bin/env bash
# docs/configuration.md must show exactly what `imgpipe config --reference` prints.
set -euo pipefail
imgpipe=$1 doc=$2
expected=$("$imgpipe" config --reference)
actual=$(sed -n '/<!-- settings:begin -->/,/<!-- settings:end -->/p' "$doc" | sed '1d;$d')
if [[ "$expected" != "$actual" ]]; then
  echo "docs/configuration.md is out of date; regenerate the table with: imgpipe config --reference" >&2
  diff <(echo "$expected") <(echo "$actual") >&2 || true
  exit 1
fi
echo "docs/configuration.md matches imgpipe config --reference"

# The example configuration in the docs must be valid.
example=$(mktemp)
trap 'rm -f "$example"' EXIT
sed -n '/<!-- example:begin -->/,/<!-- example:end -->/p' "$doc" | sed '1,2d;$d' | sed '$d' > "$example"
grep -q '^rules:' "$example" || { echo "docs/configuration.md: example block not found" >&2; exit 1; }
IMGPIPE_S3_ACCESS_KEY=x IMGPIPE_S3_SECRET_KEY=y "$imgpipe" validate --config "$example"
