#!/usr/bin/env bash
# deploy/systemd/thinpool_exporter.service and thinpool_exporter.socket:
#   1. `systemd-analyze verify` in a scratch root that holds both units, the environment file, the
#      binary and systemd's own units: no finding;
#   2. `systemd-analyze security --offline=yes`: the service's exposure score (printed) is at most 3.0;
#   3. every system call the exporter makes (strace -f over start-up, scrapes on fixtures and without
#      device-mapper, and socket-activated; shutdown) is allowed by the unit's SystemCallFilter;
#   4. started the way the unit starts it (bounding set CAP_SYS_ADMIN, no_new_privs; setpriv stands in
#      for systemd, which does not run here) it serves and keeps CAP_SYS_ADMIN alone;
#   5. socket activation (systemd-socket-activate stands in for the .socket unit): started by the
#      first connection, --web.systemd-socket serves on every socket passed (127.0.0.1, and ::1 when
#      the host has IPv6 loopback); without sockets, or with a socket that is not TCP, it exits 1
#      with one error line that names the flag.
# Usage: systemd_unit_test.sh EXPORTER FIXTURES_DIR
set -Eeuo pipefail
# shellcheck disable=SC2154  # _rc is assigned inside the trap's own text
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
BIN=$1 FIXTURES=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
unit=$repo/deploy/systemd/thinpool_exporter.service
socket_unit=$repo/deploy/systemd/thinpool_exporter.socket
# shellcheck source=../integration/lib.sh
source "$repo/tests/integration/lib.sh"
work=$(mktemp -d)
trap 'stop_exporter; rm -rf "$work"' EXIT

echo "== 1. systemd-analyze verify"
root=$work/root
mkdir -p "$root/etc/systemd/system" "$root/etc/default" "$root/usr/bin" "$root/usr/lib/systemd"
cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp "$unit" "$socket_unit" "$root/etc/systemd/system/"
cp "$repo/deploy/systemd/thinpool_exporter.default" "$root/etc/default/thinpool_exporter"
cp "$BIN" "$root/usr/bin/thinpool_exporter"
# --man=no: the man page comes with the .deb (tests/packaging/deb_package_test.sh checks it).
if ! systemd-analyze verify --man=no --root="$root" /etc/systemd/system/thinpool_exporter.service \
  /etc/systemd/system/thinpool_exporter.socket >"$work/verify.log" 2>&1 || [ -s "$work/verify.log" ]; then
  cat "$work/verify.log"
  fail "systemd-analyze verify reported the above"
fi
echo "ok: no findings (service and socket)"

echo "== 2. systemd-analyze security"
systemd-analyze security --offline=yes "$unit" >"$work/security.log" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for thinpool_exporter.service: \([0-9.]*\).*/\1/p' "$work/security.log")
[ -n "$score" ] || { cat "$work/security.log"; fail "no exposure score"; }
grep -E '^✗' "$work/security.log" | sed 's/  */ /g; s/^/   not set: /'
awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' || fail "exposure $score is above 3.0"
echo "ok: exposure level $score (systemd: 0 = fully locked down, 10 = unprotected)"

# Whether ::1 is configured here (containers may run without IPv6).
ipv6=no
if awk '$1 == "00000000000000000000000000000001" {found = 1} END {exit !found}' /proc/net/if_inet6 2>/dev/null; then
  ipv6=yes
fi
# activate LOG COMMAND...: systemd-socket-activate listens on 127.0.0.1 (and ::1) on free ports and
# runs COMMAND on the first connection, in its own process (Accept=no): PID is the exporter's pid
# then. Sets ADDRESSES to the addresses listened on.
activate() {
  local log=$1 port
  shift
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    ADDRESSES=("127.0.0.1:$port")
    [ "$ipv6" = no ] || ADDRESSES+=("[::1]:$((port + 1))")
    local listen=()
    for address in "${ADDRESSES[@]}"; do
      listen+=(-l "$address")
    done
    : >"$log"  # before the first read: the job may not have opened it yet
    systemd-socket-activate "${listen[@]}" "$@" 2>"$log" &
    PID=$!
    for _ in $(seq 1 100); do
      [ "$(grep -c '^Listening on' "$log")" -eq "${#ADDRESSES[@]}" ] && return 0
      kill -0 "$PID" 2>/dev/null || break
      sleep 0.05
    done
    stop_exporter  # a port was taken: try others
  done
  cat "$log"
  fail "systemd-socket-activate did not listen"
}

echo "== 3. system calls used vs SystemCallFilter"
expand() {  # the system calls of a group, nested groups expanded
  systemd-analyze syscall-filter "$1" | awk 'NR > 1 && $1 !~ /^#/ && NF {print $1}' |
    while read -r item; do
      case $item in @*) expand "$item" ;; *) echo "$item" ;; esac
    done
}
# The unit: SystemCallFilter=@system-service, then ~@privileged @resources, then capset seccomp.
if ! grep -q -x 'SystemCallFilter=@system-service' "$unit" ||
  ! grep -q -x 'SystemCallFilter=~@privileged @resources' "$unit" ||
  ! grep -q -x 'SystemCallFilter=capset seccomp' "$unit"; then
  fail "the unit's SystemCallFilter lines changed: update this test"
fi
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
# Socket-activated: strace -D keeps the exporter in the activator's process (LISTEN_PID is its pid).
activate "$work/socket.log" strace -D -f -q -o "$work/socket.trace" "$BIN" --web.systemd-socket \
  --devmapper.fixtures="$FIXTURES/lvm-healthy"
for address in "${ADDRESSES[@]}"; do
  for _ in $(seq 1 5); do
    curl -sf -o /dev/null --max-time 10 "http://$address/metrics" || fail "socket: scrape of $address failed"
  done
done
traced=$PID
stop_exporter
# The tracer is no child of this shell: its last line for the exporter says that it is done.
for _ in $(seq 1 100); do
  grep -q -E "^$traced +\+\+\+ (exited|killed)" "$work/socket.trace" && break
  sleep 0.1
done
grep -q -E "^$traced +\+\+\+ (exited|killed)" "$work/socket.trace" || fail "socket: strace did not finish"
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
  BIN=$BIN_REAL
  echo "ok: serves with CAP_SYS_ADMIN alone"
fi
echo "== 5. socket activation (systemd-socket-activate stands in for thinpool_exporter.socket)"
activate "$work/activated.log" "$BIN" --web.systemd-socket --devmapper.fixtures="$FIXTURES/lvm-healthy"
echo "   listening (IPv6 loopback: $ipv6): ${ADDRESSES[*]}"
sleep 0.2
grep -q 'listening on a socket' "$work/activated.log" && fail "the exporter started before the first connection"
for address in "${ADDRESSES[@]}"; do
  code=$(curl -s -o "$work/activated.metrics" -w '%{http_code}' --max-time 10 "http://$address/metrics" || true)
  [ "$code" = 200 ] || { cat "$work/activated.log"; fail "scrape of $address through the passed socket: $code"; }
  grep -q '^thinpool_data_used_bytes{' "$work/activated.metrics" || fail "no thinpool_data_used_bytes series from $address"
  grep -q -F "listening on a socket from systemd at $address (port ${address##*:}), metrics at /metrics" \
    "$work/activated.log" || { cat "$work/activated.log"; fail "no log line for the socket at $address"; }
done
stop_exporter
echo "ok: started on the first connection, 200 with thinpool_ series on ${#ADDRESSES[@]} socket(s)"
# error_exit NAME: the exporter exited 1 with exactly one error line, which names the flag.
error_exit() {
  local rc=$1 log=$2
  [ "$rc" = 1 ] || { cat "$log"; fail "$3: exit status $rc, not 1"; }
  [ "$(grep -c 'level=error' "$log")" = 1 ] || { cat "$log"; fail "$3: not one error line"; }
  grep 'level=error' "$log" | grep -q -F -- '--web.systemd-socket' || { cat "$log"; fail "$3: the error does not name the flag"; }
  echo "ok: $3: exit 1, $(grep 'level=error' "$log" | sed 's/.*msg=//')"
}
rc=0
env -u LISTEN_FDS -u LISTEN_PID -u LISTEN_FDNAMES "$BIN" --web.systemd-socket \
  --devmapper.fixtures="$FIXTURES/lvm-healthy" 2>"$work/nosocket.log" || rc=$?
error_exit "$rc" "$work/nosocket.log" "no socket passed"
systemd-socket-activate -l "$work/unix.sock" "$BIN" --web.systemd-socket \
  --devmapper.fixtures="$FIXTURES/lvm-healthy" 2>"$work/unix.log" &
PID=$!
for _ in $(seq 1 100); do
  [ -S "$work/unix.sock" ] && break
  sleep 0.05
done
curl -s -o /dev/null --max-time 10 --unix-socket "$work/unix.sock" http://localhost/metrics || true
rc=0
wait "$PID" || rc=$?
PID=""
error_exit "$rc" "$work/unix.log" "a Unix socket passed"
echo "PASS: the systemd units verify, exposure $score, the filters fit what the exporter does, socket activation serves"
