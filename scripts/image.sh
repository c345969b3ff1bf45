#!/usr/bin/env bash
# The worker's container image, built from the project's Dockerfile with
# docker (when a Docker engine answers) or Debian's podman (no daemon needed).
#
#   scripts/image.sh build     build $IMGPIPE_IMAGE (the base image first, once per machine)
#   scripts/image.sh build-stage  build only the Dockerfile's build stage, as $IMGPIPE_IMAGE-build
#                              (cached layers: seconds after `build`; make bench runs bench_limit in it)
#   scripts/image.sh base      make the Debian base image only (podman)
#   scripts/image.sh size      print the image's size in bytes
#   scripts/image.sh tag       print the image's name
#   scripts/image.sh engine    print the engine's command line (docker or podman with its flags)
#
# With docker the Dockerfile's own base (debian:trixie-slim) is pulled as
# usual. With podman, where no registry can be reached, the base is made
# without a pull: debootstrap --variant=minbase of Debian $IMAGE_SUITE from the
# machine's own Debian mirror, imported as $BASE_IMAGE; its tarball is cached
# in $IMGPIPE_CACHE/image so a cleared image store re-imports it in seconds.
# podman runs with runc (crun refuses cgroups in hybrid mode), an empty
# default_ulimits (setting RLIMIT_NOFILE fails otherwise) and host networking,
# through a containers.conf in $IMGPIPE_CACHE/podman.
#
# Environment: IMGPIPE_IMAGE (imgpipe/imgpipe:<project version>),
# IMAGE_SUITE (trixie), CONTAINER_ENGINE (docker|podman; default: docker when
# `docker info` works, else podman), IMGPIPE_CACHE (~/.cache/imgpipe).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
# shellcheck source=scripts/lib/debian.sh
source "$ROOT/scripts/lib/debian.sh"

IMGPIPE_CACHE="${IMGPIPE_CACHE:-$HOME/.cache/imgpipe}"
VERSION="$(sed -nE 's/^project\(imgpipe VERSION ([0-9.]+).*/\1/p' "$ROOT/CMakeLists.txt")"
readonly VERSION
readonly IMAGE="${IMGPIPE_IMAGE:-imgpipe/imgpipe:$VERSION}"
readonly SUITE="${IMAGE_SUITE:-trixie}"
readonly BASE_IMAGE="localhost/imgpipe-base:$SUITE"
readonly BASE_TAR="$IMGPIPE_CACHE/image/base-$SUITE.tar"
readonly PODMAN_CONF="$IMGPIPE_CACHE/podman/containers.conf"

log() { printf 'image: %s\n' "$*" >&2; }
die() { printf 'image: error: %s\n' "$*" >&2; exit 1; }

engine_name() {
  if [[ -n "${CONTAINER_ENGINE:-}" ]]; then
    echo "$CONTAINER_ENGINE"
  elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    echo docker
  elif command -v podman >/dev/null 2>&1; then
    echo podman
  else
    die "neither a Docker engine nor podman found (scripts/bootstrap.sh installs podman)"
  fi
}

write_podman_conf() {
  mkdir -p "$(dirname "$PODMAN_CONF")"
  cat >"$PODMAN_CONF.tmp" <<'EOF'
# Written by scripts/image.sh for podman on these machines.
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  mv -f "$PODMAN_CONF.tmp" "$PODMAN_CONF"
}

# Prints the engine as a command line, one word per line (for mapfile).
engine_cmd() {
  case "$(engine_name)" in
    docker) echo docker ;;
    podman)
      write_podman_conf
      printf '%s\n' env "CONTAINERS_CONF=$PODMAN_CONF" podman --runtime "$(command -v runc || echo runc)"
      ;;
    *) die "CONTAINER_ENGINE must be docker or podman" ;;
  esac
}

ENGINE=()
load_engine() { mapfile -t ENGINE < <(engine_cmd); }

make_base_tarball() {
  command -v debootstrap >/dev/null || die "debootstrap not found (scripts/bootstrap.sh installs it)"
  local mirror dir
  mirror="$(debian_mirror)"
  [[ -n "$mirror" ]] || die "cannot find the Debian mirror in /etc/apt/sources.list*"
  dir="$(mktemp -d "${TMPDIR:-/tmp}/imgpipe-base.XXXXXX")"
  log "debootstrap --variant=minbase $SUITE (once per machine; a few minutes)"
  if ! debootstrap --variant=minbase "$SUITE" "$dir" "$mirror" >"$BASE_TAR.log" 2>&1; then
    tail -n 20 "$BASE_TAR.log" >&2
    rm -rf "$dir"
    die "debootstrap failed; see $BASE_TAR.log"
  fi
  # The release's updates and security fixes too, as Debian's own images have.
  local security
  security="$(debian_security_mirror)"
  {
    echo "deb $mirror $SUITE main"
    echo "deb $mirror $SUITE-updates main"
    if [[ -n "$security" ]]; then echo "deb $security $SUITE-security main"; fi
  } >"$dir/etc/apt/sources.list"
  # What a slim image leaves out: apt caches and lists (the build refreshes them).
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -cf "$BASE_TAR.tmp" .
  mv -f "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "$dir"
}

cmd_base() {
  load_engine
  [[ "$(engine_name)" == podman ]] || { log "docker pulls the Dockerfile's base itself"; return 0; }
  if "${ENGINE[@]}" image exists "$BASE_IMAGE"; then return 0; fi
  mkdir -p "$(dirname "$BASE_TAR")"
  [[ -s "$BASE_TAR" ]] || make_base_tarball
  log "importing $BASE_IMAGE from $BASE_TAR"
  "${ENGINE[@]}" import "$BASE_TAR" "$BASE_IMAGE" >/dev/null 2>&1 || die "importing $BASE_TAR failed"
}

cmd_build() {  # [stage]: the whole image, or only up to the Dockerfile's stage (tagged $IMAGE-stage)
  cmd_base
  local tag=$IMAGE args=()
  if [[ -n ${1:-} ]]; then tag=$IMAGE-$1 args=(--target "$1"); fi
  args=(build --network host -t "$tag" -f "$ROOT/Dockerfile" "${args[@]}")
  if [[ "$(engine_name)" == podman ]]; then
    args+=(--build-arg "DEBIAN_IMAGE=$BASE_IMAGE")
  fi
  log "building $tag with $(engine_name) (the build stage compiles and runs the unit tests)"
  local start=$SECONDS
  "${ENGINE[@]}" "${args[@]}" "$ROOT"
  [[ -n ${1:-} ]] || log "built $IMAGE in $((SECONDS - start))s, $(($(cmd_size) / 1024 / 1024)) MiB"
}

cmd_size() {
  [[ ${#ENGINE[@]} -gt 0 ]] || load_engine
  "${ENGINE[@]}" image inspect --format '{{.Size}}' "$IMAGE"
}

main() {
  case "${1:-}" in
    build) cmd_build ;;
    build-stage) cmd_build build ;;
    base) cmd_base ;;
    size) cmd_size ;;
    tag) echo "$IMAGE" ;;
    engine) engine_cmd ;;
    -h | --help | help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
    *)
      sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
      exit 2
      ;;
  esac
}

main "$@"
