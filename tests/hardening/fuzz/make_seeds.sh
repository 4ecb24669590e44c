#!/usr/bin/env bash
# Builds the fuzzers' seed corpora from every captured fixture (tests/fixtures/**/{info,table,status}):
# the params of each thin-pool / thin status and table line, every dm name, and each capture's three
# files joined by NUL bytes for the FakeDeviceMapper target. Usage: make_seeds.sh FIXTURES_DIR OUT_DIR
set -Eeuo pipefail
# shellcheck disable=SC2154  # _rc is assigned inside the trap
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
fixtures=$1 out=$2
rm -rf "$out"
for target in thin_pool_status thin_pool_table thin_status thin_table split_lvm_name dmsetup_text; do
  mkdir -p "$out/$target"
done
n=0
seed() {  # seed TARGET TEXT
  n=$((n + 1))
  printf '%s' "$2" >"$out/$1/seed-$n"
}
# "name: start length type params" -> params of lines whose type is $2
params() {
  sed -n -E "s/^[^ ]+: [0-9]+ [0-9]+ $2 ?(.*)$/\\1/p" "$1"
}
while IFS= read -r dir; do
  if [ ! -f "$dir/status" ] || [ ! -f "$dir/table" ]; then continue; fi
  while IFS= read -r line; do seed thin_pool_status "$line"; done < <(params "$dir/status" thin-pool)
  while IFS= read -r line; do seed thin_pool_table "$line"; done < <(params "$dir/table" thin-pool)
  while IFS= read -r line; do seed thin_status "$line"; done < <(params "$dir/status" thin)
  while IFS= read -r line; do seed thin_table "$line"; done < <(params "$dir/table" thin)
  if [ -f "$dir/info" ]; then
    while IFS= read -r name; do seed split_lvm_name "$name"; done < <(awk '{print $1}' "$dir/info")
    n=$((n + 1))
    { cat "$dir/info"; printf '\0'; cat "$dir/table"; printf '\0'; cat "$dir/status"; } \
      >"$out/dmsetup_text/seed-$n"
  fi
done < <(find "$fixtures" -type d | sort)
# Forms the captures may lack: old kernels' shorter lines, Fail/Error, an unopened thin device.
for line in "Fail" "Error" "0 112/1024 0/16384" "0 112/1024 0/16384 - rw discard_passdown" \
  "0 112/1024 0/16384 - rw discard_passdown queue_if_no_space"; do
  seed thin_pool_status "$line"
done
for line in "-" "0 -" "Fail" "Error" "1228800 1228799"; do seed thin_status "$line"; done
seed thin_table "254:3 7 254:9"
seed split_lvm_name "cinder--volumes-cinder--volumes--pool-tpool"
for target in "$out"/*; do
  echo "$(basename "$target"): $(find "$target" -type f | wc -l) seeds"
done
