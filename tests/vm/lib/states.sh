# shellcheck shell=bash disable=SC2034  # globals such as FILL_PID and SCRATCH_NEXT are read by the sourcing script
# Builders for the dm-thin states the scenarios, the fixture capture and the demo need (guest side, bash).
# Source after guest-lib.sh. Every builder works on the real kernel in the VM; sizes are small so TCG stays quick.

# The seed's layout (the incident this exporter was written for): VG cinder-volumes, thin pool
# cinder-volumes-pool with small (2 MiB) metadata, Cinder-named thin volumes with data written, one snapshot.
SEED_VG=cinder-volumes
SEED_POOL=cinder-volumes-pool
SEED_VOLUMES="volume-5b7a7d0c-3f43-4c5e-9f8e-2f3c1a0b9d11 volume-9e2f4a61-7c1b-4d2e-8a3f-6b5c4d3e2f10"
SEED_VOLUMES="$SEED_VOLUMES volume-c0ffee00-1234-4abc-8def-0123456789ab volume-0d2c9b8a-aaaa-4bbb-8ccc-dddddddddddd"
SEED_SNAPSHOT=_snapshot-4f1e2d3c-5b6a-4789-9abc-def012345678

# lvm_pv_on_vda MB: /dev/vda's first MB become a PV; scratch_dev carves after it.
lvm_pv_on_vda() {
	local mb=$1
	pvcreate -q --setphysicalvolumesize "${mb}m" /dev/vda >/dev/null
	SCRATCH_NEXT=$((mb * 2048 + 2048))
}

# make_seed_layout: the seed's VG on /dev/vda (768 MiB PV), 512 MiB pool, four 1 GiB thin volumes
# (over-provisioned, like Cinder), 8-32 MiB written to each, and a thin snapshot of the first one.
make_seed_layout() {
	lvm_pv_on_vda 768
	vgcreate -q "$SEED_VG" /dev/vda >/dev/null
	lvcreate -q -L 512m --poolmetadatasize 2m -c 64k --thinpool "$SEED_POOL" "$SEED_VG" >/dev/null
	local v mb=8
	for v in $SEED_VOLUMES; do
		lvcreate -q -V 1g --thin -n "$v" "$SEED_VG/$SEED_POOL" >/dev/null
		if [ "$mb" -gt 0 ]; then write_mb "/dev/$SEED_VG/$v" 0 "$mb"; fi
		mb=$((mb + 8))
	done
	local first=${SEED_VOLUMES%% *}
	# Cinder activates its snapshots; lvm2 would otherwise skip activating thin snapshots.
	lvcreate -q -kn -s -n "$SEED_SNAPSHOT" "$SEED_VG/$first" >/dev/null
	write_mb "/dev/$SEED_VG/$SEED_SNAPSHOT" 4 2
	sync
}

remove_seed_layout() {
	vgremove -q -ff "$SEED_VG" >/dev/null
	pvremove -q -ff -y /dev/vda >/dev/null
}

# make_plain_pool NAME META_SIZE DATA_MB [FEATURE...] (META_SIZE as for to_sectors: "8" MiB or "512k"): a thin pool made with dmsetup only (no LVM), 64 KiB blocks,
# on scratch devices NAME-meta and NAME-data.
make_plain_pool() {
	local name=$1 meta=$2 data=$3
	shift 3
	scratch_dev "$name-meta" "$meta"
	scratch_dev "$name-data" "$data"
	# A new pool formats its metadata only when the superblock is zero.
	dd if=/dev/zero of="$(dm_node "$name-meta")" bs=4k count=1 conv=fsync 2>/dev/null
	dmsetup create "$name" --table "0 $((data * 2048)) thin-pool $(devnum "$name-meta") $(devnum "$name-data") 128 0 $# $*"
}

# make_plain_thin POOL ID NAME MB: a thin volume of MB MiB, thin device id ID, in a dmsetup-made pool.
make_plain_thin() {
	local pool=$1 id=$2 name=$3 mb=$4
	dmsetup message "$pool" 0 "create_thin $id"
	dmsetup create "$name" --table "0 $((mb * 2048)) thin $(devnum "$pool") $id"
}

# reload_pool_features POOL FEATURE...: the same pool table with other features (e.g. read_only).
reload_pool_features() {
	local pool=$1 t
	shift
	t=$(dmsetup table "$pool" | awk '{ print $1, $2, $3, $4, $5, $6, $7 }')
	dmsetup suspend "$pool"
	dmsetup reload "$pool" --table "$t $# $*"
	dmsetup resume "$pool"
}

# fill_until_out_of_data POOL THIN: writes to THIN in the background until POOL reports out_of_data_space.
# With queue_if_no_space the writer blocks (its I/O is queued); FILL_PID is its pid.
fill_until_out_of_data() {
	local pool=$1 thin=$2
	write_mb "$(dm_node "$thin")" 0 "$(($(sectors "$thin") / 2048))" >/dev/null 2>&1 &
	FILL_PID=$!
	for _ in $(seq 300); do
		if dmsetup status "$pool" | grep -q out_of_data_space; then return 0; fi
		sleep 0.2
	done
	echo "pool $pool never reported out_of_data_space:"
	dmsetup status "$pool"
	return 1
}

# exhaust_metadata POOL THIN [SPAN_MB]: the kernel's own way to run out of metadata space (POOL and THIN are dm
# names). THIN must have its first SPAN_MB (default 64) MiB written. Each round snapshots THIN (the snapshot stays
# inactive) and then writes 4 KiB every 8 MiB over those SPAN_MB of THIN: every write lands in a btree leaf still
# shared with the snapshot, so the kernel copies the leaf (and its path) and the snapshot keeps the old one.
# Rounds go on until the pool turns read-only.
exhaust_metadata() {
	local pool=$1 thin=$2 span=${3:-64} round=1 origin node off
	origin=$(dmsetup table "$thin" | awk '{ print $5 }')
	node=$(dm_node "$thin")
	while [ "$round" -le 200 ]; do
		dmsetup suspend "$thin"
		dmsetup message "$pool" 0 "create_snap $((origin + 100 + round)) $origin" || {
			dmsetup resume "$thin"
			break
		}
		dmsetup resume "$thin"
		for off in $(seq 0 8 $((span - 1))); do
			dd if=/dev/zero of="$node" bs=4k seek=$((off * 256 + round)) count=1 conv=notrunc 2>/dev/null || true
		done
		sync || true
		if dmsetup status "$pool" | grep -q ' ro '; then
			say "metadata exhausted after $round snapshots"
			return 0
		fi
		round=$((round + 1))
	done
	echo "pool $pool did not run out of metadata:"
	dmsetup status "$pool"
	return 1
}

# commit_behind_stuck_pv THIN POOL OFFSET_MB: with the PV under POOL suspended (--noflush), writes 8 MiB at OFFSET_MB
# to new blocks of THIN (they wait below the pool) and sends POOL (its dm name) a create_thin message whose metadata
# commit waits for them, holding the metadata lock that every status call of the pool and its volumes takes (Linux
# 6.1, docs/kernel.md). STUCK_PIDS: the writer and the message; they return once the PV is resumed.
commit_behind_stuck_pv() {
	dd if=/dev/zero of="$1" bs=1M seek="$3" count=8 oflag=direct 2>/dev/null &
	STUCK_PIDS=$!
	sleep 1
	dmsetup message "$2" 0 "create_thin 99" &
	STUCK_PIDS="$STUCK_PIDS $!"
}

# dm_name VG [LV [LAYER]]: the dm name lvm2 gives an LV (every '-' inside a name doubled).
dm_name() {
	local out
	out=$(printf '%s' "$1" | sed 's/-/--/g')
	[ -z "${2:-}" ] || out=$out-$(printf '%s' "$2" | sed 's/-/--/g')
	[ -z "${3:-}" ] || out=$out-$3
	echo "$out"
}

# make_lvm_metadata_full VG POOL: the seed incident's state, made by the kernel: VG on /dev/vda (1 MiB extents), a
# 1 GiB thin pool with lvm2's smallest metadata (2 MiB), thin volume VG/origin with 256 MiB written, then
# exhaust_metadata through the pool's -tpool device. The snapshots are made with pool messages, so LVM does not know
# them and its transaction id stays as it was (new LVM volumes get lower device ids; no clash). Ends with lvs
# showing Meta% 100.00 and the pool read-only. Grow it back with lvextend --poolmetadatasize.
make_lvm_metadata_full() {
	local vg=$1 pool=$2
	pvcreate -q /dev/vda >/dev/null
	vgcreate -q -s 1m "$vg" /dev/vda >/dev/null
	lvcreate -q -L 1g --poolmetadatasize 2m -c 64k --thinpool "$pool" "$vg" >/dev/null
	lvcreate -q -V 1g --thin -n origin "$vg/$pool" >/dev/null
	write_mb "/dev/$vg/origin" 0 256
	exhaust_metadata "$(dm_name "$vg" "$pool" tpool)" "$(dm_name "$vg" origin)" 256
}

# make_needs_check_pool NAME: a pool whose metadata carries the needs_check flag (written by thin_restore), so
# the kernel keeps it read-only "until repaired", with thin device 1 mapping two blocks.
make_needs_check_pool() {
	local name=$1
	scratch_dev "$name-meta" 4
	scratch_dev "$name-data" 128
	cat >/tmp/needs-check.xml <<-EOF
		<superblock uuid="" time="1" transaction="5" flags="1" version="2" data_block_size="128" nr_data_blocks="2048">
		  <device dev_id="1" mapped_blocks="2" transaction="0" creation_time="0" snap_time="0">
		    <range_mapping origin_begin="0" data_begin="0" length="2" time="0"/>
		  </device>
		</superblock>
	EOF
	thin_restore -q -i /tmp/needs-check.xml -o "$(dm_node "$name-meta")"
	dmsetup create "$name" --table "0 $((128 * 2048)) thin-pool $(devnum "$name-meta") $(devnum "$name-data") 128 0 0"
}

# fail_pool POOL THIN: swaps POOL's metadata device for the error target and forces a commit: the kernel
# fails the commit, cannot abort, and puts the pool into Fail mode.
fail_pool() {
	local pool=$1 thin=$2 meta len
	meta=$pool-meta
	len=$(sectors "$meta")
	dmsetup suspend "$meta"
	dmsetup reload "$meta" --table "0 $len error"
	dmsetup resume "$meta"
	write_mb "$(dm_node "$thin")" 4 1 >/dev/null 2>&1 || true
	sync
}

# remove_all_dm: removes every dm device (between fixture states).
remove_all_dm() {
	dmsetup remove_all --force >/dev/null 2>&1 || true
	if dmsetup ls 2>/dev/null | grep -qv 'No devices found'; then
		echo "devices left after remove_all:"
		dmsetup ls
	fi
}
