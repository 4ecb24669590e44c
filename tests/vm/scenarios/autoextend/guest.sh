# Prevention made visible, on real lvm2 2.03.16 with Debian 12's real dmeventd: lvm.conf turns monitoring on and
# asks for autoextend at 70% by 20%; a thin pool of 64 MiB in a VG with room to grow is created monitored, and the
# exporter (as start_exporter runs it: privileges dropped, seccomp filter) must say threshold 0.7, step 0.2,
# monitored 1, dmeventd up. Direct writes push the pool's data past 70%: dmeventd itself extends the pool, and the
# next scrape has lvs's new size. `lvchange --monitor n`: monitored 0, and ThinPoolAutoextendNotMonitored's
# expression selects the pool (promtool, on the host); the runbook's monitor-pool block, verbatim, registers it
# again. Last, dmeventd is killed: dmeventd_up 0, monitored 0, and no dmeventd is started by the exporter's scrapes.
# The host (assert.py) compares every checkpoint with dmsetup and lvs.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
VG=vg0
POOL=pool
MIB=1048576

# Monitoring and autoextend for this scenario only (the shared lvm.conf has monitoring 0 and threshold 100), and
# where lvm finds dmeventd.
sed -i -e 's/^\([[:space:]]*\)monitoring = 0/\1monitoring = 1/' \
	-e 's/^\([[:space:]]*\)thin_pool_autoextend_threshold = 100/\1thin_pool_autoextend_threshold = 70\n\1thin_pool_autoextend_percent = 20/' \
	/etc/lvm/lvm.conf
printf 'dmeventd {\n\texecutable = "/sbin/dmeventd"\n}\n' >>/etc/lvm/lvm.conf
lvm config --typeconfig full activation/monitoring activation/thin_pool_autoextend_threshold \
	activation/thin_pool_autoextend_percent >"$RESULTS/lvm-config.txt"
cat "$RESULTS/lvm-config.txt"

# dmeventd in the foreground (a child of this script, so that it is reaped once killed), logging with debug.
/sbin/dmeventd -f -l -ddd >"$RESULTS/dmeventd.log" 2>&1 &
DMEVENTD_PID=$!
for _ in $(seq 100); do
	[ -s /run/dmeventd.pid ] && [ -p /run/dmeventd-client ] && [ -p /run/dmeventd-server ] && break
	sleep 0.1
done
say "dmeventd pid $DMEVENTD_PID, pid file says $(cat /run/dmeventd.pid)"
[ "$(cat /run/dmeventd.pid)" = "$DMEVENTD_PID" ]

# 256 MiB PV: the pool (64 MiB data, 4 MiB metadata, its 4 MiB spare) leaves about 180 MiB to grow into.
lvm_pv_on_vda 256
vgcreate -q "$VG" /dev/vda >/dev/null
lvcreate -q -L 64m --poolmetadatasize 4m --thinpool "$POOL" "$VG" >/dev/null
lvcreate -q -V 128m --thin -n volume "$VG/$POOL" >/dev/null

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

start_exporter
grep -E '^(CapEff|NoNewPrivs|Seccomp):' "/proc/$EXPORTER_PID/status" >"$RESULTS/proc-status.txt"
cat "$RESULTS/proc-status.txt"

# 1. Monitored, autoextend configured, nothing written yet.
seg_monitor monitored
checkpoint monitored
runbook autoextend-status autoextend-status-monitored

# 2. 40 MiB of 64 written (62.5%, below the threshold): nothing happens. Then 8 MiB more (75%): lvm2 set the
# pool's low water mark at 30% free, so the kernel sends dmeventd an event as the data passes 70%, and dmeventd's
# thin plugin runs lvextend --use-policies: +20% (12.8 MiB, 16 MiB in whole 4 MiB extents). (Without the event it
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
