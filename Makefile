# imgpipe — the two commands a user needs are `make demo` and `make test`.
# Everything they need is installed by scripts/bootstrap.sh; downloads and
# builds that outlive a checkout (MinIO binary, Kafka jars, Go/Maven/pip
# caches) live under $(IMGPIPE_CACHE), outside the repository.

SHELL := /bin/bash
.DEFAULT_GOAL := help

export IMGPIPE_CACHE ?= $(HOME)/.cache/imgpipe
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)

include mk/stack.mk
include mk/k8s.mk
include mk/image.mk
include mk/faults.mk

.PHONY: help deps build build-asan unit-test integration-test integration-test-versitygw integration-test-secure test-prometheus test-demo fuzz fuzz-short test demo bench bench-image-path format lint clean

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort | column -t -s $$'\t'

deps: ## install build and runtime dependencies (apt-get; idempotent)
	@scripts/bootstrap.sh

build: deps ## configure and build the worker and its tests (Release with debug info)
	@cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

build-asan: deps ## the same, with AddressSanitizer and UndefinedBehaviorSanitizer
	@cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DIMGPIPE_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)

unit-test: build-asan ## unit tests only, under the sanitizers; no services needed
	@cd $(ASAN_BUILD_DIR) && ctest -L unit --output-on-failure -j $(JOBS)

integration-test: build stack-up ## integration tests against the local Kafka and MinIO
	@source $(STACK_ENV) && cd $(BUILD_DIR) && ctest -L integration -E '$(VGW_ONLY_TESTS)|$(SECURE_ONLY_TESTS)' --output-on-failure

# The integration tests that run on both S3 servers (docs/s3-servers.md), and
# those that hold for one server only.
VGW_TESTS ?= S3Integration|PipelineEndToEnd|Delivery|Backfill
MINIO_ONLY_TESTS = notification_configuration_is_written_and_read_back
VGW_ONLY_TESTS = on_versitygw
# The end-to-end suite again, and what only the secure stack can show (TLS and
# SASL refusals, secrets never printed), on a stack started with STACK_TLS=1.
SECURE_TESTS ?= PipelineEndToEnd|SecureStack
SECURE_ONLY_TESTS = on_secure_stack

integration-test-versitygw: build ## the same integration tests on a second stack with versitygw instead of MinIO
	@$(VGW_STACK) $(STACK_SH) up >/dev/null
	@source $(VGW_STACK_DIR)/env && cd $(BUILD_DIR) && \
	  ctest -L integration -R '$(VGW_TESTS)' -E '$(MINIO_ONLY_TESTS)' --output-on-failure; \
	  rc=$$?; cd $(CURDIR) && $(VGW_STACK) $(STACK_SH) down >/dev/null; exit $$rc

integration-test-secure: build ## the end-to-end and TLS/SASL integration tests on a secure stack (STACK_TLS=1, .stack-secure)
	@$(SECURE_STACK) $(STACK_SH) up >/dev/null
	@source $(SECURE_STACK_DIR)/env && cd $(BUILD_DIR) && \
	  ctest -L integration -R '$(SECURE_TESTS)' -E '$(VGW_ONLY_TESTS)' --output-on-failure; \
	  rc=$$?; cd $(CURDIR) && $(SECURE_STACK) $(STACK_SH) down >/dev/null; exit $$rc

test-prometheus: build stack-up ## alert rules' unit tests (promtool), then every rule and dashboard query against a real Prometheus scraping a real worker
	@promtool check rules deploy/prometheus/imgpipe-rules.yaml >/dev/null
	@cd deploy/prometheus && promtool test rules imgpipe-rules.test.yaml
	@source $(STACK_ENV) && "$$(tests/faults/venv.sh)" tests/prometheus/check.py --binary $(abspath $(BUILD_DIR))/src/cli/imgpipe

test-demo: build stack-up ## make demo on buckets of its own, then its HTML contact sheet checked in headless Chromium against the buckets
	@source $(STACK_ENV) && "$$(tests/faults/venv.sh)" tests/demo/check_report.py --binary $(abspath $(BUILD_DIR))/src/cli/imgpipe

fuzz: deps ## libFuzzer harnesses (tests/fuzz) under ASan/UBSan, FUZZ_SECONDS each (default 360: 30 min for all five); corpus kept in $(IMGPIPE_CACHE)/fuzz
	@scripts/fuzz.sh

fuzz-short: deps ## each fuzzer for 20 s from its seeds, regression inputs and cached corpus (part of make test)
	@FUZZ_SECONDS=20 scripts/fuzz.sh

test: ## every test: unit (sanitized), fuzzers briefly, integration (real stack, MinIO and versitygw, and the secure stack), rules and dashboard on Prometheus, the demo's contact sheet in Chromium, the benchmark's harness (QUICK), short fault suite, container image, Kubernetes manifests, lint
	@$(MAKE) --no-print-directory unit-test
	@$(MAKE) --no-print-directory fuzz-short
	@$(MAKE) --no-print-directory integration-test
	@$(MAKE) --no-print-directory test-prometheus
	@$(MAKE) --no-print-directory test-demo
	@$(MAKE) --no-print-directory bench QUICK=1
	@$(MAKE) --no-print-directory integration-test-versitygw
	@$(MAKE) --no-print-directory integration-test-secure
	@$(MAKE) --no-print-directory test-faults-short
	@$(MAKE) --no-print-directory test-image
	@$(MAKE) --no-print-directory validate-k8s
	@$(MAKE) --no-print-directory lint

demo: build stack-up ## the whole pipeline on the local stack, with a table of results and an HTML contact sheet (demo-report/)
	@source $(STACK_ENV) && scripts/demo.sh $(BUILD_DIR)/src/cli/imgpipe

bench: build stack-up $(if $(QUICK),,image) ## imgpipe against python-tutorial, python-procs, node-sharp and the libvips limit, end to end on the local stack (bench/README.md); QUICK=1: a short check of the harness
	@source $(STACK_ENV) && BENCH_QUICK=$(if $(QUICK),1,0) bench/compare.sh $(BUILD_DIR)

bench-image-path: build stack-up ## the image path alone (no network) against Pillow and sharp, and imgpipe alone end to end (bench/README.md)
	@source $(STACK_ENV) && bench/run.sh $(BUILD_DIR)/src/cli/imgpipe

format: ## clang-format every C++ file in place
	@git ls-files '*.cpp' '*.h' | xargs clang-format -i

lint: build ## clang-format check and clang-tidy (.clang-tidy) over src/
	@git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run -Werror
	@echo "clang-format: clean"
	@git ls-files 'src/*.cpp' | xargs -P $(JOBS) -n 4 clang-tidy -p $(BUILD_DIR) --quiet 2>/dev/null
	@echo "clang-tidy: clean"

clean: ## remove build folders (the stack keeps its data: make stack-clean)
	@rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) build-fuzz
