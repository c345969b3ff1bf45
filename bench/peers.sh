# shellcheck shell=bash
# Installs the benchmark's peers into the cache, never into the repository;
# sourced by bench/run.sh and bench/compare.sh. Each install is redone only
# when its pinned requirements change (a stamp of their hash).

# peers_venv VENV REQUIREMENTS LOG: a venv with the pinned Python packages.
peers_venv() {
  local venv=$1 requirements=$2 log=$3 stamp
  stamp=$(sha256sum "$requirements" | cut -c1-16)
  if [[ -x $venv/bin/python && -f $venv/.stamp && $(<"$venv/.stamp") == "$stamp" ]]; then
    return 0
  fi
  rm -rf "$venv"
  python3 -m venv "$venv" >"$log" 2>&1 \
    && "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >>"$log" 2>&1 \
    && printf '%s\n' "$stamp" >"$venv/.stamp"
}

# peers_node DIR PEERS LOG: `npm ci` of PEERS/package-lock.json in DIR; then
# checks that every dependency loads.
peers_node() {
  local dir=$1 peers=$2 log=$3 stamp
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node and npm are not installed (apt-get install nodejs npm)" >"$log"
    return 1
  fi
  stamp=$(cat "$peers/package.json" "$peers/package-lock.json" | sha256sum | cut -c1-16)
  if ! [[ -f $dir/.stamp && $(<"$dir/.stamp") == "$stamp" ]]; then
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$peers/package.json" "$peers/package-lock.json" "$dir/"
    # --ignore-scripts: sharp's prebuilt libvips comes inside the npm packages
    # @img/sharp-linux-x64 and @img/sharp-libvips-linux-x64.
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >"$log" 2>&1 || return 1
    printf '%s\n' "$stamp" >"$dir/.stamp"
  fi
  node -e "const r = require('module').createRequire('$dir/package.json');
           for (const m of Object.keys(require('$dir/package.json').dependencies)) r(m);" >"$log" 2>&1
}
