# syntax=docker/dockerfile:1
# imgpipe worker image: built with the project's CMake build on Debian
# bookworm (the same -dev packages as scripts/bootstrap.sh), run on
# bookworm-slim with only the runtime libraries, as a non-root user.
#   docker build -t imgpipe/imgpipe:0.1.0 .
# Only CMakeLists.txt, cmake/, src/ and tests/ are sent (.dockerignore).
# The tags are Debian's stable release images; pin them by digest
# (debian:bookworm-slim@sha256:...) where builds must be reproducible.
ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      librdkafka-dev libvips-dev libcurl4-openssl-dev nlohmann-json3-dev \
      libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev \
      libcpp-httplib-dev libgtest-dev libgmock-dev libjemalloc-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY src/ src/
COPY tests/ tests/
# Only the worker binary; the tests run in `make test`, not in the image build.
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DIMGPIPE_WERROR=OFF \
 && cmake --build build --target imgpipe \
 && strip build/src/cli/imgpipe

FROM ${DEBIAN_IMAGE} AS runtime
# Runtime libraries of the binary (scripts/validate-k8s.sh compares this list
# with what a local build of build/src/cli/imgpipe links against).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libcurl4 librdkafka++1 libvips42 libyaml-cpp0.7 \
      libspdlog1.10 libfmt9 libcpp-httplib0.11 libjemalloc2 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 imgpipe \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin imgpipe
COPY --from=build /src/build/src/cli/imgpipe /usr/local/bin/imgpipe
# The worker writes nothing to disk; the chart mounts the root filesystem
# read-only with an emptyDir at /tmp.
USER 10001:10001
ENV IMGPIPE_HTTP_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/imgpipe"]
CMD ["run"]
