# Scenario: thin pools whose sub-LVs are themselves layered, as operators build them for resilience or speed, on
# real lvm2: metadata mirrored (`lvconvert --type raid1` of the pool's _tmeta, what lvm2's documentation advises),
# data on a raid1 LV, data behind a dm-cache (a cache pool on another PV), and a VG whose PV is itself a device-mapper
# device (as a LUKS or multipath PV is: Cinder on multipath, Proxmox on LUKS). Each pool has thin volumes with data
# and a snapshot. Then the runbook's fixes on the layered pools: the mirrored metadata and the raid1 data grown with
# lvextend. The host compares the exporter with dmsetup, lvs and vgs at each checkpoint.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh

load_module dm-raid raid1 dm-cache dm-cache-smq

# report NAME: what lvm2 says about every VG and LV, in bytes.
report() {
	vgs --reportformat json --units b --nosuffix -o vg_name,vg_size,vg_free,vg_missing_pv_count,pv_count,lv_count \
		>"$RESULTS/$1-vgs.json" 2>"$RESULTS/$1-vgs.err" || true
	lvs -a --reportformat json --units b --nosuffix \
		-o vg_name,lv_name,lv_attr,segtype,pool_lv,origin,data_lv,metadata_lv,lv_size,lv_metadata_size,transaction_id,copy_percent \
		>"$RESULTS/$1-lvs.json" 2>"$RESULTS/$1-lvs.err" || true
}

# raid_synced LV...: waits (at most 120 s) until each raid LV's images are in sync.
raid_synced() {
	local lv pct
	for lv in "$@"; do
		for _ in $(seq 240); do
			pct=$(lvs --noheadings -o copy_percent "$lv" | tr -d ' ')
			[ "$pct" = "100.00" ] && break
			sleep 0.5
		done
		say "$lv in sync: $pct%"
		[ "$pct" = "100.00" ]
	done
}

# The PV on a device-mapper device: a linear map over /dev/vda from its second MiB (nothing at /dev/vda's start,
# so lvm2 finds the label on the map only), accepted by the filter by its /dev/mapper name.
awk '/^\tfilter = / { print "\tfilter = [ \"a|^/dev/loop|\", \"a|^/dev/mapper/pvdm$|\", \"r|.*|\" ]"; next } { print }' \
	/etc/lvm/lvm.conf >/tmp/lvm.conf
cat /tmp/lvm.conf >/etc/lvm/lvm.conf
SCRATCH_NEXT=2048
scratch_dev pvdm 512
dmsetup mknodes pvdm
pvcreate -q /dev/mapper/pvdm >/dev/null
vgcreate -q vgdm /dev/mapper/pvdm >/dev/null
lvcreate -q -L 128m --poolmetadatasize 4m -c 64k --thinpool pool vgdm >/dev/null
lvcreate -q -V 1g --thin -n vol vgdm/pool >/dev/null
write_mb /dev/vgdm/vol 0 16

p0=$(loop_pv p0 512M)
p1=$(loop_pv p1 512M)
p2=$(loop_pv p2 512M)
vgcreate -q vgl "$p0" "$p1" "$p2" >/dev/null

say "rmeta: a pool whose metadata is mirrored (lvconvert --type raid1 of its _tmeta)"
lvcreate -q -L 128m --poolmetadatasize 4m -c 64k --thinpool rmeta vgl "$p0" >/dev/null
lvconvert -y -q --type raid1 -m 1 vgl/rmeta_tmeta "$p1" >"$RESULTS/lvconvert-rmeta.out" 2>&1 ||
	{ cat "$RESULTS/lvconvert-rmeta.out"; exit 1; }

say "rdata: a pool made from a raid1 data LV and a raid1 metadata LV"
lvcreate -q --type raid1 -m 1 --nosync -L 128m -n rdata vgl "$p0" "$p1" >/dev/null
lvcreate -q --type raid1 -m 1 --nosync -L 4m -n rdatameta vgl "$p0" "$p1" >/dev/null
lvconvert -y -q --type thin-pool -c 64k --poolmetadata vgl/rdatameta vgl/rdata >"$RESULTS/lvconvert-rdata.out" 2>&1 ||
	{ cat "$RESULTS/lvconvert-rdata.out"; exit 1; }

say "cached: a pool whose data is behind a dm-cache (a cache pool on another PV, writethrough)"
lvcreate -q -L 128m --poolmetadatasize 4m -c 64k --thinpool cached vgl "$p0" >/dev/null
lvcreate -q --type cache-pool -L 32m -n cpool vgl "$p2" >/dev/null
lvconvert -y -q --type cache --cachemode writethrough --cachepool vgl/cpool vgl/cached \
	>"$RESULTS/lvconvert-cached.out" 2>&1 || { cat "$RESULTS/lvconvert-cached.out"; exit 1; }

raid_synced vgl/rmeta_tmeta
for pool in rmeta rdata cached; do
	lvcreate -q -V 1g --thin -n "${pool}vol" "vgl/$pool" >/dev/null
	write_mb "/dev/vgl/${pool}vol" 0 16
	lvcreate -q -s -n "${pool}snap" "vgl/${pool}vol" >/dev/null
	write_mb "/dev/vgl/${pool}vol" 4 4
done
dmsetup ls --tree >"$RESULTS/tree.txt" 2>&1 || true
cat "$RESULTS/tree.txt"

start_exporter
report layered
checkpoint layered

say "grown: the mirrored metadata (the runbook's lvextend --poolmetadatasize) and the raid1 data (lvextend -L)"
lvextend -q --poolmetadatasize +4m vgl/rmeta >"$RESULTS/lvextend.out" 2>&1
lvextend -q -L +64m vgl/rdata >>"$RESULTS/lvextend.out" 2>&1
lvextend -q --poolmetadatasize +4m vgdm/pool >>"$RESULTS/lvextend.out" 2>&1
cat "$RESULTS/lvextend.out"
raid_synced vgl/rmeta_tmeta vgl/rdata_tdata
report grown
checkpoint grown
stop_exporter
