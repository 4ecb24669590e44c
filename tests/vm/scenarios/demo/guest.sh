# The try-it demo: the seed's Cinder-like layout, the exporter serving on :9966 (forwarded to the host), and a
# writer that keeps the numbers moving: it writes into the volumes, takes and drops snapshots (transaction id,
# metadata), and discards a volume when the pool passes 70% so it can go on forever.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
say "building the seed layout (VG $SEED_VG, pool $SEED_POOL)"
make_seed_layout
start_exporter
host notify "\n  thinpool_exporter is serving a real dm-thin pool from inside the VM:\n\n\
    curl -s http://127.0.0.1:@PORT@/metrics | grep '^thinpool_'\n\
    curl -s http://127.0.0.1:@PORT@/          (landing page)\n\n\
  A writer in the VM keeps data, metadata and the transaction id moving. Ctrl-C stops the VM.\n"
pool_dm=$(echo "$SEED_VG" | sed 's/-/--/g')-$(echo "$SEED_POOL" | sed 's/-/--/g')-tpool
i=0
while :; do
	i=$((i + 1))
	for v in $SEED_VOLUMES; do
		write_mb "/dev/$SEED_VG/$v" $(((i * 3) % 900)) 2
	done
	if [ $((i % 5)) = 0 ]; then
		lvcreate -q -kn -s -n "demo-snap-$i" "$SEED_VG/${SEED_VOLUMES%% *}" >/dev/null
		write_mb "/dev/$SEED_VG/demo-snap-$i" 0 1
		lvremove -q -f "$SEED_VG/demo-snap-$((i - 5))" >/dev/null 2>&1 || true
	fi
	used=$(dmsetup status --noflush "$pool_dm" | awk '{ split($6, d, "/"); printf "%d", 100 * d[1] / d[2] }')
	if [ "$used" -ge 70 ]; then
		say "pool at ${used}%: discarding the volumes to start over"
		for v in $SEED_VOLUMES; do blkdiscard "/dev/$SEED_VG/$v" || true; done
	fi
	echo "demo round $i: $(dmsetup status --noflush "$pool_dm" | cut -d' ' -f5-8)"
	sleep 2
done
