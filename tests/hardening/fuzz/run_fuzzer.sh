#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time: first every saved regression input (each must pass),
# then fuzzing from the seed corpus. A crash fails the test and leaves the input in WORK_DIR
# (crash-*, leak-*, timeout-*): fix the parser, then copy the input into regressions/<target>/.
# Usage: run_fuzzer.sh FUZZER SECONDS WORK_DIR REGRESSION_DIR SEED_DIR
set -Eeuo pipefail
# shellcheck disable=SC2154  # _rc is assigned inside the trap
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
fuzzer=$1 seconds=$2 work=$3 regressions=$4 seeds=$5
rm -rf "$work"
mkdir -p "$work/corpus"
if compgen -G "$regressions/*" >/dev/null; then
  echo "== $(find "$regressions" -type f | wc -l) regression inputs from $regressions"
  "$fuzzer" -runs=1 "$regressions"/*
fi
echo "== fuzzing $(basename "$fuzzer") for ${seconds}s from $seeds"
status=0
"$fuzzer" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 -max_len=4096 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$seeds" >"$work/log" 2>&1 ||
  status=$?
grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)' "$work/log" | tail -n 60
if compgen -G "$work/crash-*" >/dev/null || compgen -G "$work/leak-*" >/dev/null ||
  compgen -G "$work/timeout-*" >/dev/null || [ "$status" -ne 0 ]; then
  echo "FAIL: $(basename "$fuzzer") found a problem (exit $status); inputs:" >&2
  ls -la "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null >&2 || true
  exit 1
fi
echo "ok: $(basename "$fuzzer") ran ${seconds}s without a finding"
