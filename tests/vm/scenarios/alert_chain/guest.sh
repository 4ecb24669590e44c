# The alert chain on the real kernel (host side: ./host-driver). A Prometheus on the host scrapes this exporter
# through the port forward with our rules, a real Alertmanager routes to host-driver's webhooks. This script drives
# an LVM pool (the seed's names) the way the seed incident went: metadata over 75% (warning, ticket), over 90%
# (critical, page), full (read-only: ThinPoolNotWritable), then LVM's transaction id bumped with vgcfgrestore
# (ThinPoolTransactionIdMismatch). After each step it waits until the host says Alertmanager delivered the alert.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
. /scenario/chain.env
VG=$SEED_VG
POOL=$SEED_POOL
TPOOL=$(dm_name "$VG" "$POOL" tpool)

# wait_alert RECEIVER ALERTNAME SEVERITY: until host-driver's webhook RECEIVER (page, ticket) got ALERTNAME with
# SEVERITY for this pool, firing. At most 120 s.
wait_alert() {
	local i
	say "waiting for Alertmanager to deliver $2 ($3) to /$1"
	for i in $(seq 240); do
		if [ "$(wget -q -O - "http://10.0.2.2:$HOOK_PORT/has?receiver=$1&alertname=$2&severity=$3&pool=$TPOOL" 2>/dev/null)" = yes ]; then
			say "delivered: $2 ($3) to /$1 after ${i} polls"
			return 0
		fi
		sleep 0.5
	done
	echo "Alertmanager did not deliver $2 ($3) to /$1 within 120 s"
	return 1
}

# meta_percent: the pool's metadata use in whole percent, from dmsetup status (which commits first).
meta_percent() { dmsetup status "$TPOOL" | awk '{ split($5, m, "/"); printf "%d", 100 * m[1] / m[2] }'; }
pool_mode() { dmsetup status "$TPOOL" | awk '{ print $8 }'; }

# A fast way for the kernel to fill a pool's metadata (far fewer processes than states.sh's exhaust_metadata, which
# matters under TCG with Prometheus scraping): thin volume `origin` gets 8192 mapped 64 KiB chunks (4 KiB written to
# each, through a dm linear device whose 4 KiB segments point at every chunk; the pool does not zero), then each
# round snapshots it with a pool message and writes 4 KiB into 64 chunks spread over all mapping-tree leaves, so the
# kernel copies every leaf the snapshot shares: about 35 metadata blocks (7% of lvm2's smallest metadata) a round.
CHUNKS=8192
PER_ROUND=64
ROUNDS=60
setup_fill() {
	local origin
	origin=$(devnum "$(dm_name "$VG" origin)")
	awk -v d="$origin" -v n=$CHUNKS 'BEGIN { for (k = 0; k < n; k++) print k * 8, 8, "linear", d, k * 128 }' |
		dmsetup create fill-spread
	dd if=/dev/zero of="$(dm_node fill-spread)" bs=1M count=$((CHUNKS * 4 / 1024)) oflag=direct 2>/dev/null
	dmsetup remove fill-spread
	# Round r, write j: chunk j * (CHUNKS / PER_ROUND) + 1 + r.
	awk -v d="$origin" -v n=$CHUNKS -v j=$PER_ROUND -v r=$ROUNDS 'BEGIN {
		for (a = 0; a < r; a++) for (b = 0; b < j; b++) print (a * j + b) * 8, 8, "linear", d, (b * (n / j) + 1 + a) * 128
	}' | dmsetup create fill-rounds
	FILL_ROUND=0
}
fill_round() {
	local origin
	origin=$(dm_name "$VG" origin)
	[ "$FILL_ROUND" -lt "$ROUNDS" ] || { echo "out of fill rounds"; return 1; }
	dmsetup suspend "$origin"
	dmsetup message "$TPOOL" 0 "create_snap $((1000 + FILL_ROUND)) 1" 2>/dev/null || true
	dmsetup resume "$origin"
	dd if=/dev/zero of="$(dm_node fill-rounds)" bs=$((PER_ROUND * 4))k seek=$FILL_ROUND count=1 oflag=direct \
		conv=notrunc 2>/dev/null || true
	FILL_ROUND=$((FILL_ROUND + 1))
}
# fill_until PERCENT: rounds until the pool's metadata use is at least PERCENT (or the pool turned read-only).
fill_until() {
	local p
	while :; do
		p=$(meta_percent)
		if [ "$p" -ge "$1" ] || [ "$(pool_mode)" != rw ]; then break; fi
		fill_round
	done
	say "metadata at ${p}% after $FILL_ROUND rounds, mode $(pool_mode)"
}

say "VG $VG, pool $POOL (2 MiB metadata, no zeroing), thin volume origin"
pvcreate -q /dev/vda >/dev/null
vgcreate -q -s 4m "$VG" /dev/vda >/dev/null
lvcreate -q -L 1g --poolmetadatasize 2m -c 64k -Zn --thinpool "$POOL" "$VG" >/dev/null
lvcreate -q -V 1g --thin -n origin "$VG/$POOL" >/dev/null
start_exporter
setup_fill
checkpoint healthy

fill_until 75
[ "$(meta_percent)" -lt 90 ] || { echo "overshot: metadata already at $(meta_percent)%"; exit 1; }
checkpoint metadata-warning
wait_alert ticket ThinPoolMetadataAlmostFull warning

fill_until 90
[ "$(pool_mode)" = rw ] || { echo "overshot: the pool is already $(pool_mode)"; exit 1; }
checkpoint metadata-critical
wait_alert page ThinPoolMetadataAlmostFull critical

fill_until 101
checkpoint read-only
wait_alert page ThinPoolNotWritable critical

say "LVM's transaction id bumped: vgcfgbackup, edit, vgcfgrestore --force"
vgcfgbackup -q -f /tmp/vg.vg "$VG" >/dev/null
awk '/type = "thin-pool"/ { p = 1 } p && sub(/transaction_id = 1$/, "transaction_id = 2") { p = 0 } { print }' \
	/tmp/vg.vg >/tmp/vg-bumped.vg
! cmp -s /tmp/vg.vg /tmp/vg-bumped.vg || { echo "no transaction_id line changed"; exit 1; }
echo y | vgcfgrestore --force -f /tmp/vg-bumped.vg "$VG" >"$RESULTS/vgcfgrestore.out" 2>&1
checkpoint transaction-id-mismatch
wait_alert page ThinPoolTransactionIdMismatch critical
stop_exporter
