#!/usr/bin/env bash
# The .deb from CPack (cmake/Packaging.cmake): its control data (name, Depends computed by
# dpkg-shlibdeps with no -dev package, conffiles, maintainer scripts), its files (binary, systemd
# units, environment file, man page, docs), and the binary from the unpacked package: --version, a
# scrape on fixtures, and a TLS scrape.
# Usage: deb_package_test.sh BUILD_DIR FIXTURES_DIR
set -Eeuo pipefail
# shellcheck disable=SC2154  # _rc is assigned inside the trap's own text
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
build=$1 FIXTURES=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../integration/lib.sh
source "$here/../integration/lib.sh"
work=$(mktemp -d)
trap 'stop_exporter; rm -rf "$work"' EXIT
[ -f "$build/CPackConfig.cmake" ] || fail "no CPackConfig.cmake in $build (cmake/Packaging.cmake not included?)"

start=$(date +%s)
(cd "$build" && cpack --config CPackConfig.cmake -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(find "$work/out" -maxdepth 1 -name '*.deb' | head -n 1)
[ -n "$deb" ] || fail "cpack made no .deb"
echo "== $(basename "$deb"): $(du -h "$deb" | cut -f1), made in $(($(date +%s) - start)) s"
dpkg-deb -f "$deb" Package Version Architecture Depends | sed 's/^/   /'
[ "$(dpkg-deb -f "$deb" Package)" = thinpool-exporter ] || fail "package name"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libdevmapper1.02.1 libsystemd0 libssl3 libyaml-cpp0.7 libseccomp2 libcap2 libcrypt1; do
  grep -q -w "$lib" <<<"$depends" || fail "Depends lacks $lib"
done
grep -q -- '-dev' <<<"$depends" && fail "Depends names a -dev package: $depends"
echo "ok: Depends computed by dpkg-shlibdeps, runtime libraries only"

dpkg-deb -e "$deb" "$work/control"
grep -q -x /etc/default/thinpool_exporter "$work/control/conffiles" || fail "/etc/default/thinpool_exporter is not a conffile"
for script in postinst prerm postrm; do
  [ -x "$work/control/$script" ] || fail "no executable $script"
done
grep -q 'enable' "$work/control/postinst" && fail "postinst must not enable the service"
grep -q 'stop thinpool_exporter.socket thinpool_exporter.service' "$work/control/prerm" ||
  fail "prerm must stop the socket with the service (else the socket starts it again)"
echo "ok: conffiles, maintainer scripts (the units are not enabled on install; removal stops both)"

dpkg-deb -c "$deb" | awk '{print $NF}' >"$work/files"
for file in ./usr/bin/thinpool_exporter ./usr/lib/systemd/system/thinpool_exporter.service \
  ./usr/lib/systemd/system/thinpool_exporter.socket ./etc/default/thinpool_exporter ./usr/share/man/man1/thinpool_exporter.1.gz \
  ./usr/share/doc/thinpool-exporter/deployment.md ./usr/share/doc/thinpool-exporter/security.md; do
  grep -q -x -F "$file" "$work/files" || fail "the package lacks $file"
done
echo "ok: $(grep -c -v '/$' "$work/files") files, binary, service and socket units, environment file, man page, docs"

root=$work/root
dpkg-deb -x "$deb" "$root"
zcat "$root/usr/share/man/man1/thinpool_exporter.1.gz" >"$work/man.txt"
grep -q 'config\.file' "$work/man.txt" ||
  fail "the man page does not describe --web.config.file"
echo "ok: man page made from --help"
BIN=$root/usr/bin/thinpool_exporter
"$BIN" --version | sed 's/^/   /'
start_exporter "$work/log" --devmapper.fixtures="$FIXTURES/lvm-healthy"
curl -sf "http://127.0.0.1:$PORT/metrics" >"$work/metrics" || fail "scrape on fixtures"
grep -q '^thinpool_data_used_bytes{' "$work/metrics" || fail "no thinpool_data_used_bytes from fixtures"
stop_exporter
echo "ok: the packaged binary serves fixtures"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
printf 'tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n' >"$work/web.yml"
start_exporter "$work/tls.log" --devmapper.fixtures="$FIXTURES/lvm-healthy" --web.config.file="$work/web.yml"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/tls.crt" "https://127.0.0.1:$PORT/metrics" || true)
[ "$code" = 200 ] || { cat "$work/tls.log"; fail "TLS scrape of the packaged binary: $code"; }
stop_exporter
echo "ok: TLS works with the packaged binary"
echo "PASS: the .deb installs a working exporter with its unit, config and man page"
