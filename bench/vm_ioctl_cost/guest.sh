# Per-device cost of DM_TABLE_STATUS: libdevmapper vs the ioctl issued directly. $EXPORTER is
# bench/vm_ioctl_cost/dm_status_cost.cc built on the host (see there); 1,000 plain thin devices.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
make_plain_pool bench-pool 64 512
pool=$(devnum bench-pool)
say "creating 1000 thin devices"
for id in $(seq 1 1000); do
	dmsetup message bench-pool 0 "create_thin $id"
	dmsetup create --noudevsync "volume-$(printf '%08x-1111-4222-8333-%012x' $id $id)" --table "0 2097152 thin $pool $id"
done
say "$(dmsetup status --target thin | wc -l) thin devices"
"$EXPORTER" 5 >"$RESULTS/dmbench.txt" 2>&1
cat "$RESULTS/dmbench.txt"
for i in 1 2 3 4 5; do
	t0=${EPOCHREALTIME/./}; dmsetup status --noflush >/dev/null; t1=${EPOCHREALTIME/./}
	echo "dmsetup status --noflush: $((t1 - t0)) us" | tee -a "$RESULTS/dmbench.txt"
done
say "done"
