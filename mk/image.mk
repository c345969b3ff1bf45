# The worker's container image (Dockerfile, Debian 13): built with docker, or
# with podman where there is no Docker engine (scripts/image.sh).

IMGPIPE_IMAGE ?= $(shell scripts/image.sh tag)
export IMGPIPE_IMAGE

.PHONY: image test-image

image: deps ## build the container image (podman or docker; base image made once per machine)
	@scripts/image.sh build

test-image: image stack-up ## run the image against the local stack: setup, run, 5 uploads, /readyz, /metrics, SIGTERM
	@source $(STACK_ENV) && tests/container/image_test.sh $(IMGPIPE_IMAGE)
