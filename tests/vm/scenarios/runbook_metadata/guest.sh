# Issue 4's runbook on the seed incident's state: an LVM pool (the seed's names) whose metadata the kernel itself ran
# full (lvs Meta% 100.00, pool read-only). The runbook's `diagnose` and `grow-metadata` blocks run verbatim (extracted
# from docs/runbook.md by ./prepare) in busybox sh with VG and POOL set, as an operator would paste them. Afterwards
# the pool must be rw (exporter and dmsetup), writes to unprovisioned blocks must work and lvcreate must make a new
# thin volume. Then the `grow-data` block grows the pool's data by its default 10%.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
VG=$SEED_VG
POOL=$SEED_POOL

# runbook BLOCK: runs the extracted block like a pasted one (busybox sh -e), output kept in /results/BLOCK.out.
runbook() {
	local rc=0
	say "runbook block $1 (VG=$VG POOL=$POOL)"
	env VG="$VG" POOL="$POOL" sh -e "/scenario/$1.sh" >"$RESULTS/$1.out" 2>&1 || rc=$?
	sed 's/^/    /' "$RESULTS/$1.out"
	if [ "$rc" != 0 ]; then
		echo "runbook block $1 failed with exit status $rc"
		return 1
	fi
}

say "running $VG/$POOL's metadata full"
make_lvm_metadata_full "$VG" "$POOL"
start_exporter
checkpoint full
runbook diagnose
runbook grow-metadata
checkpoint grown

# O_DIRECT: the writes that failed while the pool was read-only were page cache writeback ("lost async page
# write"), and the kernel reports such an unseen error to the next fsync on the device, even from a new open.
say "writes to unprovisioned blocks of the old volume"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 2>/dev/null
dd if=/tmp/pattern of="/dev/$VG/origin" bs=1M seek=512 oflag=direct conv=notrunc 2>"$RESULTS/write.err"
dd if="/dev/$VG/origin" of=/tmp/readback bs=1M skip=512 count=4 iflag=direct 2>/dev/null
cmp /tmp/pattern /tmp/readback
echo ok >"$RESULTS/write-ok"

say "a new thin volume in the pool"
lvcreate -V 256m --thin -n volume-after-grow "$VG/$POOL" >"$RESULTS/lvcreate.out" 2>&1 || {
	cat "$RESULTS/lvcreate.out"
	exit 1
}
write_mb "/dev/$VG/volume-after-grow" 0 16
# The data side of the runbook as well: grow-data's default, +10% of the pool's data LV.
runbook grow-data
checkpoint after-lvcreate
dmesg | grep 'device-mapper: thin' >"$RESULTS/thin-kernel-messages.txt" || true
stop_exporter
