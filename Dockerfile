# thinpool_exporter: Prometheus exporter for Linux device-mapper thin pools.
#
# Build:  docker build -t thinpool_exporter .
#         (podman: podman build --format docker -t thinpool_exporter .)
# Run with the least privilege that works (see docs/deployment.md):
#   docker run -d --name thinpool_exporter -p 9966:9966 \
#     --cap-drop=ALL --cap-add=SYS_ADMIN --device=/dev/mapper/control \
#     --read-only --security-opt=no-new-privileges thinpool_exporter
# --privileged is not needed: --device puts /dev/mapper/control (and only it) into the container's
# device cgroup, and CAP_SYS_ADMIN is what every device-mapper ioctl checks. The exporter itself
# then drops to CAP_SYS_ADMIN alone, sets no_new_privs and installs its seccomp filter.
ARG BASE_IMAGE=debian:bookworm

FROM ${BASE_IMAGE} AS build
ARG DEBIAN_FRONTEND=noninteractive
# scripts/deps/build.txt (g++ and make of build-essential; no git: the revision comes in as a build
# argument; no test frameworks: the tests run in CI, not in the image build).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      g++ make cmake pkg-config ca-certificates \
      prometheus-cpp-dev libboost-dev libsystemd-dev libssl-dev zlib1g-dev libdevmapper-dev libcli11-dev \
      libspdlog-dev libfmt-dev libyaml-cpp-dev libcap-dev libseccomp-dev libcrypt-dev libisal-dev \
      libcmark-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# .git is not in the build context (.dockerignore): the revision comes in as a build argument.
ARG REVISION=unknown
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
      -DTHINPOOL_REVISION_OVERRIDE="${REVISION}" \
      -DTHINPOOL_BUILD_TESTS=OFF -DTHINPOOL_BUILD_BENCH=OFF -DTHINPOOL_WERROR=OFF \
 && cmake --build /build -j"$(nproc)" --target thinpool_exporter \
 && cmake --install /build --prefix /out/usr --strip --component Unspecified \
 && /out/usr/bin/thinpool_exporter --version
# The runtime stage installs exactly the Debian packages that own the shared libraries the binary
# loads.
RUN ldd /out/usr/bin/thinpool_exporter \
    | awk '$2 == "=>" && $3 ~ "^/" && $3 !~ "^/out/" {print $3}' \
    | while read -r lib; do \
        real=$(realpath "$lib"); \
        dpkg -S "$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || dpkg -S "$lib"; \
      done \
    | cut -d: -f1 | sort -u >/out/runtime-packages \
 && cat /out/runtime-packages

FROM ${BASE_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="thinpool_exporter" \
      org.opencontainers.image.description="Prometheus exporter for Linux device-mapper thin pools (data and metadata usage, mode, thin volumes)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.documentation="docs/deployment.md" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
COPY --from=build /out/runtime-packages /tmp/runtime-packages
# curl only for the HEALTHCHECK.
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(cat /tmp/runtime-packages) curl \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages
COPY --from=build /out/usr/bin/thinpool_exporter /usr/bin/thinpool_exporter
# root, but the exporter keeps only CAP_SYS_ADMIN after start-up: /dev/mapper/control is root's
# and mode 0600, and a non-root user would need CAP_DAC_OVERRIDE on top to open it.
USER root
EXPOSE 9966
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null --max-time 4 http://127.0.0.1:9966/-/healthy || exit 1
ENTRYPOINT ["/usr/bin/thinpool_exporter"]
CMD []
