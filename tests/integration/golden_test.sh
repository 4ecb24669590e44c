#!/usr/bin/env bash
# End-to-end on fixtures: starts the real binary against each fixture folder on a loopback port,
# scrapes /metrics over HTTP (plain and gzip), compares the whole text with the golden file
# tests/fixtures/<case>/exposition.golden, and runs `promtool check metrics` on it.
# THINPOOL_UPDATE_GOLDEN=1 rewrites the golden files.
set -euo pipefail
BIN=$1
FIXTURES=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
work=$(mktemp -d)
trap 'stop_exporter; rm -rf "$work"' EXIT

for case in lvm-healthy seed-incident faults empty; do
  start_exporter "$work/$case.log" --devmapper.fixtures="$FIXTURES/$case"
  curl -fsS "http://127.0.0.1:$PORT/metrics" >"$work/$case.prom"
  curl -fsS -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT/metrics" | gunzip >"$work/$case.gz.prom"
  stop_exporter
  normalize_exposition <"$work/$case.prom" >"$work/$case.norm"
  normalize_exposition <"$work/$case.gz.prom" >"$work/$case.gz.norm"
  # The second scrape may only differ in counters that every scrape moves.
  diff -u <(grep -v '^thinpool_parse_errors_total' "$work/$case.norm") \
    <(grep -v '^thinpool_parse_errors_total' "$work/$case.gz.norm") || fail "$case: gzip and plain scrapes differ"
  golden="$FIXTURES/$case/exposition.golden"
  if [ -n "${THINPOOL_UPDATE_GOLDEN:-}" ]; then
    cp "$work/$case.norm" "$golden"
  fi
  if ! diff -u "$golden" "$work/$case.norm"; then
    fail "$case: /metrics differs from $golden (rerun with THINPOOL_UPDATE_GOLDEN=1 if intended)"
  fi
  if command -v promtool >/dev/null; then
    if ! promtool check metrics <"$work/$case.prom" >"$work/$case.lint" 2>&1; then
      cat "$work/$case.lint" >&2
      fail "$case: promtool check metrics found problems"
    fi
  else
    fail "promtool not found (Debian package prometheus; scripts/install-deps installs it)"
  fi
  echo "ok: $case ($(grep -c -v '^#' "$work/$case.prom") samples)"
done
