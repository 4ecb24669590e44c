# Scenario 6: thin volumes are created and removed in a loop (plain dmsetup in one pool, lvcreate/lvremove in an
# LVM pool) while the host scrapes back to back. Every volume name ever created is logged for the host.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
# Churn until the host has scraped at least CHURN_SCRAPES times and MIN_ROUNDS rounds are done (at most
# MAX_SECONDS). The LVM pool starts with no thin volume, so its first lvcreate moves the thin-pool target from
# churn--vg-churn--pool to churn--vg-churn--pool-tpool: the old pool series must go too.
CHURN_SCRAPES=300
MIN_ROUNDS=4
MAX_SECONDS=200
lvm_pv_on_vda 512
vgcreate -q churn-vg /dev/vda >/dev/null
lvcreate -q -L 256m --poolmetadatasize 4m -c 64k --thinpool churn-pool churn-vg >/dev/null
make_plain_pool plain-pool 8 256
start_exporter
: >"$RESULTS/created-volumes"
host scrape_loop_start churn
say "churning until the host has scraped $CHURN_SCRAPES times"
start=$(cut -d. -f1 /proc/uptime)
round=0
while :; do
	now=$(cut -d. -f1 /proc/uptime)
	host scrape_loop_count churn
	if [ "$now" -ge $((start + MAX_SECONDS)) ]; then break; fi
	if [ "$round" -ge "$MIN_ROUNDS" ] && [ "$HOST_REPLY" -ge "$CHURN_SCRAPES" ]; then break; fi
	round=$((round + 1))
	# Plain: eight volumes in, written to, eight out.
	for i in 1 2 3 4 5 6 7 8; do
		make_plain_thin plain-pool "$i" "plain-r$round-v$i" 16
		echo "plain-r$round-v$i" >>"$RESULTS/created-volumes"
	done
	write_mb "$(dm_node "plain-r$round-v1")" 0 1
	for i in 1 2 3 4 5 6 7 8; do
		dmsetup remove "plain-r$round-v$i"
		dmsetup message plain-pool 0 "delete $i"
	done
	# LVM: one volume in and out (lvm2 is slow under TCG).
	lvcreate -q -V 32m --thin -n "lv-r$round" churn-vg/churn-pool >/dev/null
	echo "churn--vg-lv--r$round" >>"$RESULTS/created-volumes"
	lvremove -q -f "churn-vg/lv-r$round" >/dev/null
done
host scrape_loop_stop churn
say "$round rounds"
echo "$round" >"$RESULTS/churn-rounds"
checkpoint after-churn
stop_exporter
