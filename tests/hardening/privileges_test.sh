#!/usr/bin/env bash
# The real binary started as root: after start-up every thread holds CAP_SYS_ADMIN alone (permitted,
# effective, bounding; nothing inheritable or ambient), no_new_privs is set and the seccomp filter
# is installed; with --devmapper.fixtures it keeps no capability at all; the flags turn both off.
# Scrapes keep working under the filter. Skipped (77) when not root.
# Usage: privileges_test.sh EXPORTER FIXTURES_DIR
set -Eeuo pipefail
# shellcheck disable=SC2154  # _rc is assigned inside the trap
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
BIN=$1
FIXTURES=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../integration/lib.sh
source "$here/../integration/lib.sh"
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root to show capabilities being dropped"
  exit 77
fi
work=$(mktemp -d)
trap 'stop_exporter; rm -rf "$work"' EXIT

field() { awk -v k="$2:" '$1 == k {print $2}' "$1"; }
own_filters=$(field /proc/self/status Seccomp_filters)
sys_admin=0000000000200000

check_threads() {  # check_threads WANT_CAPS WANT_NNP WANT_SECCOMP WANT_FILTERS
  local threads=0 status
  for status in /proc/"$PID"/task/*/status; do
    threads=$((threads + 1))
    for set in CapPrm CapEff CapBnd; do
      [ "$(field "$status" $set)" = "$1" ] || fail "$status: $set $(field "$status" $set), want $1"
    done
    for set in CapInh CapAmb; do
      [ "$(field "$status" $set)" = 0000000000000000 ] || fail "$status: $set is not empty"
    done
    [ "$(field "$status" NoNewPrivs)" = "$2" ] || fail "$status: NoNewPrivs $(field "$status" NoNewPrivs)"
    [ "$(field "$status" Seccomp)" = "$3" ] || fail "$status: Seccomp $(field "$status" Seccomp)"
    [ "$(field "$status" Seccomp_filters)" = "$4" ] || fail "$status: Seccomp_filters $(field "$status" Seccomp_filters)"
  done
  echo "ok: $threads threads: CapPrm=CapEff=CapBnd=$1 ($(capsh --decode="$1" | sed 's/.*=//')), CapInh=CapAmb=0, NoNewPrivs=$2, Seccomp=$3, filters=$4"
}
scrape_ok() {
  curl -sf --max-time 10 "http://127.0.0.1:$PORT/metrics" >"$work/metrics" ||
    fail "scrape failed under the restrictions"
  grep -q '^thinpool_exporter_build_info' "$work/metrics" || fail "no build_info under the restrictions"
}

echo "== reading the kernel (no fixtures): CAP_SYS_ADMIN only"
echo "   before: $(grep -E '^CapEff' /proc/self/status)"
start_exporter "$work/log1"
check_threads $sys_admin 1 2 $((own_filters + 1))
scrape_ok
grep -E 'capabilities:|seccomp:' "$work/log1" | sed 's/^/   log: /'
stop_exporter

echo "== --devmapper.fixtures: no capability at all"
start_exporter "$work/log2" --devmapper.fixtures="$FIXTURES/lvm-healthy"
check_threads 0000000000000000 1 2 $((own_filters + 1))
scrape_ok
stop_exporter

echo "== --no-security.drop-privileges --no-security.seccomp: left as started"
start_exporter "$work/log3" --no-security.drop-privileges --no-security.seccomp
for key in CapPrm CapEff CapBnd NoNewPrivs Seccomp Seccomp_filters; do
  [ "$(field /proc/"$PID"/status $key)" = "$(field /proc/self/status $key)" ] ||
    fail "$key changed although both are off"
done
echo "ok: CapEff $(field /proc/"$PID"/status CapEff), NoNewPrivs $(field /proc/"$PID"/status NoNewPrivs), Seccomp $(field /proc/"$PID"/status Seccomp): as the shell that started it"
stop_exporter
echo "PASS: privileges dropped to CAP_SYS_ADMIN with no_new_privs and seccomp on every thread"
