# syntax=docker/dockerfile:1
# imgpipe worker image: built with the project's CMake build on Debian 13
# (trixie: libvips 8.16, librdkafka 2.8, curl 8.14), the unit tests run in the
# build stage, then the binary runs on trixie-slim with only the runtime
# libraries, as a non-root user.
#   make image                     (scripts/image.sh: docker, or podman without a registry)
#   docker build -t imgpipe/imgpipe:0.1.0 .
# Sent to the build: CMakeLists.txt, cmake/, src/, tests/, bench/limit/ and the one doc a
# unit test reads (.dockerignore). The tag is Debian's stable release image;
# pin it by digest (debian:trixie-slim@sha256:...) where builds must be
# reproducible. scripts/image.sh passes a base made with debootstrap instead.
ARG DEBIAN_IMAGE=debian:trixie-slim

FROM ${DEBIAN_IMAGE} AS build
# The -dev packages of scripts/bootstrap.sh, and what the unit tests read
# (photos, ICC profiles, python3, exiftool as an independent metadata reader).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      librdkafka-dev libssl-dev libvips-dev libcurl4-openssl-dev nlohmann-json3-dev \
      libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev \
      libcpp-httplib-dev libgtest-dev libgmock-dev zlib1g-dev \
      mate-backgrounds colord-data python3 libimage-exiftool-perl \
      libheif-plugin-dav1d libheif-plugin-libde265 libheif-plugin-aomenc libheif-plugin-x265 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY src/ src/
COPY tests/ tests/
COPY bench/limit/ bench/limit/
COPY docs/configuration.md docs/
# Warnings stay errors: the code must build cleanly with trixie's compiler
# and libraries as it does on bookworm. The unit tests must pass here too.
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build \
 && ctest --test-dir build -L unit --output-on-failure -j "$(nproc)" \
 && strip build/src/cli/imgpipe

FROM ${DEBIAN_IMAGE} AS runtime
# Runtime libraries of the binary (trixie's package names); the RUN below
# fails the build when one is missing. Since Debian 13, libheif's codecs are
# plugins (only recommended): AVIF decode/encode (dav1d, aomenc), HEIC
# decode/encode (libde265, x265), as Debian 12's libheif1 had built in.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates libcurl4t64 librdkafka++1 libvips42t64 libyaml-cpp0.8 \
      libspdlog1.15 libfmt10 libcpp-httplib0.18 \
      libheif-plugin-dav1d libheif-plugin-libde265 libheif-plugin-aomenc libheif-plugin-x265 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 imgpipe \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin imgpipe
COPY --from=build /src/build/src/cli/imgpipe /usr/local/bin/imgpipe
RUN ["/usr/local/bin/imgpipe", "--version"]
# The worker writes nothing to disk; the chart mounts the root filesystem
# read-only with an emptyDir at /tmp.
USER 10001:10001
ENV IMGPIPE_HTTP_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/imgpipe"]
CMD ["run"]
