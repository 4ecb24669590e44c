#!/usr/bin/env bash
# Builds the project a second time with THINPOOL_SANITIZE=ON (AddressSanitizer + UBSan, every
# finding fatal) in its own folder, then runs the unit tests (thinpool_unit_tests, and the LVM and
# hardening test binaries when they exist) and the real-binary golden test with that build.
# Usage: sanitizers_test.sh SOURCE_DIR BUILD_DIR FIXTURES_DIR   (SANITIZE_JOBS, default 2)
set -Eeuo pipefail
# shellcheck disable=SC2154  # _rc is assigned inside the trap
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
src=$1 build=$2 fixtures=$3
jobs=${SANITIZE_JOBS:-2}
start=$(date +%s)
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DTHINPOOL_SANITIZE=ON \
  -DTHINPOOL_BUILD_BENCH=OFF -DTHINPOOL_FUZZ=OFF -DTHINPOOL_LVM_FUZZ=OFF -DTHINPOOL_WERROR=OFF >/dev/null
targets=(thinpool_exporter thinpool_unit_tests)
available=$(cmake --build "$build" --target help)
for optional in thinpool_lvm_tests thinpool_hardening_tests; do
  if grep -q -w "$optional" <<<"$available"; then targets+=("$optional"); fi
done
cmake --build "$build" -j "$jobs" --target "${targets[@]}" >"$build/build.log" 2>&1 ||
  { tail -n 50 "$build/build.log"; echo "FAIL: the sanitizer build failed" >&2; exit 1; }
echo "== built ${targets[*]} with -fsanitize=address,undefined in $(($(date +%s) - start)) s"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=0
for binary in thinpool_unit_tests thinpool_lvm_tests thinpool_hardening_tests; do
  path=$(find "$build/tests" -maxdepth 2 -type f -name "$binary" | head -n 1)
  [ -n "$path" ] || continue
  t0=$(date +%s)
  if "$path" --gtest_brief=1 >"$build/$binary.log" 2>&1; then
    echo "ok: $binary: $(grep -E '^\[  PASSED  \]' "$build/$binary.log") under ASan+UBSan ($(($(date +%s) - t0)) s)"
  else
    tail -n 60 "$build/$binary.log"
    echo "FAIL: $binary under ASan+UBSan" >&2
    failed=1
  fi
done
# The real binary on every fixture, compared with the golden files, under the sanitizers too.
# (LeakSanitizer's exit-time check needs ptrace and a non-thread clone, which the exporter's own
# seccomp filter refuses: leaks are checked by the unit tests above.)
if ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  "$src/tests/integration/golden_test.sh" "$build/thinpool_exporter" "$fixtures" >"$build/golden.log" 2>&1; then
  echo "ok: golden_test.sh with the sanitized binary"
else
  tail -n 40 "$build/golden.log"
  echo "FAIL: golden_test.sh with the sanitized binary" >&2
  failed=1
fi
echo "total $(($(date +%s) - start)) s"
exit "$failed"
