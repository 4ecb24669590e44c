#!/usr/bin/env bash
# Load on loopback against the exporter on fixtures:
#   1. wrk with 200 connections for LOAD_SECONDS from one address, --web.max-requests and
#      --web.max-connections-per-ip 200 (every request may be handled at once, and no connection is
#      closed to make room): zero failed requests (no socket errors, no non-2xx), resident memory flat
#      between the first and the second half;
#   2. slow and idle connections held open: a separate scrape is served at once;
#   3. more idle connections than --web.max-requests (40 by default), with
#      --web.request-timeout=2000: the scrape is served at once, since idle clients hold no worker.
# Beyond --web.max-requests requests at once the answer is a fast 503, which tests/exporter and
# tests/hardening/http_crowd_test.py check.
# Usage: load_test.sh EXPORTER FIXTURES_DIR   (LOAD_SECONDS, default 20)
set -Eeuo pipefail
# shellcheck disable=SC2154  # _rc is assigned inside the trap
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
BIN=$1
FIXTURES=$2
seconds=${LOAD_SECONDS:-20}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../integration/lib.sh
source "$here/../integration/lib.sh"
work=$(mktemp -d)
trap 'stop_exporter; rm -rf "$work"' EXIT

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status"; }
# wrk_run NAME CONNECTIONS SECONDS: runs wrk, prints its figures, fails on any failed request.
wrk_run() {
  wrk -t2 -c"$2" -d"$3"s --timeout 10s --latency "http://127.0.0.1:$PORT/metrics" >"$work/$1.txt"
  local requests rate p99 errors non2xx
  requests=$(awk '/requests in/ {print $1}' "$work/$1.txt")
  rate=$(awk '/^Requests\/sec/ {print $2}' "$work/$1.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/$1.txt")
  errors=$(sed -n 's/.*Socket errors: \(.*\)/\1/p' "$work/$1.txt")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/$1.txt")
  echo "   $1: $requests requests in $3 s over $2 connections, $rate req/s, p99 latency $p99," \
    "socket errors: ${errors:-none}, non-2xx: ${non2xx:-0}"
  if [ -n "$errors" ] || [ -n "$non2xx" ] || [ "${requests:-0}" -le 0 ]; then
    cat "$work/$1.txt"
    fail "$1: failed requests"
  fi
}

# settle: waits until the previous wrk's connections are gone from the exporter (one open: this
# scrape's own). wrk stops with requests in flight; the exporter finishes those scrapes and only
# then sees their connections closed, so the next wrk's 200 connections would otherwise meet the
# per-address limit of 200 still taken (refused, or older ones evicted: wrk's "read" errors).
settle() {
  local open=""
  for _ in $(seq 100); do
    open=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '$1 == "thinpool_http_connections" {print $2}')
    [ "$open" = 1 ] && return 0
    sleep 0.1
  done
  fail "$open connections still open 10 s after wrk stopped"
}

echo "== 1. wrk: 200 connections for 2 x $((seconds / 2)) s, 200 requests at once and per address"
start_exporter "$work/log1" --devmapper.fixtures="$FIXTURES/lvm-healthy" --web.max-requests=200 \
  --web.max-connections-per-ip=200
rss_start=$(rss_kib)
wrk_run warm-up 50 3
settle
rss_warm=$(rss_kib)
wrk_run first-half 200 $((seconds / 2))
settle
rss_half=$(rss_kib)
wrk_run second-half 200 $((seconds / 2))
rss_end=$(rss_kib)
growth=$((rss_end - rss_half))
echo "   RSS: $rss_start KiB at start, $rss_warm after warm-up, $rss_half after the first half," \
  "$rss_end after the second (growth in the second half: $growth KiB)"
# Flat: the second half may not add more than 2 MiB or 5 % to what the first half reached.
limit=$((rss_half / 20 > 2048 ? rss_half / 20 : 2048))
[ "$growth" -le "$limit" ] || fail "RSS grew by $growth KiB in the second half (limit $limit KiB)"
grep -q 'level=error' "$work/log1" && { cat "$work/log1"; fail "errors logged under load"; }

echo "== 2. 30 idle + 5 slow connections held: a separate scrape"
python3 "$here/hold_connections.py" "$PORT" 30 5 2 | sed 's/^/   /'
stop_exporter

echo "== 3. 110 idle connections (more than --web.max-requests) with --web.request-timeout=2000"
start_exporter "$work/log3" --devmapper.fixtures="$FIXTURES/lvm-healthy" --web.request-timeout=2000
python3 "$here/hold_connections.py" "$PORT" 110 0 10 | sed 's/^/   /'
stop_exporter
echo "PASS: no failed requests, flat memory, scrapes served while slow and idle clients are held"
