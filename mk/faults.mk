# The fault suite (tests/faults/README.md): a private Kafka + MinIO on their
# own ports and STACK_DIR, workers killed, stalled and churned while uploads
# run, every acknowledged upload checked. Results in test-results/faults.md.
# Ports and folder are overridable; they must differ from the main stack's.

FAULTS_STACK_DIR ?= $(CURDIR)/.stack-faults
FAULTS_KAFKA_PORT ?= 19092
FAULTS_KAFKA_CONTROLLER_PORT ?= 19093
FAULTS_MINIO_PORT ?= 19000
FAULTS_MINIO_CONSOLE_PORT ?= 19001
FAULTS_ARGS ?=

FAULTS_RUN = FAULTS_STACK_DIR=$(FAULTS_STACK_DIR) FAULTS_KAFKA_PORT=$(FAULTS_KAFKA_PORT) \
	FAULTS_KAFKA_CONTROLLER_PORT=$(FAULTS_KAFKA_CONTROLLER_PORT) \
	FAULTS_MINIO_PORT=$(FAULTS_MINIO_PORT) FAULTS_MINIO_CONSOLE_PORT=$(FAULTS_MINIO_CONSOLE_PORT) \
	"$$(tests/faults/venv.sh)" tests/faults/run.py --binary $(abspath $(BUILD_DIR))/src/cli/imgpipe

.PHONY: test-faults test-faults-short

test-faults: build ## fault suite, full: 8 scenarios x ~1000 uploads (about 20 min on 2 cores)
	@$(FAULTS_RUN) $(FAULTS_ARGS)

test-faults-short: build ## fault suite, short: 8 scenarios x ~100 uploads (a few minutes)
	@$(FAULTS_RUN) --short $(FAULTS_ARGS)
