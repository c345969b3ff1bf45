# Kubernetes deployment (deploy/, Dockerfile, docs/kubernetes.md).
# validate-k8s runs offline; kind-up/kind-down need Docker, kind, kubectl, helm.

.PHONY: validate-k8s validate-k8s-selftest k8s-tools kind-up kind-down

validate-k8s: ## Kubernetes manifests, Helm chart, kind config and Dockerfiles checked offline (schemas, names, lint)
	@scripts/validate-k8s.sh

k8s-tools: ## install helm, kubeconform, kustomize, hadolint, shellcheck and the API schemas (once per machine)
	@scripts/k8s-tools.sh

kind-up: ## the whole system on a local kind cluster, with a smoke test (needs Docker, kind, kubectl, helm)
	@scripts/kind-up.sh

kind-down: ## delete the kind cluster that kind-up created
	@scripts/kind-down.sh

validate-k8s-selftest: ## break each checked file once in a scratch copy and see validate-k8s catch it (about 2 min)
	@. "$$(scripts/k8s-tools.sh --print)" && "$$K8S_PYTHON" deploy/validate/selftest.py .
