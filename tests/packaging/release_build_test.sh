#!/usr/bin/env bash
# Builds the project as packagers do, CMAKE_BUILD_TYPE=Release (-O3), in a folder of its own, with
# warnings as errors and the tests and benchmarks included, then runs its unit and LVM test
# binaries. The rest of the test run uses RelWithDebInfo (-O2), and some warnings come only from
# -O3's inlining (g++ 12's -Wrestrict on string concatenation in tests/lvm was one).
# The fuzzers are left out: they are compiled with fixed flags, whatever the build type.
# Usage: release_build_test.sh SOURCE_DIR BUILD_DIR CXX_COMPILER   (RELEASE_BUILD_JOBS, default 2)
set -Eeuo pipefail
# shellcheck disable=SC2154  # _rc is assigned inside the trap
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
src=$1 build=$2 cxx=$3
jobs=${RELEASE_BUILD_JOBS:-2}
start=$(date +%s)
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx" \
  -DTHINPOOL_WERROR=ON -DTHINPOOL_BUILD_TESTS=ON -DTHINPOOL_BUILD_BENCH=ON \
  -DTHINPOOL_FUZZ=OFF -DTHINPOOL_LVM_FUZZ=OFF >/dev/null
if ! cmake --build "$build" -j "$jobs" >"$build/build.log" 2>&1; then
  if grep -q 'error:' "$build/build.log"; then
    grep -m 5 -E -B 2 -A 12 'error:' "$build/build.log"
  else
    tail -n 50 "$build/build.log"
  fi
  echo "FAIL: the Release build with -Werror failed ($cxx; log: $build/build.log)" >&2
  exit 1
fi
echo "ok: Release build of every target with -Werror ($cxx) in $(($(date +%s) - start)) s"

failed=0
for binary in tests/thinpool_unit_tests tests/lvm/thinpool_lvm_tests; do
  t0=$(date +%s)
  log="$build/${binary##*/}.log"
  if "$build/$binary" --gtest_brief=1 >"$log" 2>&1; then
    echo "ok: ${binary##*/}: $(grep -E '^\[  PASSED  \]' "$log") ($(($(date +%s) - t0)) s)"
  else
    tail -n 60 "$log"
    echo "FAIL: ${binary##*/} of the Release build" >&2
    failed=1
  fi
done
echo "total $(($(date +%s) - start)) s"
exit "$failed"
