#!/usr/bin/env python3
"""Every YAML file under deploy/ must be one of the kinds scripts/validate-k8s.sh
checks, so a new file cannot slip past validation unnoticed.

  inventory.py ROOT OUT_LIST

Categories (each with the check that covers it):
  kind-config       deploy/kind/kind-config.yaml           kindconfig-check (kind's own types)
  kustomization     */kustomization.yaml                    kustomize build, then kubeconform
  kustomize-patch   files under a kustomization's patches   part of the overlay's kustomize build
  manifest          Kubernetes objects applied directly or  kubeconform -strict on the file itself;
                    as a kustomization's resources          must be used by a kustomization or a script
  chart             deploy/helm/<chart>/{Chart,values}.yaml helm lint --strict
  chart-template    deploy/helm/<chart>/templates/*         helm template, then kubeconform
  chart-values      deploy/helm/<chart>/ci/*.yaml           helm lint/template with these values
  chart-file        deploy/helm/<chart>/files/*.yaml        read by a template (.Files.Get, which must name
                                                            it); check_consistency.py compares the rendered
                                                            object with the file (the rules file also:
                                                            promtool, make test-prometheus)
  external-values   deploy/strimzi/operator-values.yaml     values of the Strimzi operator's chart, which
                                                            is not available offline: its keys are checked
                                                            against the short list below
  crd-schema        deploy/validate/crds/*/*.yaml           upstream CRDs, converted to the JSON schemas
                                                            that kubeconform checks our objects against
  tool-config       deploy/validate/*.yaml                  read by the tool it configures
  prometheus-rules  deploy/prometheus/imgpipe-rules*.yaml   promtool check rules / test rules, and each
                                                            expression on a real Prometheus
                                                            (make test-prometheus)
  symlink           a link to another file under deploy/    covered as its target (imgpipe-rules.yaml ->
                                                            the chart's files/); must not dangle
Writes the manifest files (one per line) to OUT_LIST for kubeconform.
"""
from __future__ import annotations

import os
import sys

import yaml

# Top-level values of strimzi-kafka-operator's chart that deploy/strimzi/operator-values.yaml
# may set (the top-level properties of the chart's values.schema.json, Strimzi 1.x).
STRIMZI_CHART_KEYS = {
    "replicas", "watchNamespaces", "watchAnyNamespace", "defaultImageRegistry", "defaultImageRepository",
    "defaultImageTag", "image", "logVolume", "logConfigMap", "logConfiguration", "logLevel",
    "fullReconciliationIntervalMs", "operationTimeoutMs", "kubernetesServiceDnsDomain", "featureGates",
    "tmpDirSizeLimit", "extraEnvs", "tolerations", "topologySpreadConstraints", "affinity", "annotations",
    "labels", "nodeSelector", "deploymentAnnotations", "deploymentLabels", "deploymentStrategy",
    "revisionHistoryLimit", "priorityClassName", "hostUsers", "podSecurityContext", "securityContext",
    "nameOverride", "fullnameOverride", "rbac", "serviceAccountCreate", "serviceAccount", "leaderElection",
    "podDisruptionBudget", "operatorNetworkPolicy", "dashboards", "kafka", "kafkaConnect", "topicOperator",
    "userOperator", "kafkaInit", "kafkaBridge", "kafkaExporter", "kafkaMirrorMaker2", "cruiseControl",
    "kanikoExecutor", "buildah", "mavenBuilder", "resources", "livenessProbe", "readinessProbe",
    "createGlobalResources", "createAggregateRoles", "labelsExclusionPattern", "generateNetworkPolicy",
    "connectBuildTimeoutMs", "generatePodDisruptionBudget",
}


def chart_templates(root, chart) -> str:
    """The text of all templates of deploy/helm/<chart>."""
    text = ""
    templates = os.path.join(root, "deploy", "helm", chart, "templates")
    for f in sorted(os.listdir(templates)):
        with open(os.path.join(templates, f), encoding="utf-8") as fh:
            text += fh.read()
    return text


def main(argv) -> int:
    root, out_list = argv
    deploy = os.path.join(root, "deploy")
    files = []
    for dirpath, dirnames, filenames in os.walk(deploy):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith((".yaml", ".yml")):
                files.append(os.path.relpath(os.path.join(dirpath, f), root))

    referenced, patches = set(), set()
    for rel in files:
        if os.path.basename(rel) == "kustomization.yaml":
            with open(os.path.join(root, rel), encoding="utf-8") as fh:
                k = yaml.safe_load(fh)
            base = os.path.dirname(rel)
            for r in k.get("resources", []):
                referenced.add(os.path.normpath(os.path.join(base, r)))
            for p in k.get("patches", []):
                patches.add(os.path.normpath(os.path.join(base, p["path"])))
    scripts = ""
    for s in ("scripts/kind-up.sh", "scripts/kind-down.sh"):
        with open(os.path.join(root, s), encoding="utf-8") as fh:
            scripts += fh.read()

    problems, manifests, seen = [], [], {}
    for rel in files:
        name = os.path.basename(rel)
        parts = rel.split(os.sep)
        path = os.path.join(root, rel)
        if os.path.islink(path):
            cat = "symlink"
            target = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
            if not os.path.isfile(path):
                problems.append(f"{rel}: a symlink to {os.readlink(path)}, which does not exist")
            elif target not in files:
                problems.append(f"{rel}: a symlink to {target}, which is not a YAML file under deploy/ (no check covers it)")
            elif os.path.isabs(os.readlink(path)):
                problems.append(f"{rel}: an absolute symlink ({os.readlink(path)}); make it relative")
        elif rel == os.path.join("deploy", "kind", "kind-config.yaml"):
            cat = "kind-config"
        elif name == "kustomization.yaml":
            cat = "kustomization"
        elif rel in patches:
            cat = "kustomize-patch"
        elif parts[1] == "helm" and len(parts) >= 4 and parts[3] == "templates":
            cat = "chart-template"
        elif parts[1] == "helm" and len(parts) == 4 and name in ("Chart.yaml", "values.yaml"):
            cat = "chart"
        elif parts[1] == "helm" and len(parts) == 5 and parts[3] == "ci":
            cat = "chart-values"
        elif parts[1] == "helm" and len(parts) == 5 and parts[3] == "files":
            cat = "chart-file"
            if f'.Files.Get "files/{name}"' not in chart_templates(root, parts[2]):
                problems.append(f"{rel}: in the chart's files/, but no template reads it (.Files.Get \"files/{name}\")")
        elif rel == os.path.join("deploy", "strimzi", "operator-values.yaml"):
            cat = "external-values"
            with open(os.path.join(root, rel), encoding="utf-8") as fh:
                unknown = set(yaml.safe_load(fh) or {}) - STRIMZI_CHART_KEYS
            if unknown:
                problems.append(f"{rel}: {sorted(unknown)} are not values of the Strimzi operator chart")
            if rel not in scripts:
                problems.append(f"{rel}: not used by scripts/kind-up.sh")
        elif parts[1] == "validate" and len(parts) > 3 and parts[2] == "crds":
            cat = "crd-schema"
        elif parts[1] == "validate":
            cat = "tool-config"
        elif parts[1] == "prometheus" and len(parts) == 3 and name.startswith("imgpipe-rules"):
            cat = "prometheus-rules"
        else:
            with open(os.path.join(root, rel), encoding="utf-8") as fh:
                docs = [d for d in yaml.safe_load_all(fh) if d]
            if docs and all(isinstance(d, dict) and "apiVersion" in d and "kind" in d for d in docs):
                cat = "manifest"
                manifests.append(rel)
                if rel not in referenced and rel not in scripts:
                    problems.append(f"{rel}: a manifest that no kustomization lists and no script applies")
            else:
                cat = None
                problems.append(f"{rel}: not a Kubernetes object, and no check knows this file")
        if cat:
            seen.setdefault(cat, []).append(rel)
    for r in sorted(referenced | patches):
        if not os.path.exists(os.path.join(root, r)):
            problems.append(f"{r}: named by a kustomization but missing")
    with open(out_list, "w", encoding="utf-8") as fh:
        fh.write("".join(m + "\n" for m in manifests))
    for cat in sorted(seen):
        print(f"inventory: {cat:16} {len(seen[cat]):2}  {' '.join(os.path.relpath(p, 'deploy') for p in seen[cat])}")
    for p in problems:
        print(f"inventory: FAIL {p}")
    if not problems:
        print(f"inventory: all {len(files)} YAML files under deploy/ are covered by a check")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
