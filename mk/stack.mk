# The local stack: single-node Kafka (KRaft) + MinIO publishing bucket events
# to Kafka, both on 127.0.0.1, no Docker (docs/local-stack.md).
# Data, logs and pid files live in $(STACK_DIR); the Kafka jars and the MinIO
# binary are cached once per machine in $(IMGPIPE_CACHE).
# Ports: KAFKA_PORT, KAFKA_CONTROLLER_PORT, MINIO_PORT, MINIO_CONSOLE_PORT.

STACK_DIR ?= $(CURDIR)/.stack
STACK_ENV := $(STACK_DIR)/env
STACK_SH := scripts/stack/stack.sh

export STACK_DIR

.PHONY: stack-up stack-down stack-status stack-clean

stack-up: ## start Kafka and MinIO on 127.0.0.1 (idempotent), write .stack/env
	@$(STACK_SH) up

stack-down: ## stop MinIO and Kafka (data is kept)
	@$(STACK_SH) down

stack-status: ## pid, port and health of Kafka and MinIO
	@$(STACK_SH) status || true

stack-clean: ## stop the stack and delete its data and logs (.stack)
	@$(STACK_SH) clean

# A second stack for the S3-server parity tests: Kafka on other ports and
# versitygw instead of MinIO (docs/s3-servers.md). `make test` starts it for
# the integration tests that run on both servers and stops it afterwards.
VGW_STACK_DIR ?= $(CURDIR)/.stack-versitygw
VGW_STACK = STACK_DIR=$(VGW_STACK_DIR) STACK_S3=versitygw \
            KAFKA_PORT=$(or $(VGW_KAFKA_PORT),19392) KAFKA_CONTROLLER_PORT=$(or $(VGW_KAFKA_CONTROLLER_PORT),19393)

.PHONY: stack-versitygw-up stack-versitygw-down

stack-versitygw-up: ## start Kafka (port 19392) and versitygw (port 7070) in .stack-versitygw
	@$(VGW_STACK) $(STACK_SH) up

stack-versitygw-down: ## stop the versitygw stack
	@$(VGW_STACK) $(STACK_SH) down

# The secure stack (docs/security.md): MinIO on HTTPS, Kafka on SASL_SSL with
# SCRAM users, a private CA; on ports of its own so that it runs beside the
# main stack. `STACK_TLS=1 make stack-up` makes the main stack a secure one.
SECURE_STACK_DIR ?= $(CURDIR)/.stack-secure
SECURE_STACK = STACK_DIR=$(SECURE_STACK_DIR) STACK_TLS=1 \
               KAFKA_PORT=$(or $(SECURE_KAFKA_PORT),19492) KAFKA_CONTROLLER_PORT=$(or $(SECURE_KAFKA_CONTROLLER_PORT),19493) \
               MINIO_PORT=$(or $(SECURE_MINIO_PORT),19400) MINIO_CONSOLE_PORT=$(or $(SECURE_MINIO_CONSOLE_PORT),19401)

.PHONY: stack-secure-up stack-secure-down

stack-secure-up: ## start the secure stack (Kafka SASL_SSL on 19492, MinIO HTTPS on 19400) in .stack-secure
	@$(SECURE_STACK) $(STACK_SH) up

stack-secure-down: ## stop the secure stack
	@$(SECURE_STACK) $(STACK_SH) down
