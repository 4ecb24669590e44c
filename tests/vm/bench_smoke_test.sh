#!/usr/bin/env bash
# The VM benchmark's short version, so that it keeps running (no timing is checked): tests/vm/scenarios/benchmark
# at 300 thin volumes with one round of every measurement (the full run: BENCHMARKS.md), then its report, which
# must hold the row for 300 volumes and every figure the targets are read from.
# Usage: bench_smoke_test.sh EXPORTER RUN_DIR
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
here=$(cd "$(dirname "$0")" && pwd)
exporter=$1
run_dir=$2
THINPOOL_BENCH_VOLUMES=300 THINPOOL_BENCH_REPS=1 "$here/run-scenario" --exporter "$exporter" --run-dir "$run_dir" \
  benchmark
report=$(python3 "$here/../../bench/report.py" --only vm --vm-results "$run_dir")
echo "$report"
failures=0
for want in '^\| 300 \|' 'floor' 'peak RSS' 'lvm fullreport' 'CPU per hour'; do
  if ! grep -qE -- "$want" <<<"$report"; then
    echo "FAIL: the report has no line matching '$want'"
    failures=$((failures + 1))
  fi
done
# Every measurement the report reads, for 300 volumes, in the raw results.
for what in floor collect collect_warm http http_gzip fullreport lvs dmsetup cpu_http cpu_http_gzip rss_peak_kib \
  rss_peak_kib_novolseries rss_peak_kib_nolvm body_bytes; do
  if ! awk -F'\t' -v w="$what" '$1 == 300 && $2 == w && $3 > 0 { found = 1 } END { exit !found }' \
    "$run_dir/results/bench.tsv"; then
    echo "FAIL: bench.tsv has no positive '$what' for 300 volumes"
    failures=$((failures + 1))
  fi
done
[ "$failures" = 0 ]
echo "ok: the VM benchmark ran at 300 volumes and its report was made"
