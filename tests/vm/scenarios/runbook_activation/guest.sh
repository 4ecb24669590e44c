# Scenario: thin pools that will not activate, and the runbook that brings them back (issue "See the cause weeks
# ahead"), on real lvm2 2.03.16. One VG, vg-act: `keeper` stays active throughout (the exporter reads the VG's LVM
# metadata from its PV while a pool of it is active); `pool-a` and `pool-b` hold two thin volumes and a thin snapshot
# with random data each; `small` has 4 GiB of data in 64 KiB chunks with 2 MiB of metadata, half of lvm2's estimate.
# pool-a and pool-b are deactivated and their metadata damaged (the block the superblock's data space-map root points
# at is overwritten), so lvm2's thin_check refuses their activation. The runbook's blocks then run verbatim (extracted
# from docs/runbook.md by ./prepare) in busybox sh with VG and POOL set: inactive-pool and activate-pool say why,
# repair-pool (lvconvert --repair) brings pool-a back, repair-pool-manually (the _tmeta activated on its own,
# thin_check, thin_repair into a new LV, the swap) brings pool-b back after its _tmeta was left active on its own.
# Then pool-b is deactivated on purpose, with autoactivation off, and inactive-pool must say so; activate-pool brings
# it back. Last, grow-metadata-to-estimate grows small's metadata to lvm2's estimate, and a second run does nothing.
# The host (assert.py) checks every checkpoint against dmsetup and lvs, the pools' thinpool_lvm_pool_active, their
# mode and needs_check, the thin volumes' checksums, the blocks' verdicts and the metadata size.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
VG=vg-act

# runbook BLOCK POOL NAME: runs the extracted block like a pasted one (busybox sh -e); its output goes to
# /results/NAME.out and its exit status to /results/NAME.rc (some blocks must fail: the host checks which).
runbook() {
	local block=$1 pool=$2 name=$3 rc=0
	say "runbook block $block (VG=$VG POOL=$pool)"
	env VG="$VG" POOL="$pool" sh -e "/scenario/$block.sh" >"$RESULTS/$name.out" 2>&1 || rc=$?
	sed 's/^/    /' "$RESULTS/$name.out"
	echo "$rc" >"$RESULTS/$name.rc"
	say "runbook block $block exited $rc"
}

# sums POOL: one "LV md5" line per thin LV of POOL (all must be active).
sums() {
	local lv
	for lv in $(lvs --noheadings -o lv_name -S "pool_lv=$1" "$VG" | sort); do
		echo "$lv $(md5sum <"/dev/$VG/$lv" | cut -d' ' -f1)"
	done
}

# deactivate POOL: its thin LVs, then the pool.
deactivate() {
	local lv
	for lv in $(lvs --noheadings -o lv_name -S "pool_lv=$1" "$VG"); do lvchange -an "$VG/$lv"; done
	lvchange -an "$VG/$1"
}

# damage_metadata POOL: with POOL inactive, overwrites one block of its metadata LV on the PV: the block that the
# superblock's data space-map root points at (struct thin_disk_superblock in the kernel's dm-thin-metadata.c: magic
# at byte 32, data_space_map_root at byte 64, a disk_sm_root {nr_blocks, nr_allocated, bitmap_root,
# ref_count_root}, so bitmap_root at byte 80). thin_check finds the bad checksum ("bad checksum in btree node");
# thin_repair rebuilds the space maps from the mapping trees, so no mapping is lost.
damage_metadata() {
	local pool=$1 range pv pe pe_start extent off magic root
	range=$(lvs -a --noheadings -o seg_pe_ranges "$VG/${pool}_tmeta" | tr -d ' ')
	pv=${range%%:*}
	pe=${range#*:}
	pe=${pe%-*}
	pe_start=$(pvs --noheadings --units b --nosuffix -o pe_start "$pv" | tr -d ' ')
	extent=$(vgs --noheadings --units b --nosuffix -o vg_extent_size "$VG" | tr -d ' ')
	off=$((pe_start + pe * extent))
	magic=$(od -A n -t u8 -j $((off + 32)) -N 8 "$pv" | tr -d ' ')
	if [ "$magic" != 27022010 ]; then
		echo "no thin-pool superblock at byte $off of $pv (magic '$magic')"
		return 1
	fi
	root=$(od -A n -t u8 -j $((off + 80)) -N 8 "$pv" | tr -d ' ')
	say "damaging $VG/${pool}_tmeta: metadata block $root (the data space map's index), byte $((off + root * 4096)) of $pv"
	dd if=/dev/urandom of="$pv" bs=4096 seek=$((off / 4096 + root)) count=1 conv=notrunc,fsync 2>/dev/null
	echo "$root" >"$RESULTS/damaged-block-$pool"
}

say "building $VG"
pvcreate -q /dev/vda >/dev/null
vgcreate -q -s 1m "$VG" /dev/vda >/dev/null
lvcreate -q -L 256m --poolmetadatasize 4m -c 64k --thinpool keeper "$VG" >/dev/null
lvcreate -q -V 64m --thin -n keepvol "$VG/keeper" >/dev/null
write_mb "/dev/$VG/keepvol" 0 8
for pool in pool-a pool-b; do
	lvcreate -q -L 256m --poolmetadatasize 4m -c 64k --thinpool "$pool" "$VG" >/dev/null
	lvcreate -q -V 128m --thin -n "$pool-vol1" "$VG/$pool" >/dev/null
	lvcreate -q -V 128m --thin -n "$pool-vol2" "$VG/$pool" >/dev/null
	dd if=/dev/urandom of="/dev/$VG/$pool-vol1" bs=1M count=24 conv=fsync 2>/dev/null
	dd if=/dev/urandom of="/dev/$VG/$pool-vol2" bs=1M seek=32 count=24 conv=fsync 2>/dev/null
	# An active thin snapshot, then new data in its origin: the two share most blocks and differ in some.
	lvcreate -q -kn -s -n "$pool-snap" "$VG/$pool-vol1" >/dev/null
	dd if=/dev/urandom of="/dev/$VG/$pool-vol1" bs=1M seek=8 count=4 conv=notrunc,fsync 2>/dev/null
	sums "$pool" >"$RESULTS/sums-before-$pool"
done
lvcreate -q -L 4g --poolmetadatasize 2m -c 64k --thinpool small "$VG" >"$RESULTS/lvcreate-small.out" 2>&1
lvcreate -q -V 1g --thin -n small-vol "$VG/small" >/dev/null
write_mb "/dev/$VG/small-vol" 0 16
start_exporter
checkpoint built

say "deactivating pool-a and pool-b and damaging their metadata"
for pool in pool-a pool-b; do
	deactivate "$pool"
	damage_metadata "$pool"
done
checkpoint broken

# pool-a: why is it inactive, what does activating it say, then lvconvert --repair.
runbook inactive-pool pool-a inactive-pool-a
runbook activate-pool pool-a activate-pool-a
runbook repair-pool pool-a repair-pool-a
sums pool-a >"$RESULTS/sums-after-pool-a"
checkpoint repaired

# pool-b: its _tmeta left active on its own, as a manual check leaves it; then the manual repair.
lvchange -ay -y "$VG/pool-b_tmeta" >"$RESULTS/component.out" 2>&1
runbook inactive-pool pool-b inactive-pool-b
runbook activate-pool pool-b activate-pool-b
runbook repair-pool-manually pool-b repair-pool-manually-b
sums pool-b >"$RESULTS/sums-after-pool-b"
checkpoint repaired-manually

# pool-b inactive on purpose: deactivated, and left out of the activation at boot.
deactivate pool-b
lvchange -q --setautoactivation n "$VG/pool-b"
runbook inactive-pool pool-b inactive-pool-b-deliberate
checkpoint deliberate
lvchange -q --setautoactivation y "$VG/pool-b"
runbook activate-pool pool-b activate-pool-b-again
sums pool-b >"$RESULTS/sums-again-pool-b"

# small: metadata below lvm2's estimate, grown to it; the second run finds nothing to do.
runbook grow-metadata-to-estimate small grow-metadata-to-estimate
runbook grow-metadata-to-estimate small grow-metadata-to-estimate-again
vgs --noheadings --units b --nosuffix -o vg_mda_size,vg_mda_free "$VG" >"$RESULTS/mda-before"
checkpoint resized
vgs --noheadings --units b --nosuffix -o vg_mda_size,vg_mda_free "$VG" >"$RESULTS/mda-after"
lvs -a -o lv_name,lv_attr,lv_size,pool_lv,devices "$VG" >"$RESULTS/lvs-final"
dmesg | grep 'device-mapper: thin' >"$RESULTS/thin-kernel-messages.txt" || true
stop_exporter
