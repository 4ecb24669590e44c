#!/usr/bin/env bash
# The e2e harness's answer to a guest kernel that hangs (seen in CI: a guest `dd` stuck in D state): runs the
# `hang` scenario, whose write to a suspended device never returns, and checks that init's watchdog reported the
# hung task with its stack, that /results still came back, that run-scenario booted the scenario once more and
# kept the first attempt, and that the second hang failed the run.
# Usage: harness_hang_test.sh RUN_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run_dir=$1
rm -rf "$run_dir" "$run_dir.hung-attempt-1"
out=$("$here/run-scenario" --run-dir "$run_dir" hang 2>&1)
rc=$?
failures=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
kept=$run_dir.hung-attempt-1
check "run-scenario fails (exit 1, got $rc)" test "$rc" = 1
check "it says it retries after the hang" grep -q 'RETRYING: the guest kernel hung (@@HUNG a task hung in the kernel: task dd:' <<<"$out"
check "the second hang is not retried" grep -q 'the guest kernel hung again on the second attempt: not retrying' <<<"$out"
check "the first attempt is kept" test -s "$kept/console.log"
check "its console holds the stuck dd's stack" grep -q 'blkdev_fsync' "$kept/console.log"
check "its /results came back despite the stuck device" grep -q "writing to the suspended device 'stuck'" "$kept/results/guest.log"
check "the guest log is shown on failure" grep -q "writing to the suspended device 'stuck'" <<<"$out"
check "the VM powered off by itself (no host timeout)" grep -q '@@END rc=124' "$run_dir/console.log"
if [ "$failures" -ne 0 ]; then
  echo "---- run-scenario's output ----"
  echo "$out"
  exit 1
fi
rm -rf "$kept"
