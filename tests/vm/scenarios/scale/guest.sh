# Scenario: one LVM thin pool with thousands of thin volumes (SCALE_VOLUMES, 2,000 in CI; THINPOOL_SCALE_VOLUMES on
# the host sets it), named as OpenStack Cinder names them, on real lvm2: every volume exported with the kernel's
# figures and every LV with LVM's, while the exporter keeps its caches across scrapes. The volumes are made as the
# benchmark makes them (tests/vm/lib/bench-pool.sh: one vgcfgrestore, then the pool messages and activations in one
# process). Then churn at that size, with lvm2's own commands: 20 LVs removed by one lvremove, 200 deactivated by
# one lvchange, an active thin snapshot, and 100 more volumes; the exporter, running throughout, must follow each
# change (its device list and tables are read again only after device-mapper changed something, and LVM's metadata
# only after it committed). The host compares every series with dmsetup and lvs at each checkpoint.
. /scenario/lib/guest-lib.sh
. /scenario/params.sh
. /scenario/lib/bench-pool.sh

# report NAME: every LV as lvs lists it (active or not), with its pool and origin.
report() {
	lvs -a --reportformat json -o vg_name,lv_name,lv_attr,segtype,pool_lv,origin \
		>"$RESULTS/$1-lvs.json" 2>"$RESULTS/$1-lvs.err" || true
}

build_pool
start_exporter
host scrape small
grow_to "$SCALE_VOLUMES"
# A scrape right after the growth (the one that finds the new devices and LVs), then the checkpoint's.
host scrape grown
report scaled
checkpoint scaled

say "churn: 20 LVs removed, 200 deactivated, an active thin snapshot, 100 new volumes"
removed=""
for i in $(seq 2 21); do removed="$removed $VG/$(volume_name "$i")"; done
# shellcheck disable=SC2086 # one argument per LV
lvremove -q -y $removed >"$RESULTS/lvremove.out" 2>&1 || { cat "$RESULTS/lvremove.out"; exit 1; }
inactive=""
for i in $(seq 101 300); do inactive="$inactive $VG/$(volume_name "$i")"; done
# shellcheck disable=SC2086
lvchange -q -an $inactive >"$RESULTS/lvchange.out" 2>&1 || { cat "$RESULTS/lvchange.out"; exit 1; }
lvcreate -q -s -kn -n snap-of-1 "$VG/$(volume_name 1)" >/dev/null 2>&1
write_mb "/dev/$VG/snap-of-1" 0 4
grow_to $((SCALE_VOLUMES + 100))
report churned
checkpoint churned
stop_exporter
