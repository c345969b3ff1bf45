#!/usr/bin/env bash
# Validates the Kubernetes deployment offline, without a cluster or Docker
# (`make validate-k8s`, part of `make test`):
#   inventory     every YAML file under deploy/ belongs to a check below
#   kind-config   deploy/kind/kind-config.yaml decoded with kind's own types, strictly
#   helm-lint     helm lint --strict, default values and ci/all-features-values.yaml
#   helm-render   helm template of both, for the checks below
#   helm-refuse   values the chart must refuse are refused (schema, replica bounds, grace period, SASL)
#   kustomize     kustomize build of deploy/strimzi, deploy/minio/base and its distributed overlay
#   kubeconform   everything rendered plus every manifest file, strict, against the
#                 Kubernetes v1.37 API and the Strimzi, KEDA and ServiceMonitor CRD schemas
#   consistency   names, topics, Secret keys, ports and versions agree across files
#   hadolint      both Dockerfiles (deploy/validate/hadolint.yaml)
#   dockerfile    the Dockerfiles' stages, user, entrypoint, build context, tests in the build
#   ShellCheck    every shell script in the repository (git ls-files: *.sh and #!…sh files)
#   worker-config the chart's IMGPIPE_* variables are settings the worker declares and
#                 its config.yaml passes `imgpipe validate` (when build/src/cli/imgpipe exists)
# The tools come from scripts/k8s-tools.sh (installed once per machine).
# Rendered files and logs: build/validate-k8s/. Exit status 1 when a check fails.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
OUT="${VALIDATE_K8S_OUT:-$ROOT/build/validate-k8s}"
CHART=deploy/helm/imgpipe
BINARY="${IMGPIPE_BINARY:-$ROOT/build/src/cli/imgpipe}"

started=$(date +%s%N)
env_file="$(scripts/k8s-tools.sh --print)" || { echo "validate-k8s: FAIL installing the tools (scripts/k8s-tools.sh)"; exit 1; }
# shellcheck source=/dev/null
source "$env_file"

rm -rf "$OUT" && mkdir -p "$OUT/logs"
passed=0
failed=()

# step NAME COMMAND...: runs the command with its output in a log; on failure
# the log is printed.
step() {
  local name=$1; shift
  local log="$OUT/logs/$name.log" t0 ms
  t0=$(date +%s%N)
  if "$@" >"$log" 2>&1; then
    ms=$((($(date +%s%N) - t0) / 1000000))
    printf 'validate-k8s: ok   %-13s %5d ms  %s\n' "$name" "$ms" "$(tail -n 1 "$log" | cut -c1-90)"
    passed=$((passed + 1))
  else
    ms=$((($(date +%s%N) - t0) / 1000000))
    printf 'validate-k8s: FAIL %-13s %5d ms\n' "$name" "$ms"
    sed 's/^/    /' "$log"
    failed+=("$name")
  fi
}

helm_template() { # output-file [helm args...]
  local out=$1; shift
  "$HELM" template imgpipe "$CHART" --namespace imgpipe --kube-version "$KUBERNETES_VERSION" "$@" >"$out"
}

kind_config() {
  "$KINDCONFIG_CHECK" deploy/kind/kind-config.yaml
}

helm_lint() {
  "$HELM" lint --strict "$CHART" --kube-version "$KUBERNETES_VERSION" &&
    "$HELM" lint --strict "$CHART" --kube-version "$KUBERNETES_VERSION" -f "$CHART/ci/all-features-values.yaml" &&
    echo "helm lint --strict: default values, ci/all-features-values.yaml"
}

helm_render() {
  helm_template "$OUT/chart-default.yaml" &&
    helm_template "$OUT/chart-all-features.yaml" -f "$CHART/ci/all-features-values.yaml" &&
    echo "rendered $(grep -c '^kind:' "$OUT/chart-default.yaml") objects (default), $(grep -c '^kind:' "$OUT/chart-all-features.yaml") (all features)"
}

# refuse WANTED-MESSAGE helm-args...: the render must fail with that message.
refuse() {
  local want=$1; shift
  local out
  if out="$(helm_template /dev/null "$@" 2>&1)"; then
    echo "helm template $* succeeded; it must be refused ($want)"
    return 1
  fi
  if ! grep -qF -- "$want" <<<"$out"; then
    echo "helm template $* failed, but not with \"$want\":"
    echo "$out"
    return 1
  fi
  echo "refused: $* -> $want"
}

helm_refuse() {
  refuse "additional properties 'replicas' not allowed" --set replicas=3 &&
    refuse "got 0, want 1" --set kafka.partitions=0 &&
    refuse "keda.maxReplicas (12) is above kafka.partitions (6)" --set keda.enabled=true --set keda.maxReplicas=12 &&
    refuse "replicaCount (8) is above kafka.partitions (6)" --set replicaCount=8 &&
    refuse "must be shorter than terminationGracePeriodSeconds" --set shutdownGraceSeconds=60 &&
    refuse "kafka.sasl.enabled needs kafka.sasl.existingSecret" --set kafka.sasl.existingSecret=
}

kustomize_all() {
  "$KUSTOMIZE" build deploy/strimzi >"$OUT/strimzi.yaml" &&
    "$KUSTOMIZE" build deploy/minio/base >"$OUT/minio-base.yaml" &&
    "$KUSTOMIZE" build deploy/minio/overlays/distributed >"$OUT/minio-distributed.yaml" &&
    echo "built deploy/strimzi, deploy/minio/base, deploy/minio/overlays/distributed"
}

kubeconform_all() {
  local files=()
  mapfile -t files <"$OUT/manifests.txt"
  "$KUBECONFORM" -strict -summary \
    -schema-location "$K8S_SCHEMAS/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" \
    -schema-location "$CRD_SCHEMAS/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" \
    "$OUT"/chart-*.yaml "$OUT"/strimzi.yaml "$OUT"/minio-*.yaml "${files[@]}"
}

# Every shell script in the repository: *.sh, and files whose first line
# runs bash or sh (.ci/run). Outside a git checkout (the selftest's scratch
# copies), every file but build output and stack data.
repository_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files
  else
    find . -type f -not -path './.git/*' -not -path './build*' -not -path './.stack/*' \
      -not -path '*/node_modules/*' | sed 's|^\./||' | LC_ALL=C sort
  fi
}

shell_scripts() {
  local f
  repository_files | while IFS= read -r f; do
    [[ -f "$f" ]] || continue
    if [[ "$f" == *.sh ]] || head -n1 "$f" | grep -qE '^#!.*[/ ](ba)?sh$'; then echo "$f"; fi
  done
}

shellcheck_all() {
  local scripts=()
  mapfile -t scripts < <(shell_scripts)
  ((${#scripts[@]} > 0)) || { echo "no shell scripts found (not a git checkout?)"; return 1; }
  "$SHELLCHECK" --severity=style --external-sources "${scripts[@]}" &&
    echo "shellcheck: ${#scripts[@]} scripts clean"
}

# The chart against the real binary, when it has been built.
worker_config() {
  if [[ ! -x "$BINARY" ]]; then
    echo "skipped: $BINARY not built (make build); checked when it is"
    return 0
  fi
  "$K8S_PYTHON" deploy/validate/check_worker_env.py "$BINARY" "$OUT"
}

step inventory "$K8S_PYTHON" deploy/validate/inventory.py "$ROOT" "$OUT/manifests.txt"
step kind-config kind_config
step helm-lint helm_lint
step helm-render helm_render
step helm-refuse helm_refuse
step kustomize kustomize_all
step kubeconform kubeconform_all
step consistency "$K8S_PYTHON" deploy/validate/check_consistency.py "$ROOT" "$OUT"
hadolint_all() {
  "$HADOLINT" --no-color --config deploy/validate/hadolint.yaml Dockerfile deploy/minio/image/Dockerfile &&
    echo "hadolint: Dockerfile, deploy/minio/image/Dockerfile without findings"
}

step hadolint hadolint_all
step dockerfile "$K8S_PYTHON" deploy/validate/check_dockerfile.py "$ROOT"
step shellcheck shellcheck_all
step worker-config worker_config

total_ms=$((($(date +%s%N) - started) / 1000000))
if ((${#failed[@]})); then
  echo "validate-k8s: FAILED ${failed[*]} ($passed of $((passed + ${#failed[@]})) checks ok, $((total_ms / 1000)).$((total_ms % 1000 / 100)) s; logs in ${OUT#"$ROOT"/})"
  exit 1
fi
echo "validate-k8s: all $passed checks ok ($((total_ms / 1000)).$((total_ms % 1000 / 100)) s; rendered manifests and logs in ${OUT#"$ROOT"/})"
