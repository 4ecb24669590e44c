# Scenario: metadata sized too small for its data (issue "See the cause weeks ahead"), on real lvm2. Four pools in one
# VG: `big`, 8 GiB of 64 KiB chunks with lvm2's smallest metadata (2 MiB; lvcreate itself would give it 8 MiB);
# `snappy`, 1 GiB with 2 MiB of metadata whose thin volume is snapshotted with scattered writes between snapshots,
# so its metadata grows several times faster than its data (as a Cinder pool's does); `healthy`, 1 GiB with 8 MiB of
# metadata and plain writes; `fresh`, an empty pool (what an empty pool uses besides the kernel's reserve).
# The host feeds the exporter's scrape to the mixin's rules (assert.py, with promtool). Then a thin snapshot is made
# without activating it and the empty pool is deactivated: LVM's counts include what the kernel does not have.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
lvm_pv_on_vda 12288
vgcreate -q -s 1m vgu /dev/vda >/dev/null
lvcreate -q -L 8g --poolmetadatasize 2m -c 64k -Zn --thinpool big vgu >"$RESULTS/lvcreate-big.out" 2>&1
lvcreate -q -V 1g --thin -n bigvol vgu/big >/dev/null
write_mb /dev/vgu/bigvol 0 256
lvcreate -q -L 1g --poolmetadatasize 2m -c 64k -Zn --thinpool snappy vgu >/dev/null
lvcreate -q -V 1g --thin -n origin vgu/snappy >/dev/null
write_mb /dev/vgu/origin 0 64
# Each round: a snapshot, then 4 KiB written into 64 chunks spread over the first 64 MiB (one dd through a dm
# linear device whose 4 KiB segments point at them), so the origin's mapping-tree leaves are copied.
origin=$(devnum vgu-origin)
for round in $(seq 16); do
	lvcreate -q -kn -s -n "snap$round" vgu/origin >/dev/null
	awk -v d="$origin" -v r="$round" 'BEGIN { for (j = 0; j < 64; j++) print j * 8, 8, "linear", d, (j * 16 + r) * 128 }' |
		dmsetup create spread
	dd if=/dev/zero of="$(dm_node spread)" bs=256k count=1 oflag=direct 2>/dev/null
	dmsetup remove spread
done
lvcreate -q -L 1g --poolmetadatasize 8m -c 64k --thinpool healthy vgu >/dev/null
lvcreate -q -V 1g --thin -n plain vgu/healthy >/dev/null
write_mb /dev/vgu/plain 0 64
lvcreate -q -L 1g --poolmetadatasize 4m -c 64k --thinpool fresh vgu >/dev/null
lvcreate -q -V 1g --thin -n unused vgu/fresh >/dev/null
start_exporter
checkpoint sized
# What LVM knows that the kernel does not show: a thin snapshot lvm2 leaves inactive (its default), and a pool
# deactivated while the VG's other pools stay active.
lvcreate -q -s -n inactive-snap vgu/origin >/dev/null
lvchange -q -an vgu/unused vgu/fresh
lvs -a -o lv_name,lv_attr,pool_lv,origin vgu >"$RESULTS/lvs-inactive"
checkpoint inactive
stop_exporter
