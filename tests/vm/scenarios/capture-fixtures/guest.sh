# Captures dmsetup/lvs output of many dm-thin states on the real kernel, one state at a time, into
# /results/captured/<state>/{info,table,status,lvs.json}. tests/vm/capture-fixtures copies them into the tree.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
out=$RESULTS/captured

keep() {
	local state=$1
	say "captured $state"
	capture "$out/$state"
	rm -f "$out/$state/lvs-bytes.json" "$out/$state/lvs.err"
	cat "$out/$state/status"
}

say "LVM: the seed's cinder-volumes layout"
make_seed_layout
keep lvm-cinder-volumes
mkdir -p "$out/lvm"
vgcfgbackup -q -f "$out/lvm/cinder-volumes.vgcfg" "$SEED_VG" >/dev/null
dd if=/dev/vda bs=1M count=1 2>/dev/null | gzip -9 >"$out/lvm/pv-vda-first-1MiB.bin.gz"
pvs --reportformat json --units b -o+pv_uuid,pe_start,pv_mda_size >"$out/lvm/pvs.json"
vgs --reportformat json --units b -o+vg_uuid,vg_seqno,vg_extent_size >"$out/lvm/vgs.json"
remove_seed_layout

say "LVM: a fresh pool with no thin volume"
lvm_pv_on_vda 768
vgcreate -q vg0 /dev/vda >/dev/null
lvcreate -q -L 256m --poolmetadatasize 2m -c 64k -Zn --thinpool pool vg0 >/dev/null
keep lvm-fresh-pool
vgremove -q -ff vg0 >/dev/null
pvremove -q -ff -y /dev/vda >/dev/null
remove_all_dm

# Plain dmsetup pools live after the LVM region on /dev/vda.
SCRATCH_NEXT=$((1024 * 2048))

say "dmsetup: a plain pool with two thin volumes"
make_plain_pool plain-pool 8 256
make_plain_thin plain-pool 0 plain-thin0 128
make_plain_thin plain-pool 1 plain-thin1 128
write_mb "$(dm_node plain-thin0)" 0 24
dmsetup message plain-pool 0 "set_transaction_id 0 2"
keep dmsetup-pool
remove_all_dm

say "data exhaustion: queue_if_no_space, then the same pool switched to error_if_no_space"
make_plain_pool small-pool 4 32
make_plain_thin small-pool 0 small-thin 64
fill_until_out_of_data small-pool small-thin
keep out-of-data-space
reload_pool_features small-pool error_if_no_space
wait "$FILL_PID" || true
keep error-if-no-space
remove_all_dm

say "read_only feature"
make_plain_pool ro-pool 4 64
make_plain_thin ro-pool 0 ro-thin 32
write_mb "$(dm_node ro-thin)" 0 8
reload_pool_features ro-pool read_only
keep read-only
remove_all_dm

say "metadata exhaustion, then the metadata grown back"
make_plain_pool meta-pool 512k 512
make_plain_thin meta-pool 0 meta-thin 256
write_mb "$(dm_node meta-thin)" 0 64
exhaust_metadata meta-pool meta-thin
keep metadata-exhausted
scratch_grow meta-pool-meta 8
dmsetup suspend meta-pool
dmsetup resume meta-pool
keep metadata-grown
remove_all_dm

say "needs_check flag set in the metadata"
make_needs_check_pool nc-pool
make_plain_thin_existing() { dmsetup create "$2" --table "0 204800 thin $(devnum "$1") 1"; }
make_plain_thin_existing nc-pool nc-thin1
keep needs-check
remove_all_dm

say "Fail mode: metadata device gone bad"
make_plain_pool fail-pool 4 64
make_plain_thin fail-pool 0 fail-thin 32
write_mb "$(dm_node fail-thin)" 0 1
fail_pool fail-pool fail-thin
keep fail
dmesg | grep 'device-mapper' >"$out/kernel-messages.txt" || true
remove_all_dm
