#!/usr/bin/env bash
# Fails when a C++ file of the exporter differs from what the checked-in .clang-format makes of it.
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
cd "$(dirname "$0")/../.."
mapfile -t files < <(git ls-files {base,dm,lvm,thin,exposition,collectors,exporter,bench}/'*.h' \
  {base,dm,lvm,thin,exposition,collectors,exporter,bench}/'*.cc' 'tests/*.cc' 'tests/*.h' 2>/dev/null || true)
[ "${#files[@]}" -gt 0 ] || { echo "no files to check"; exit 1; }
clang-format --dry-run --Werror "${files[@]}"
echo "ok: ${#files[@]} files formatted"
