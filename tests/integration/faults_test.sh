#!/usr/bin/env bash
# The real binary under faults: port in use, bad flags, no device-mapper in the kernel, broken
# fixtures, disabled collectors, and a clean shutdown on SIGTERM.
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
BIN=$1
FIXTURES=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
work=$(mktemp -d)
trap 'stop_exporter; rm -rf "$work"' EXIT

# Port in use: exit 1 with one error line that says why.
start_exporter "$work/first.log" --devmapper.fixtures="$FIXTURES/empty"
rc=0
timeout 10 "$BIN" --web.listen-address=127.0.0.1:"$PORT" --devmapper.fixtures="$FIXTURES/empty" 2>"$work/second.log" || rc=$?
[ "$rc" -eq 1 ] || fail "port in use: exit code $rc, want 1"
errors=$(grep -c 'level=error' "$work/second.log" || true)
[ "$errors" -eq 1 ] || fail "port in use: $errors error lines, want 1: $(cat "$work/second.log")"
grep -q "cannot listen on 127.0.0.1:$PORT: .*in use" "$work/second.log" ||
  fail "port in use: the error does not say so: $(cat "$work/second.log")"
stop_exporter
echo "ok: port in use"

# Bad flags: exit 2 with exactly one line on stderr.
for args in "--bogus" "--log.level=loud" "--web.listen-address=nope" "--devmapper.fixtures=/nonexistent"; do
  rc=0
  "$BIN" $args >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" -eq 2 ] || fail "$args: exit code $rc, want 2"
  [ "$(wc -l <"$work/err")" -eq 1 ] || fail "$args: stderr is not one line: $(cat "$work/err")"
  [ ! -s "$work/out" ] || fail "$args: printed to stdout"
done
echo "ok: bad flags"

# Fixtures that cannot be parsed: exit 2, the message names the file's problem.
mkdir -p "$work/broken"
echo "only-a-name" >"$work/broken/info"
: >"$work/broken/table"
: >"$work/broken/status"
rc=0
"$BIN" --devmapper.fixtures="$work/broken" --web.listen-address=127.0.0.1:0 2>"$work/broken.log" || rc=$?
[ "$rc" -eq 2 ] || fail "broken fixtures: exit code $rc, want 2"
grep -q 'info line .*only-a-name.* is not' "$work/broken.log" || fail "broken fixtures: $(cat "$work/broken.log")"
echo "ok: broken fixtures"

# --version and --help exit 0 on stdout. Captured first: `grep -q` stops reading at its match, and the
# exporter, still writing the rest of --help, would then die of SIGPIPE and fail the pipeline.
version=$("$BIN" --version) || fail "--version exited $?"
grep -q '^thinpool_exporter version ' <<<"$version" || fail "--version: $version"
help=$("$BIN" --help) || fail "--help exited $?"
grep -q -- '--no-collector.thin' <<<"$help" || fail "--help does not list --no-collector.thin"
echo "ok: --version, --help"

# A disabled collector reports nothing at all.
start_exporter "$work/nothin.log" --devmapper.fixtures="$FIXTURES/lvm-healthy" --no-collector.thin
curl -fsS "http://127.0.0.1:$PORT/metrics" >"$work/nothin.prom"
stop_exporter
grep -q '^thinpool_volume_' "$work/nothin.prom" && fail "--no-collector.thin still exports volumes"
grep -q 'collector="thin"' "$work/nothin.prom" && fail "--no-collector.thin still reports the collector"
grep -q '^thinpool_thin_volumes{pool="cinder--volumes-cinder--volumes--pool-tpool".*} 3$' "$work/nothin.prom" ||
  fail "--no-collector.thin: the pool should still count its volumes"
echo "ok: --no-collector.thin"

# No device-mapper in the kernel (the machines this runs on have none): serves self metrics,
# success 0, one clear reason in the log, healthy; SIGTERM exits 0.
if grep -q device-mapper /proc/misc 2>/dev/null; then
  echo "skip: this kernel has device-mapper; the no-device-mapper case runs in the VM tests"
else
  start_exporter "$work/nodm.log"
  curl -fsS "http://127.0.0.1:$PORT/metrics" >"$work/nodm.prom"
  curl -fsS "http://127.0.0.1:$PORT/metrics" >/dev/null
  curl -fsS "http://127.0.0.1:$PORT/-/healthy" >/dev/null || fail "no dm: /-/healthy"
  kill -TERM "$PID"
  rc=0
  wait "$PID" || rc=$?
  PID=""
  [ "$rc" -eq 0 ] || fail "SIGTERM: exit code $rc, want 0"
  grep -q '^thinpool_scrape_collector_success{collector="thinpool"} 0$' "$work/nodm.prom" || fail "no dm: success not 0"
  grep -q '^process_resident_memory_bytes ' "$work/nodm.prom" || fail "no dm: no process metrics"
  grep -q '^thinpool_exporter_build_info{' "$work/nodm.prom" || fail "no dm: no build info"
  grep -q 'device-mapper is not available, so no pools will appear: .*no device-mapper' "$work/nodm.log" ||
    fail "no dm: the start-up log does not explain: $(cat "$work/nodm.log")"
  reasons=$(grep -c 'collector thinpool failed: ' "$work/nodm.log" || true)
  [ "$reasons" -eq 1 ] || fail "no dm: the reason was logged $reasons times over two scrapes, want once"
  echo "ok: no device-mapper, clean SIGTERM"
fi
