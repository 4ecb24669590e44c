#!/usr/bin/env bash
# Builds the repository's real Dockerfile with podman (no Docker engine here: --isolation=chroot,
# --network=host, the Debian 12 base bootstrapped locally by base_image.sh and cached), then checks
# the image: OCI labels, EXPOSE 9966, HEALTHCHECK, entrypoint; a runtime stage without compilers or
# -dev packages; and runs what it holds (podman run does not work here, so the exported root file
# system is entered with chroot): --version, a scrape on fixtures, the HEALTHCHECK command, TLS.
# Usage: container_image_test.sh REPO_DIR FIXTURES_DIR   (label: container; slow on the first run)
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
repo=$1 FIXTURES=$2
here=$(cd "$(dirname "$0")" && pwd)
image=localhost/thinpool_exporter:test
base=localhost/debian:bookworm
work=$(mktemp -d)
container=""
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  mountpoint -q "$work/rootfs/proc" && umount "$work/rootfs/proc"
  [ -n "$container" ] && podman rm -f "$container" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
elapsed() { echo "$(($(date +%s) - $1)) s"; }

t0=$(date +%s)
"$here/base_image.sh" "$base"
echo "== base image ready in $(elapsed "$t0")"

t1=$(date +%s)
revision=$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# --format docker: the OCI image format has no HEALTHCHECK.
if ! podman build --isolation=chroot --network=host --format docker \
  --build-arg BASE_IMAGE="$base" --build-arg REVISION="$revision" \
  -t "$image" -f "$repo/Dockerfile" "$repo" >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log"
  fail "podman build failed"
fi
echo "== podman build in $(elapsed "$t1"): $(podman image inspect "$image" --format '{{.Size}}' |
  awk '{printf "%.0f MB", $1 / 1e6}')"
# The build stage prints the runtime packages it found; a build whose layers all came from podman's
# cache (the same sources built before on this machine) prints nothing, which is not a failure.
runtime_packages=$(grep -E '^(lib[a-z0-9.+-]+|zlib1g)$' "$work/build.log" | tr '\n' ' ' || true)
echo "   runtime packages: ${runtime_packages:-(not in the log: every layer came from the build cache)}"

inspect() { podman image inspect "$image" --format "$1"; }
labels=$(inspect '{{json .Labels}}')
for label in title description version revision; do
  grep -q "\"org.opencontainers.image.$label\"" <<<"$labels" || fail "no org.opencontainers.image.$label label"
done
grep -q "\"org.opencontainers.image.revision\":\"$revision\"" <<<"$labels" || fail "revision label is not $revision"
inspect '{{json .Config.ExposedPorts}}' | grep -q '"9966/tcp"' || fail "EXPOSE 9966 missing"
health=$(inspect '{{json .Config.Healthcheck.Test}}')
grep -q '/-/healthy' <<<"$health" || fail "no HEALTHCHECK on /-/healthy: $health"
[ "$(inspect '{{json .Config.Entrypoint}}')" = '["/usr/bin/thinpool_exporter"]' ] || fail "entrypoint"
echo "ok: OCI labels (revision $revision), EXPOSE 9966, HEALTHCHECK $health"

container=$(podman create "$image" 2>/dev/null)
mkdir "$work/rootfs"
podman export "$container" | tar -C "$work/rootfs" -x
rootfs=$work/rootfs
dev_packages=$(chroot "$rootfs" dpkg-query -W -f '${Package}\n' |
  grep -E -- '-dev$|^(gcc|g\+\+|cpp|cmake|make)(-[0-9]+)?$' || true)
[ -z "$dev_packages" ] || fail "the runtime stage holds build packages: $(tr '\n' ' ' <<<"$dev_packages")"
echo "ok: runtime stage without compilers or -dev packages ($(chroot "$rootfs" dpkg-query -W | wc -l) packages, $(du -sm "$rootfs" | cut -f1) MB)"

# /proc as in any container.
mount -t proc proc "$rootfs/proc"
version=$(chroot "$rootfs" /usr/bin/thinpool_exporter --version)
echo "   $version"
grep -q "(revision $revision," <<<"$version" || fail "--version does not name revision $revision: $version"
cp -r "$FIXTURES" "$rootfs/fixtures"
# start_in_image LOG [flags...]: the image's binary in the chroot on a free loopback port.
start_in_image() {
  local log=$1
  shift
  : >"$log"  # before the first read: the job may not have opened it yet
  chroot "$rootfs" /usr/bin/thinpool_exporter --web.listen-address=127.0.0.1:0 "$@" 2>"$log" &
  pid=$!
  port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on .* (port \([0-9]*\)).*/\1/p' "$log" | head -n 1)
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  cat "$log"
  fail "the image's exporter did not start"
}
stop_in_image() { kill "$pid" && wait "$pid" || true; pid=""; }

start_in_image "$work/run.log" --devmapper.fixtures=/fixtures/lvm-healthy
curl -sf "http://127.0.0.1:$port/metrics" >"$work/metrics"
grep -q '^thinpool_data_used_bytes{' "$work/metrics" || fail "no thinpool_data_used_bytes from the image"
echo "ok: scrape on fixtures: $(grep -c '^thinpool_' "$work/metrics") thinpool_ series"
# The HEALTHCHECK's own command, run inside the image (its port moved to the test's).
check=$(inspect '{{index .Config.Healthcheck.Test 1}}' | sed "s/9966/$port/g")
chroot "$rootfs" /bin/sh -c "$check" || fail "the HEALTHCHECK command failed: $check"
echo "ok: HEALTHCHECK command passes: $check"
stop_in_image

# TLS inside the image, without libssl-dev.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$rootfs/tls.key" -out "$rootfs/tls.crt" 2>/dev/null
printf 'tls_server_config:\n  cert_file: /tls.crt\n  key_file: /tls.key\n' >"$rootfs/web.yml"
start_in_image "$work/tls.log" --devmapper.fixtures=/fixtures/lvm-healthy --web.config.file=/web.yml
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$rootfs/tls.crt" "https://127.0.0.1:$port/metrics" || true)
[ "$code" = 200 ] || { cat "$work/tls.log"; fail "TLS scrape of the image's binary: $code"; }
stop_in_image
echo "ok: TLS from the image"
echo "PASS: the Dockerfile builds an image whose exporter runs (total $(elapsed "$t0"))"
