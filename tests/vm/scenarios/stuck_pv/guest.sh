# Scenario: devices stop answering under the exporter (issue "Never go dark"). Three VGs, each on a PV that
# is a dm linear device: vgok stays healthy; vgerr's PV turns into an error target (every read fails);
# vgstuck's PV is suspended with --noflush, which is how a multipath map queueing with every path down, or a
# hung iSCSI LUN, behaves: every read and write to it waits. With writes in flight and a metadata commit
# stuck behind them (a create_thin message), the pool's own status ioctl blocks too (on the real kernel it
# waits in dm_pool_get_metadata_transaction_id for the metadata lock the commit holds). The host scrapes
# every 100 ms with a 2 s scrape timeout all along; the guest samples the exporter's threads and fds.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
# Only the dm linear PVs hold PVs here (the scratch disk under them would show the same labels).
sed -i 's#filter = .*#filter = [ "a|^/dev/mapper/pv|", "r|.*|" ]#' /etc/lvm/lvm.conf
for vg in vgstuck vgok vgerr; do
	scratch_dev "pv$vg" 160
	dmsetup mknodes "pv$vg"
	pvcreate -q "/dev/mapper/pv$vg" >/dev/null
	vgcreate -q "$vg" "/dev/mapper/pv$vg" >/dev/null
	lvcreate -q -L 96m --poolmetadatasize 4m -c 64k --thinpool pool "$vg" >/dev/null
	lvcreate -q -V 64m --thin -n t1 "$vg/pool" >/dev/null
	write_mb "/dev/$vg/t1" 0 4
done
mkdir -p /tmp/no-backups
start_exporter --collector.lvm.backup-dir=/tmp/no-backups
checkpoint before

# The exporter's threads and open descriptors, twice a second, until told to stop.
(
	while [ ! -e /tmp/stop-sampling ]; do
		echo "$(cut -d' ' -f1 /proc/uptime) $(awk '/^Threads:/ {print $2}' "/proc/$EXPORTER_PID/status") $(fds "$EXPORTER_PID")" >>"$RESULTS/threads"
		sleep 0.5
	done
) &
SAMPLER=$!

host scrape_loop_start episode 100 2
sleep 3
host scrape_loop_count episode
echo "$HOST_REPLY" >"$RESULTS/scrapes-before-episode"
say "vgerr's PV fails: every read of it returns an error"
dmsetup suspend pvvgerr
dmsetup reload pvvgerr --table "0 $(sectors pvvgerr) error"
dmsetup resume pvvgerr
say "vgstuck's PV stops answering (suspended, noflush)"
dmsetup suspend --noflush pvvgstuck
host scrape_loop_count episode
echo "$HOST_REPLY" >"$RESULTS/scrapes-at-suspend"
commit_behind_stuck_pv /dev/vgstuck/t1 vgstuck-pool-tpool 8
sleep 25
# What the runbook's `ps -L` shows, three times half a second apart: each of the exporter's threads, its name and
# state (D: waiting in the kernel).
for sample in 1 2 3; do
	for task in /proc/"$EXPORTER_PID"/task/*; do
		echo "$sample ${task##*/} $(cat "$task/comm") $(sed 's/.*) //' "$task/stat" | cut -d' ' -f1)"
	done
	sleep 0.5
done >"$RESULTS/threads-while-stuck"
host scrape_loop_count episode
echo "$HOST_REPLY" >"$RESULTS/scrapes-before-resume"
say "vgstuck's PV answers again"
dmsetup resume pvvgstuck
host scrape_loop_count episode
echo "$HOST_REPLY" >"$RESULTS/scrapes-after-resume"
# shellcheck disable=SC2086 # two pids
wait $STUCK_PIDS || true
say "the stuck writes and the commit returned"
sleep 5
host scrape_loop_stop episode
touch /tmp/stop-sampling
wait "$SAMPLER" || true
checkpoint after
stop_exporter
