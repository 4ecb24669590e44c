#!/usr/bin/env bash
# The e2e assertions can fail, and say why in a way a person can act on: replays the host assertions of a
# finished e2e_seed run (no VM boot) once as they are, which must pass, and once with THINPOOL_E2E_BREAK=metadata-512,
# which makes them expect metadata in 512-byte units as an exporter with that bug would report. That run must
# fail, name the metadata series with the exporter's value and the expected one, and show the guest's dmsetup
# status and the scraped lines beside it.
# Usage: broken_on_purpose_test.sh RUN_DIR (the run directory of e2e_seed)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run_dir=$1
if [ ! -s "$run_dir/scrapes/seed.prom" ]; then
  echo "FAIL: no finished e2e_seed run in $run_dir (run e2e_seed first; ctest does through its fixture)"
  exit 1
fi
replay() {
  PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$here/lib /usr/bin/python3 "$here/scenarios/seed/assert.py" "$run_dir" 2>&1
}
failures=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
good=$(replay)
good_rc=$?
broken=$(THINPOOL_E2E_BREAK=metadata-512 replay)
broken_rc=$?
used='thinpool_metadata_used_bytes{pool="cinder--volumes-cinder--volumes--pool-tpool",vg="cinder-volumes",lv="cinder-volumes-pool"}: exporter says [0-9]+, expected [0-9]+'
check "the assertions pass on the run as it is (exit $good_rc)" test "$good_rc" = 0
check "with the bug they fail (exit 1, got $broken_rc)" test "$broken_rc" = 1
check "the failure counts the wrong checks" grep -Eq '^\[seed\] FAILED: [0-9]+ of [0-9]+ checks' <<<"$broken"
check "it names the metadata series with both values" grep -Eq -- "$used" <<<"$broken"
check "it shows the scraped lines" grep -q '^==== scrape .seed. (thinpool_\* lines) ====' <<<"$broken"
check "it shows the guest's dmsetup status" grep -q -- '-- dmsetup status --noflush (guest) --' <<<"$broken"
check "it says the failure is on purpose" grep -q 'THINPOOL_E2E_BREAK=metadata-512 is set' <<<"$broken"
check "data usage is still right (only metadata is broken)" bash -c '! grep -q "thinpool_data_used_bytes.*exporter says" <<<"$1"' _ "$broken"
if [ "$failures" -ne 0 ]; then
  printf -- '---- assertions as they are ----\n%s\n---- with THINPOOL_E2E_BREAK=metadata-512 ----\n%s\n' "$good" "$broken"
  exit 1
fi
echo "PASS: a broken expectation fails e2e_seed with a readable message"
