# Scenario: which device-mapper calls can block, on the real kernel (issue "Never go dark, never go stale", item
# 6). An LVM thin pool and volume on a PV that is a dm linear device; in each state below the guest asks
# `dmsetup status --noflush`, `dmsetup table` and `dmsetup info` (DM_DEV_STATUS) of the pool and the volume, each
# in the background, and records whether it answered within 5 s; then the host scrapes the exporter. States: the
# pool's _tmeta suspended, its _tdata suspended, the PV suspended (no I/O in flight), the pool's -tpool device
# suspended, the thin volume suspended, and the PV suspended with writes in flight and a metadata commit waiting
# for them (a create_thin message).
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
sed -i 's#filter = .*#filter = [ "a|^/dev/mapper/pv|", "r|.*|" ]#' /etc/lvm/lvm.conf
scratch_dev pvk 256
dmsetup mknodes pvk
pvcreate -q /dev/mapper/pvk >/dev/null
vgcreate -q vgk /dev/mapper/pvk >/dev/null
lvcreate -q -L 96m --poolmetadatasize 4m -c 64k --thinpool pool vgk >/dev/null
lvcreate -q -V 64m --thin -n t1 vgk/pool >/dev/null
write_mb /dev/vgk/t1 0 4
start_exporter

# probe STATE: each call of each device in the background; one line "STATE DEVICE CALL answers|blocks|fails".
# A call still running after 5 s is left to finish on its own (a blocked one sleeps uninterruptibly: no signal
# ends it).
probe() {
	local state=$1 dev call pid outcome
	for dev in vgk-pool-tpool vgk-t1; do
		for call in status table info; do
			if [ "$call" = status ]; then
				dmsetup status --noflush "$dev" >/dev/null 2>&1 &
			else
				dmsetup "$call" "$dev" >/dev/null 2>&1 &
			fi
			pid=$!
			outcome=blocks
			for _ in $(seq 50); do
				if ! kill -0 "$pid" 2>/dev/null; then
					if wait "$pid"; then outcome=answers; else outcome=fails; fi
					break
				fi
				sleep 0.1
			done
			echo "$state $dev $call $outcome" | tee -a "$RESULTS/probes"
		done
	done
	host scrape "$state"
}

probe healthy
for layer in tmeta tdata; do
	dmsetup suspend "vgk-pool_$layer"
	probe "$layer-suspended"
	dmsetup resume "vgk-pool_$layer"
done
dmsetup suspend --noflush pvk
probe pv-suspended
dmsetup resume pvk
dmsetup suspend vgk-pool-tpool
probe pool-suspended
dmsetup resume vgk-pool-tpool
dmsetup suspend vgk-t1
probe thin-suspended
dmsetup resume vgk-t1

dmsetup suspend --noflush pvk
commit_behind_stuck_pv /dev/vgk/t1 vgk-pool-tpool 16
sleep 2
probe pv-stuck-commit
# Where the blocked calls wait (the kernel's stacks of every task in D state).
for t in /proc/[0-9]*; do
	if [ "$(awk '/^State:/ {print $2}' "$t/status" 2>/dev/null)" = D ]; then
		echo "== $(cat "$t/comm") ($(basename "$t"))"
		cat "$t/stack" 2>/dev/null
	fi
done >"$RESULTS/blocked-stacks"
dmsetup resume pvk
# shellcheck disable=SC2086 # two pids
wait $STUCK_PIDS || true
sleep 2
probe resumed
stop_exporter
