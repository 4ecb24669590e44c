# Captures dmsetup/lvs output of many dm-thin states on the real kernel, one state at a time, into
# /results/captured/<state>/{info,table,status[,lvs.json]}. tests/vm/capture-fixtures copies them into the tree.
# /scenario/states.conf (written by ./prepare from CAPTURE_STATES) may name the states to capture; default all.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
out=$RESULTS/captured
wanted=$(cat /scenario/states.conf 2>/dev/null || true)

keep() {
	local state=$1
	say "captured $state"
	capture "$out/$state"
	rm -f "$out/$state/lvs-bytes.json" "$out/$state/lvs.err"
	cat "$out/$state/status"
}

lvm_cinder_volumes() {
	make_seed_layout
	keep lvm-cinder-volumes
	mkdir -p "$out/lvm"
	vgcfgbackup -q -f "$out/lvm/cinder-volumes.vgcfg" "$SEED_VG" >/dev/null
	dd if=/dev/vda bs=1M count=1 2>/dev/null | gzip -9 >"$out/lvm/pv-vda-first-1MiB.bin.gz"
	pvs --reportformat json --units b -o+pv_uuid,pe_start,pv_mda_size >"$out/lvm/pvs.json"
	vgs --reportformat json --units b -o+vg_uuid,vg_seqno,vg_extent_size >"$out/lvm/vgs.json"
	remove_seed_layout
}

lvm_fresh_pool() {
	lvm_pv_on_vda 768
	vgcreate -q vg0 /dev/vda >/dev/null
	lvcreate -q -L 256m --poolmetadatasize 2m -c 64k -Zn --thinpool pool vg0 >/dev/null
	keep lvm-fresh-pool
	vgremove -q -ff vg0 >/dev/null
	pvremove -q -ff -y /dev/vda >/dev/null
}

lvm_metadata_full() {
	make_lvm_metadata_full vg0 pool
	keep lvm-metadata-full
	lvextend -q --poolmetadatasize +4m vg0/pool >/dev/null
	keep lvm-metadata-grown
	vgremove -q -ff vg0 >/dev/null
	pvremove -q -ff -y /dev/vda >/dev/null
}

dmsetup_pool() {
	make_plain_pool plain-pool 8 256
	make_plain_thin plain-pool 0 plain-thin0 128
	make_plain_thin plain-pool 1 plain-thin1 128
	write_mb "$(dm_node plain-thin0)" 0 24
	dmsetup message plain-pool 0 "set_transaction_id 0 2"
	keep dmsetup-pool
}

data_exhaustion() {
	make_plain_pool small-pool 4 32
	make_plain_thin small-pool 0 small-thin 64
	fill_until_out_of_data small-pool small-thin
	keep out-of-data-space
	reload_pool_features small-pool error_if_no_space
	wait "$FILL_PID" || true
	keep error-if-no-space
}

read_only() {
	make_plain_pool ro-pool 4 64
	make_plain_thin ro-pool 0 ro-thin 32
	write_mb "$(dm_node ro-thin)" 0 8
	reload_pool_features ro-pool read_only
	keep read-only
}

metadata_exhaustion() {
	make_plain_pool meta-pool 512k 512
	make_plain_thin meta-pool 0 meta-thin 256
	write_mb "$(dm_node meta-thin)" 0 64
	exhaust_metadata meta-pool meta-thin
	keep metadata-exhausted
	scratch_grow meta-pool-meta 8
	dmsetup suspend meta-pool
	dmsetup resume meta-pool
	keep metadata-grown
}

needs_check() {
	make_needs_check_pool nc-pool
	dmsetup create nc-thin1 --table "0 204800 thin $(devnum nc-pool) 1"
	keep needs-check
}

fail() {
	make_plain_pool fail-pool 4 64
	make_plain_thin fail-pool 0 fail-thin 32
	write_mb "$(dm_node fail-thin)" 0 1
	fail_pool fail-pool fail-thin
	keep fail
	dmesg | grep 'device-mapper' >"$out/kernel-messages.txt" || true
}

# run STATE FUNCTION: runs one capture (when wanted), then removes every dm device so the next one starts clean.
run() {
	local state=$1 fn=$2
	if [ -n "$wanted" ] && ! printf '%s\n' $wanted | grep -qx "$state"; then return 0; fi
	say "state $state"
	"$fn"
	remove_all_dm
}

# LVM states use /dev/vda from its start; plain dmsetup pools are carved after the first GiB.
run lvm-cinder-volumes lvm_cinder_volumes
run lvm-fresh-pool lvm_fresh_pool
run lvm-metadata-full lvm_metadata_full
SCRATCH_NEXT=$((1024 * 2048))
run dmsetup-pool dmsetup_pool
run out-of-data-space data_exhaustion
run read-only read_only
run metadata-exhausted metadata_exhaustion
run needs-check needs_check
run fail fail
