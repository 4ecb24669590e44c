#!/usr/bin/env bash
# deploy/systemd/thinpool_exporter.service:
#   1. `systemd-analyze verify` in a scratch root that holds the unit, its environment file, the
#      binary and systemd's own units: no finding;
#   2. `systemd-analyze security --offline=yes`: the exposure score (printed) is at most 3.0;
#   3. every system call the exporter makes (strace -f over start-up, scrapes on fixtures and without
#      device-mapper, shutdown) is allowed by the unit's SystemCallFilter;
#   4. started the way the unit starts it (bounding set CAP_SYS_ADMIN, no_new_privs; setpriv stands in
#      for systemd, which does not run here) it serves and keeps CAP_SYS_ADMIN alone.
# Usage: systemd_unit_test.sh EXPORTER SHIM_DIR FIXTURES_DIR
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
BIN=$1 shims=$2 FIXTURES=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
unit=$repo/deploy/systemd/thinpool_exporter.service
# shellcheck source=../integration/lib.sh
source "$repo/tests/integration/lib.sh"
work=$(mktemp -d)
trap 'stop_exporter; rm -rf "$work"' EXIT

echo "== 1. systemd-analyze verify"
root=$work/root
mkdir -p "$root/etc/systemd/system" "$root/etc/default" "$root/usr/bin" "$root/usr/lib/systemd" \
  "$root/usr/lib/thinpool_exporter"
cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp "$unit" "$root/etc/systemd/system/"
cp "$repo/deploy/systemd/thinpool_exporter.default" "$root/etc/default/thinpool_exporter"
cp "$BIN" "$root/usr/bin/thinpool_exporter"
cp "$shims"/*.so "$root/usr/lib/thinpool_exporter/"
# --man=no: the man page comes with the .deb (tests/packaging/deb_package_test.sh checks it).
if ! systemd-analyze verify --man=no --root="$root" /etc/systemd/system/thinpool_exporter.service \
  >"$work/verify.log" 2>&1 || [ -s "$work/verify.log" ]; then
  cat "$work/verify.log"
  fail "systemd-analyze verify reported the above"
fi
echo "ok: no findings"

echo "== 2. systemd-analyze security"
systemd-analyze security --offline=yes "$unit" >"$work/security.log" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for thinpool_exporter.service: \([0-9.]*\).*/\1/p' "$work/security.log")
[ -n "$score" ] || { cat "$work/security.log"; fail "no exposure score"; }
grep -E '^✗' "$work/security.log" | sed 's/  */ /g; s/^/   not set: /'
awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' || fail "exposure $score is above 3.0"
echo "ok: exposure level $score (systemd: 0 = fully locked down, 10 = unprotected)"

echo "== 3. system calls used vs SystemCallFilter"
expand() {  # the system calls of a group, nested groups expanded
  systemd-analyze syscall-filter "$1" | awk 'NR > 1 && $1 !~ /^#/ && NF {print $1}' |
    while read -r item; do
      case $item in @*) expand "$item" ;; *) echo "$item" ;; esac
    done
}
# The unit: SystemCallFilter=@system-service, then ~@privileged @resources, then capset seccomp.
grep -q -x 'SystemCallFilter=@system-service' "$unit" &&
  grep -q -x 'SystemCallFilter=~@privileged @resources' "$unit" &&
  grep -q -x 'SystemCallFilter=capset seccomp' "$unit" ||
  fail "the unit's SystemCallFilter lines changed: update this test"
expand @system-service | sort -u >"$work/allowed"
cat <(expand @privileged) <(expand @resources) | sort -u >"$work/denied"
{ comm -23 "$work/allowed" "$work/denied"; printf 'capset\nseccomp\n'; } | sort -u >"$work/effective"
trace_run() {  # trace_run NAME [flags...]: strace -f the exporter through start-up, 20 scrapes, stop
  local name=$1
  shift
  strace -f -qq -o "$work/$name.trace" "$BIN" --web.listen-address=127.0.0.1:0 "$@" 2>"$work/$name.log" &
  local tracer=$!
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.*listening on .* (port \([0-9]*\)).*/\1/p' "$work/$name.log" | head -n 1)
    [ -n "$PORT" ] && break
    sleep 0.1
  done
  [ -n "$PORT" ] || { cat "$work/$name.log"; fail "$name: the exporter did not start under strace"; }
  for _ in $(seq 1 20); do
    curl -sf -o /dev/null --max-time 10 "http://127.0.0.1:$PORT/metrics" || fail "$name: scrape failed"
  done
  curl -sf -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT/metrics"
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/"
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/-/healthy"
  # Signal the exporter, not strace (which would only detach), and let strace see it exit.
  kill -TERM "$(pgrep -P "$tracer")"
  wait "$tracer" || true
}
trace_run fixtures --devmapper.fixtures="$FIXTURES/lvm-healthy"
trace_run kernel
# "1234  openat(AT_FDCWD, ..." -> openat; resumed and signal lines carry no new name.
cat "$work"/*.trace | sed -n -E 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' | sort -u >"$work/used"
outside=$(comm -23 "$work/used" "$work/effective" | tr '\n' ' ')
echo "   used: $(wc -l <"$work/used") distinct system calls: $(tr '\n' ' ' <"$work/used")"
[ -z "$outside" ] || fail "system calls outside the unit's SystemCallFilter: $outside"
echo "ok: all allowed by the unit's filter"

echo "== 4. started as the unit starts it (setpriv: bounding set CAP_SYS_ADMIN, no_new_privs)"
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: needs root"
else
  BIN_REAL=$BIN
  BIN="setpriv --bounding-set=-all,+sys_admin --inh-caps=-all --no-new-privs -- $BIN_REAL"
  # shellcheck disable=SC2086
  $BIN --web.listen-address=127.0.0.1:0 2>"$work/setpriv.log" &
  PID=$!
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.*listening on .* (port \([0-9]*\)).*/\1/p' "$work/setpriv.log" | head -n 1)
    [ -n "$PORT" ] && break
    sleep 0.1
  done
  [ -n "$PORT" ] || { cat "$work/setpriv.log"; fail "did not start with the unit's bounding set"; }
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/metrics" || fail "scrape failed"
  grep -E '^Cap(Eff|Bnd)|^NoNewPrivs|^Seccomp:' "/proc/$PID/status" | tr '\n\t' '  ' | sed 's/^/   /'
  echo
  [ "$(awk '/^CapEff/ {print $2}' "/proc/$PID/status")" = 0000000000200000 ] || fail "CapEff is not CAP_SYS_ADMIN alone"
  grep 'capabilities:' "$work/setpriv.log" | sed 's/.*msg=/   log: /'
  stop_exporter
  echo "ok: serves with CAP_SYS_ADMIN alone"
fi
echo "PASS: the systemd unit verifies, exposure $score, its filters fit what the exporter does"
