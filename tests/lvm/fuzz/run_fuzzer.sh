#!/usr/bin/env bash
# Runs a libFuzzer binary for a bounded time: first on every saved regression input (each must
# pass), then fuzzing from the seed directories. A crash fails the test and leaves the input in
# WORK_DIR (crash-*): copy it into the target's regressions/ directory once fixed.
# Usage: run_fuzzer.sh FUZZER SECONDS WORK_DIR REGRESSION_DIR [DICT|-] SEED_DIR...
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
fuzzer=$1 seconds=$2 work=$3 regressions=$4 dict=$5
shift 5
mkdir -p "$work/corpus"
if compgen -G "$regressions/*" >/dev/null; then
  echo "== regression inputs in $regressions"
  "$fuzzer" -runs=1 "$regressions"/*
fi
dict_args=()
if [ "$dict" != "-" ]; then dict_args=(-dict="$dict"); fi
echo "== fuzzing for ${seconds}s from: $*"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "${dict_args[@]}" "$work/corpus" "$@"
