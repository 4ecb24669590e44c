# Issue 5's transaction id mismatch, made the way it happens in the field: vgcfgbackup, the pool's transaction_id
# bumped in the file, `vgcfgrestore --force` (lvm2 then expects one more than the kernel has, the seed's 91 vs 92).
# The exporter must show kernel and LVM ids differing within one scrape, lvcreate must fail; the runbook's
# fix-transaction-id block (docs/runbook.md, run verbatim) must make them equal and lvcreate work again; the runbook's
# repair-pool block then repairs the pool (lvconvert --repair) and grows its metadata. On the way the VG fills up
# (linear LVs), and the lvm collector's VG size/free must equal vgs at every checkpoint.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
VG=$SEED_VG
POOL=$SEED_POOL

# lvm_checkpoint NAME: a checkpoint with vgs (bytes) just before and just after the host's scrape.
VGS_FIELDS=vg_size,vg_free,vg_seqno,vg_extent_size,vg_free_count
lvm_checkpoint() {
	vgs --noheadings --units b --nosuffix -o $VGS_FIELDS "$VG" >"$RESULTS/vgs-$1.txt"
	checkpoint "$1"
	vgs --noheadings --units b --nosuffix -o $VGS_FIELDS "$VG" >"$RESULTS/vgs-$1-after.txt"
}

# try NAME CMD...: runs CMD, keeps its output and exit status in /results/NAME.{out,rc}; never fails.
try() {
	local name=$1 rc=0
	shift
	"$@" >"$RESULTS/$name.out" 2>&1 || rc=$?
	echo "$rc" >"$RESULTS/$name.rc"
	say "$name: exit status $rc"
	sed 's/^/    /' "$RESULTS/$name.out"
}

say "VG $VG (4 MiB extents) with pool $POOL and one thin volume"
lvm_pv_on_vda 400
vgcreate -q -s 4m "$VG" /dev/vda >/dev/null
lvcreate -q -L 64m --poolmetadatasize 4m -c 64k --thinpool "$POOL" "$VG" >/dev/null
lvcreate -q -V 256m --thin -n volume-1 "$VG/$POOL" >/dev/null
write_mb "/dev/$VG/volume-1" 0 4
# Explicitly (they are the defaults): the lvm collector must read the PV under the privilege drop and seccomp filter.
start_exporter --security.drop-privileges --security.seccomp
lvm_checkpoint healthy

say "the VG fills: a linear LV takes extents"
lvcreate -q -L 164m -n fill-1 "$VG" >/dev/null
lvm_checkpoint fill-1

say "making the mismatch: vgcfgbackup, pool transaction_id + 1 in the file, vgcfgrestore --force"
vgcfgbackup -q -f /tmp/vg-before.vg "$VG" >/dev/null
# The pool's own segment (type = "thin-pool"), not a thin LV's transaction_id (its creation transaction).
awk '
	/type = "thin-pool"/ { in_pool = 1 }
	in_pool && match($0, /transaction_id = [0-9]+/) {
		id = substr($0, RSTART + 17, RLENGTH - 17)
		sub(/transaction_id = [0-9]+/, "transaction_id = " (id + 1))
		in_pool = 0; bumped++
	}
	{ print }
	END { if (bumped != 1) { print "bumped " bumped " transaction ids, expected 1" > "/dev/stderr"; exit 1 } }
' /tmp/vg-before.vg >/tmp/vg-bumped.vg
diff -u /tmp/vg-before.vg /tmp/vg-bumped.vg >"$RESULTS/bump.diff" || true
cat "$RESULTS/bump.diff"
echo y | vgcfgrestore --force -f /tmp/vg-bumped.vg "$VG" >"$RESULTS/vgcfgrestore.out" 2>&1
lvm_checkpoint mismatch

say "lvcreate in the pool must fail now"
try lvcreate-mismatch lvcreate -V 64m --thin -n volume-during-mismatch "$VG/$POOL"

say "the runbook's fix-transaction-id block, verbatim"
try fix-transaction-id env VG="$VG" POOL="$POOL" sh -e /scenario/fix-transaction-id.sh
[ "$(cat "$RESULTS/fix-transaction-id.rc")" = 0 ] || exit 1
lvm_checkpoint fixed

say "lvcreate works again"
try lvcreate-fixed lvcreate -V 64m --thin -n volume-2 "$VG/$POOL"
[ "$(cat "$RESULTS/lvcreate-fixed.rc")" = 0 ] || exit 1
write_mb "/dev/$VG/volume-2" 0 2
lvm_checkpoint created

say "the runbook's repair-pool block, verbatim (the pool's thin volumes go offline for a moment)"
try repair-pool env VG="$VG" POOL="$POOL" sh -e /scenario/repair-pool.sh
[ "$(cat "$RESULTS/repair-pool.rc")" = 0 ] || exit 1
lvm_checkpoint repaired

say "the VG is full"
lvcreate -q -l 100%FREE -n fill-3 "$VG" >/dev/null
lvm_checkpoint vg-full
stop_exporter
