#!/usr/bin/env bash
# Installs what imgpipe needs to build, test and run its local stack
# (Debian bookworm, apt-get). Idempotent: when everything is present it only
# runs dpkg-query and exits within a second; `apt-get update` runs only when
# something is missing.
#
#   scripts/bootstrap.sh           install what is missing
#   scripts/bootstrap.sh --check   print what is missing, install nothing
#                                  (exit 1 when something is missing)
#
# Go: MinIO (built from source by scripts/stack/stack.sh) needs Go >= 1.24.
# Debian bookworm ships 1.19; bookworm-backports ships up to 1.23, and a Go
# >= 1.21 fetches the newer toolchain MinIO's go.mod asks for by itself
# (GOTOOLCHAIN=auto, the toolchain is an ordinary Go module). So: a `go` that
# is >= 1.24 is used as is; otherwise golang-go is installed from
# bookworm-backports.
set -euo pipefail

readonly APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  librdkafka-dev libssl-dev libvips-dev libcurl4-openssl-dev nlohmann-json3-dev
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libcpp-httplib-dev clang-format clang-tidy
  mate-backgrounds colord-data zlib1g-dev
  # make bench: the camera-like corpus (bench/peers/make_camera_corpus.py) and its venv
  plasma-workspace-wallpapers python3-venv
  curl jq python3 libimage-exiftool-perl
  podman runc debootstrap
  # make test-prometheus; the demo contact sheet's browser test (tests/demo)
  prometheus
  chromium chromium-driver
  # make fuzz / fuzz-short: libFuzzer (tests/fuzz)
  clang-14 libclang-rt-14-dev
)
readonly GO_MIN_MINOR=24          # go 1.24
readonly GO_AUTO_SWITCH_MINOR=21  # go 1.21+ can fetch a newer toolchain itself
readonly BACKPORTS_LIST=/etc/apt/sources.list.d/imgpipe-bookworm-backports.list

# shellcheck source=scripts/lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"

CHECK_ONLY=0
MISSING=()          # packages from the main suites
MISSING_BACKPORTS=()

log() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

missing_list() {
  local all=("${MISSING[@]}" "${MISSING_BACKPORTS[@]}")
  echo "${all[*]}"
}

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" == ii* ]]
}

# go version as the minor number of 1.x, or empty when there is no go.
go_minor() {
  command -v go >/dev/null 2>&1 || return 0
  go env GOVERSION 2>/dev/null | sed -nE 's/^go1\.([0-9]+).*/\1/p'
}

collect_missing() {
  local p
  for p in "${APT_PACKAGES[@]}"; do
    is_installed "$p" || MISSING+=("$p")
  done
  command -v java >/dev/null 2>&1 || MISSING+=(default-jre-headless)
  command -v mvn >/dev/null 2>&1 || MISSING+=(maven)

  local minor
  minor="$(go_minor)"
  if [[ -z "$minor" || "$minor" -lt "$GO_AUTO_SWITCH_MINOR" ]]; then
    MISSING_BACKPORTS+=(golang-go)
  elif [[ "$minor" -lt "$GO_MIN_MINOR" ]]; then
    log "go 1.$minor found; building MinIO will fetch go 1.$GO_MIN_MINOR+ as a Go toolchain module (needs GOTOOLCHAIN=auto)"
  fi
}

check_platform() {
  command -v dpkg-query >/dev/null 2>&1 || die "this script needs Debian/Ubuntu (dpkg-query not found)"
  [[ "$(id -u)" -eq 0 ]] || command -v sudo >/dev/null 2>&1 \
    || die "run as root or install sudo (missing: $(missing_list))"
}

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi
}


enable_backports() {
  [[ -f "$BACKPORTS_LIST" ]] && return 0
  local codename
  # shellcheck disable=SC1091
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  [[ "$codename" == bookworm ]] \
    || die "no usable go (>= 1.$GO_AUTO_SWITCH_MINOR) and not on Debian bookworm ($codename): install Go >= 1.$GO_MIN_MINOR yourself"
  # Same mirror as the main suite, so no host is named here.
  local mirror
  mirror="$(debian_mirror)"
  [[ -n "$mirror" ]] || die "cannot find the Debian mirror in /etc/apt/sources.list*"
  log "enabling bookworm-backports ($BACKPORTS_LIST) for golang-go"
  echo "deb $mirror bookworm-backports main" | as_root tee "$BACKPORTS_LIST" >/dev/null
}

install_missing() {
  export DEBIAN_FRONTEND=noninteractive
  [[ ${#MISSING_BACKPORTS[@]} -eq 0 ]] || enable_backports
  log "apt-get update"
  as_root apt-get update -q >/dev/null || die "apt-get update failed"
  if [[ ${#MISSING[@]} -gt 0 ]]; then
    log "installing: ${MISSING[*]}"
    as_root apt-get install -y -q --no-install-recommends "${MISSING[@]}" \
      || die "apt-get install failed for: ${MISSING[*]}"
  fi
  if [[ ${#MISSING_BACKPORTS[@]} -gt 0 ]]; then
    log "installing from bookworm-backports: ${MISSING_BACKPORTS[*]}"
    as_root apt-get install -y -q --no-install-recommends -t bookworm-backports "${MISSING_BACKPORTS[@]}" \
      || die "apt-get install failed for: ${MISSING_BACKPORTS[*]}"
    hash -r
    [[ -n "$(go_minor)" ]] || die "go still not on PATH after installing golang-go"
  fi
}

main() {
  case "${1:-}" in
    "") ;;
    --check) CHECK_ONLY=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac

  collect_missing
  if [[ ${#MISSING[@]} -eq 0 && ${#MISSING_BACKPORTS[@]} -eq 0 ]]; then
    log "all dependencies present"
    return 0
  fi
  if [[ "$CHECK_ONLY" -eq 1 ]]; then
    log "missing: $(missing_list)"
    return 1
  fi
  check_platform
  install_missing
  log "done"
}

main "$@"
