#!/usr/bin/env bash
# Makes (once) the fault suite's Python environment in $IMGPIPE_CACHE/faults-venv
# with the pinned packages of requirements.txt, and prints its python. A stamp
# with the checksum of requirements.txt makes later calls instant; a changed
# requirements.txt reinstalls.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${IMGPIPE_CACHE:-$HOME/.cache/imgpipe}"
venv="$cache/faults-venv"
requirements="$here/requirements.txt"
stamp="$venv/.requirements.sha256"

sum="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(<"$stamp")" == "$sum" ]]; then
  echo "$venv/bin/python"
  exit 0
fi

python="$(command -v python3.11 || command -v python3)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "faults: Python 3.11 or newer is needed ($python is older)" >&2; exit 1; }
echo "faults: installing the suite's Python packages into $venv (once)" >&2
mkdir -p "$cache"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
echo "$sum" >"$stamp"
echo "$venv/bin/python"
