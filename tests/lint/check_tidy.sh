#!/usr/bin/env bash
# Runs clang-tidy with the checked-in .clang-tidy over the exporter's own translation units;
# any finding fails (WarningsAsErrors). Usage: check_tidy.sh BUILD_DIR (with compile_commands.json)
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
build=$1
cd "$(dirname "$0")/../.."
mapfile -t files < <(git ls-files {base,dm,lvm,thin,exposition,collectors,exporter}/'*.cc')
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet 2>&1 |
  grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated' | tee /tmp/clang-tidy.$$ || true
if grep -q -E '(warning|error):' /tmp/clang-tidy.$$; then
  rm -f /tmp/clang-tidy.$$
  echo "FAIL: clang-tidy findings above" >&2
  exit 1
fi
rm -f /tmp/clang-tidy.$$
echo "ok: clang-tidy clean on ${#files[@]} files"
