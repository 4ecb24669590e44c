# Prevention made visible, on real lvm2 2.03.16 with Debian 12's real dmeventd: lvm.conf turns monitoring on and
# asks for autoextend at 70% by 20%; a thin pool of 64 MiB in a VG with room to grow is created monitored, and the
# exporter (as start_exporter runs it: privileges dropped, seccomp filter) must say threshold 0.7, step 0.2,
# monitored 1, dmeventd up. Direct writes push the pool's data past 70%: dmeventd itself extends the pool, and the
# next scrape has lvs's new size. Snapshots and scattered writes push a second pool's metadata past 70%: dmeventd
# extends its metadata LV, and the next scrape has lvs's new metadata size. `lvchange --monitor n` on the first pool: monitored 0, and ThinPoolAutoextendNotMonitored's
# expression selects it alone (promtool, on the host); the runbook's monitor-pool block, verbatim, registers it
# again. Last, dmeventd is killed: dmeventd_up 0, monitored 0, and no dmeventd is started by the exporter's scrapes.
# The host (assert.py) compares every checkpoint with dmsetup and lvs.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
VG=vg0
POOL=pool
MIB=1048576

# dmeventd for this scenario (monitoring on); autoextend is turned on below by the runbook's enable-autoextend-host
# block, verbatim, on the shared lvm.conf's threshold 100.
start_dmeventd

# A 1.5 GiB PV with 1 MiB extents. `pool` (64 MiB data, 4 MiB metadata) is driven past 70% data; `meta` (1 GiB of
# 64 KiB chunks, lvm2's smallest metadata, 2 MiB) past 70% metadata: thin volume `origin` with 256 MiB written,
# then snapshots and scattered writes. Both leave about 400 MiB to grow into.
lvm_pv_on_vda 1536
vgcreate -q -s 1m "$VG" /dev/vda >/dev/null
lvcreate -q -L 64m --poolmetadatasize 4m --thinpool "$POOL" "$VG" >/dev/null
lvcreate -q -V 128m --thin -n volume "$VG/$POOL" >/dev/null
lvcreate -q -L 1g --poolmetadatasize 2m -c 64k --thinpool meta "$VG" >/dev/null
lvcreate -q -V 1g --thin -n origin "$VG/meta" >/dev/null
dd if=/dev/zero of="/dev/$VG/origin" bs=1M count=256 oflag=direct 2>/dev/null

# seg_monitor NAME: lvs's monitoring state of the pool into /results/NAME.seg_monitor, once dmeventd has finished
# (un)registering it ("pending" for a moment; at most 10 s). lvs starts a dmeventd when none runs: only with one up.
seg_monitor() {
	local state
	for _ in $(seq 20); do
		state=$(lvs --noheadings -o seg_monitor "$VG/$POOL" | sed 's/^ *//; s/ *$//')
		[ "$state" = pending ] || break
		sleep 0.5
	done
	echo "$state" >"$RESULTS/$1.seg_monitor"
	say "lvs seg_monitor of $VG/$POOL: $state"
}

# runbook BLOCK NAME: runs the extracted block like a pasted one (busybox sh -e) with VG and POOL set; its output
# goes to /results/NAME.out and its exit status to /results/NAME.rc (the host checks which must fail).
runbook() {
	local block=$1 name=$2 rc=0
	say "runbook block $block (VG=$VG POOL=$POOL)"
	env VG="$VG" POOL="$POOL" sh -e "/scenario/$block.sh" >"$RESULTS/$name.out" 2>&1 || rc=$?
	sed 's/^/    /' "$RESULTS/$name.out"
	echo "$rc" >"$RESULTS/$name.rc"
	say "runbook block $block exited $rc"
}

processes() { ps -o pid,args >"$RESULTS/$1"; }

# Autoextend on (70%, +20%: the block's defaults) in lvm.conf and the pool monitored, as an operator would do it.
runbook enable-autoextend-host enable-autoextend-host
# `meta` gets the same policy from a profile of its own, by the runbook's enable-autoextend block (70%, +20%).
POOL=meta runbook enable-autoextend enable-autoextend-meta
lvs --noheadings -o lv_profile "$VG/meta" >"$RESULTS/meta-profile.txt"
# lvm2 sets a pool's low water mark (the kernel's event at the threshold) when it activates the pool: reactivated,
# the pools get the new threshold's mark; without it dmeventd's 10 s check would still see the pool pass it.
vgchange -q -an "$VG" >/dev/null
vgchange -q -ay "$VG" >/dev/null
lvm config --typeconfig full activation/monitoring activation/thin_pool_autoextend_threshold \
	activation/thin_pool_autoextend_percent >"$RESULTS/lvm-config.txt"
cat "$RESULTS/lvm-config.txt"

start_exporter
grep -E '^(CapEff|NoNewPrivs|Seccomp):' "/proc/$EXPORTER_PID/status" >"$RESULTS/proc-status.txt"
cat "$RESULTS/proc-status.txt"

# 1. Monitored, autoextend configured, nothing written yet.
seg_monitor monitored
checkpoint monitored
runbook autoextend-status autoextend-status-monitored

# 2. 40 MiB of 64 written (62.5%, below the threshold): nothing happens. Then 8 MiB more (75%): lvm2 set the
# pool's low water mark at 30% free, so the kernel sends dmeventd an event as the data passes 70%, and dmeventd's
# thin plugin runs lvextend --use-policies: +20% (12.8 MiB, 13 MiB in whole extents). (Without the event it
# would see it within its 10 s period.) Wait for lvs to show it, at most 90 s.
say "writing 40 MiB into $VG/volume"
dd if=/dev/zero of="/dev/$VG/volume" bs=1M count=40 oflag=direct 2>/dev/null
checkpoint below
say "writing 8 MiB more"
dd if=/dev/zero of="/dev/$VG/volume" bs=1M seek=40 count=8 oflag=direct 2>/dev/null
size=0
for i in $(seq 90); do
	size=$(lvs --noheadings --units b --nosuffix -o lv_size "$VG/$POOL" | tr -d ' ')
	[ "$size" -le $((64 * MIB)) ] || break
	sleep 1
done
say "after ${i} s: $VG/$POOL is $size bytes"
checkpoint extended

# meta's metadata past 70%: rounds of a thin snapshot of `origin` (a pool message, as exhaust_metadata makes them:
# LVM does not know them, its transaction id stays) and 4 KiB writes 8 MiB apart, each breaking the sharing of a
# different leaf of the mapping tree (about 18 blocks a round), until the kernel reports 72% of the 2 MiB used or
# dmeventd's 10 s check has already extended it (at most 100 rounds). Then wait for dmeventd (at most 60 s).
tpool=$(dm_name "$VG" meta tpool)
thin=$(dm_name "$VG" origin)
origin_id=$(dmsetup table "$thin" | awk '{ print $5 }')
meta_status() { dmsetup status "$tpool" | awk '{ split($5, m, "/"); print m[1], m[2] }'; }
round=0
while :; do
	read -r used total <<<"$(meta_status)"
	if [ "$total" -ne 512 ] || [ $((used * 100)) -ge $((72 * total)) ]; then break; fi
	echo "$round $used $total" >>"$RESULTS/meta-rounds.txt"
	round=$((round + 1))
	[ "$round" -le 100 ] || { say "meta: still $used of $total metadata blocks after 100 rounds"; false; }
	dmsetup suspend "$thin"
	dmsetup message "$tpool" 0 "create_snap $((origin_id + 100 + round)) $origin_id"
	dmsetup resume "$thin"
	for off in $(seq 0 8 255); do
		dd if=/dev/zero of="/dev/$VG/origin" bs=4k seek=$((off * 256 + round)) count=1 oflag=direct 2>/dev/null
	done
done
meta_status >"$RESULTS/meta-passed.status"
say "meta: $(cat "$RESULTS/meta-passed.status") metadata blocks used after $round rounds"
msize=0
for i in $(seq 60); do
	msize=$(lvs --noheadings --units b --nosuffix -o lv_metadata_size "$VG/meta" | tr -d ' ')
	[ "$msize" -le $((2 * MIB)) ] || break
	sleep 1
done
say "after ${i} s: $VG/meta's metadata is $msize bytes"
checkpoint meta-extended

# 3. Not monitored any more; then the runbook's procedure registers it again.
lvchange -q --monitor n "$VG/$POOL"
seg_monitor unmonitored
checkpoint unmonitored
runbook autoextend-status autoextend-status-unmonitored
runbook monitor-pool monitor-pool
seg_monitor remonitored
checkpoint remonitored

# 4. dmeventd killed (it ignores SIGTERM while it watches devices): its pid file and FIFOs stay behind. No lvs from
# here on (lvs -o seg_monitor would start a dmeventd): plain scrapes, with ps before and after them.
kill -KILL "$DMEVENTD_PID"
wait "$DMEVENTD_PID" 2>/dev/null || true
say "dmeventd killed"
ls -l /run/dmeventd.pid /run/dmeventd-client /run/dmeventd-server >"$RESULTS/down-run-files.txt" 2>&1 || true
processes down-ps-before.txt
host scrape down-1
host scrape down-2
processes down-ps-after.txt
grep -E '^(CapEff|NoNewPrivs|Seccomp):' "/proc/$EXPORTER_PID/status" >"$RESULTS/proc-status-end.txt"
dmesg | grep -E 'device-mapper: thin' >"$RESULTS/thin-kernel-messages.txt" || true
stop_exporter
say "done"
