# Scenario: a soak on the real kernel (issue "Never go dark, never go stale"). The host scrapes every 100 ms with a
# 2 s scrape timeout for SOAK_SECONDS of guest time while, in rounds: thin LVs are created, written and removed,
# thin snapshots are taken and removed, the pool fills until the kernel reports out_of_data_space (errorwhenfull)
# and is then emptied and grown, and once a minute the PV under the VG stops answering for 5 s (suspended with
# --noflush, writes in flight) and comes back. A second VG on its own PV stays healthy. The guest samples the
# exporter's RSS, threads and descriptors once a second.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
. /scenario/soak.env
sed -i 's#filter = .*#filter = [ "a|^/dev/mapper/pv|", "r|.*|" ]#' /etc/lvm/lvm.conf
scratch_dev pvsoak 1024
scratch_dev pvcalm 160
dmsetup mknodes pvsoak pvcalm
for vg in soak calm; do
	pvcreate -q "/dev/mapper/pv$vg" >/dev/null
	vgcreate -q "$vg" "/dev/mapper/pv$vg" >/dev/null
done
lvcreate -q -L 96m --poolmetadatasize 4m -c 64k --thinpool pool soak >/dev/null
lvchange -q --errorwhenfull y soak/pool >/dev/null
lvcreate -q -L 64m --poolmetadatasize 4m -c 64k --thinpool pool calm >/dev/null
lvcreate -q -V 32m --thin -n t1 calm/pool >/dev/null
write_mb /dev/calm/t1 0 4
TPOOL=soak-pool-tpool

start_exporter
(
	while [ ! -e /tmp/stop-sampling ]; do
		# uptime, RSS, threads, descriptors, then RSS's anonymous part (the heap, stacks) and its file-backed part
		# (code and libraries as they are first run) in KiB.
		echo "$(cut -d' ' -f1 /proc/uptime) $(awk '/^VmRSS:/ {r = $2} /^Threads:/ {t = $2} END {print r, t}' "/proc/$EXPORTER_PID/status") $(fds "$EXPORTER_PID") $(awk '/^RssAnon:/ {a = $2} /^RssFile:/ {f = $2} END {print a, f}' "/proc/$EXPORTER_PID/status")" >>"$RESULTS/samples"
		sleep 1
	done
) &
SAMPLER=$!

pool_mode() { dmsetup status --noflush "$TPOOL" 2>/dev/null | awk '{ print $8 }'; }
host scrape_loop_start soak 100 2
say "soaking for $SOAK_SECONDS s"
start=$(cut -d. -f1 /proc/uptime)
last_stall=$start
round=0 fills=0 stalls=0 snapshots=0 created=0
keep=""
while [ "$(cut -d. -f1 /proc/uptime)" -lt $((start + SOAK_SECONDS)) ]; do
	round=$((round + 1))
	lv=v$round
	lvcreate -q -V 64m --thin -n "$lv" soak/pool >/dev/null 2>&1 || true
	created=$((created + 1))
	# 6 MiB a round: the pool (96 MiB, grown 16 MiB per fill) fills every dozen rounds or so.
	dd if=/dev/zero of="/dev/soak/$lv" bs=1M count=6 oflag=direct 2>/dev/null || true
	if lvcreate -q -kn -s -n "$lv-snap" "soak/$lv" >/dev/null 2>&1; then
		snapshots=$((snapshots + 1))
		dd if=/dev/zero of="/dev/soak/$lv-snap" bs=64k count=4 oflag=direct 2>/dev/null || true
		lvremove -q -f "soak/$lv-snap" >/dev/null 2>&1 || true
	fi
	keep="$keep $lv"
	if [ "$(pool_mode)" = out_of_data_space ]; then
		fills=$((fills + 1))
		say "round $round: the pool is full (out_of_data_space); emptying and growing it"
		for v in $keep; do lvremove -q -f "soak/$v" >/dev/null 2>&1 || true; done
		keep=""
		lvextend -q -L +16m soak/pool >/dev/null 2>&1 || true
		say "round $round: pool mode $(pool_mode)"
	fi
	now=$(cut -d. -f1 /proc/uptime)
	if [ "$now" -ge $((last_stall + 60)) ]; then
		stalls=$((stalls + 1))
		last=${keep##* }
		say "round $round: the PV stops answering for 5 s"
		dmsetup suspend --noflush pvsoak
		writer=""
		if [ -n "$last" ]; then
			dd if=/dev/zero of="/dev/soak/$last" bs=1M seek=8 count=2 oflag=direct 2>/dev/null &
			writer=$!
		fi
		sleep 5
		dmsetup resume pvsoak
		if [ -n "$writer" ]; then wait "$writer" || true; fi
		last_stall=$(cut -d. -f1 /proc/uptime)
	fi
done
host scrape_loop_stop soak
sleep 4 # device-read threads beyond the two kept leave 2 s after their last read: the last samples count the rest
touch /tmp/stop-sampling
wait "$SAMPLER" || true
echo "rounds=$round created=$created snapshots=$snapshots fills=$fills stalls=$stalls seconds=$(( $(cut -d. -f1 /proc/uptime) - start ))" >"$RESULTS/soak-summary"
say "$(cat "$RESULTS/soak-summary")"
checkpoint after-soak
stop_exporter
