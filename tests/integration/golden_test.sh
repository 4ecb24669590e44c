#!/usr/bin/env bash
# End-to-end on fixtures: starts the real binary against each fixture folder on a loopback port,
# scrapes /metrics over HTTP (plain and gzip), compares the whole text with the golden file
# tests/fixtures/<case>/exposition.golden, and runs `promtool check metrics` on it.
# THINPOOL_UPDATE_GOLDEN=1 rewrites the golden files.
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
BIN=$1
FIXTURES=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
work=$(mktemp -d)
trap 'stop_exporter; rm -rf "$work"' EXIT

# Every fixture folder: the same goldens tests/collectors/registry_test.cc checks in-process.
cases=()
for dir in "$FIXTURES"/*/ "$FIXTURES"/captured/*/; do
  [ -f "$dir/status" ] && cases+=("${dir#"$FIXTURES"/}")
done
cases=("${cases[@]%/}")
[ "${#cases[@]}" -ge 14 ] || fail "found only ${#cases[@]} fixture folders in $FIXTURES"
for case in "${cases[@]}"; do
  # LVM's view comes from the backup captured with the kernel state, where there is one; the
  # fixture runs never open block devices.
  backups="$work/no-backups"
  [ "$case" = captured/lvm-cinder-volumes ] && backups="$FIXTURES/captured/lvm/backup"
  start_exporter "$work/${case//\//_}.log" --devmapper.fixtures="$FIXTURES/$case" \
    --collector.lvm.backup-dir="$backups"
  curl -fsS "http://127.0.0.1:$PORT/metrics" >"$work/${case//\//_}.prom"
  curl -fsS -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT/metrics" | gunzip >"$work/${case//\//_}.gz.prom"
  stop_exporter
  # Paths into the checkout differ between runs (relative, absolute): name them FIXTURES.
  normalize_exposition <"$work/${case//\//_}.prom" | sed "s|$FIXTURES|FIXTURES|g" >"$work/${case//\//_}.norm"
  normalize_exposition <"$work/${case//\//_}.gz.prom" | sed "s|$FIXTURES|FIXTURES|g" >"$work/${case//\//_}.gz.norm"
  # The second scrape may only differ in counters that every scrape moves.
  diff -u <(grep -v -E '^thinpool_(parse|device)_errors_total' "$work/${case//\//_}.norm") \
    <(grep -v -E '^thinpool_(parse|device)_errors_total' "$work/${case//\//_}.gz.norm") || fail "$case: gzip and plain scrapes differ"
  golden="$FIXTURES/$case/exposition.golden"
  if [ -n "${THINPOOL_UPDATE_GOLDEN:-}" ]; then
    cp "$work/${case//\//_}.norm" "$golden"
  fi
  if ! diff -u "$golden" "$work/${case//\//_}.norm"; then
    fail "$case: /metrics differs from $golden (rerun with THINPOOL_UPDATE_GOLDEN=1 if intended)"
  fi
  if command -v promtool >/dev/null; then
    if ! promtool check metrics <"$work/${case//\//_}.prom" >"$work/${case//\//_}.lint" 2>&1; then
      cat "$work/${case//\//_}.lint" >&2
      fail "$case: promtool check metrics found problems"
    fi
  else
    fail "promtool not found (Debian package prometheus; scripts/install-deps installs it)"
  fi
  echo "ok: $case ($(grep -c -v '^#' "$work/${case//\//_}.prom") samples)"
done
