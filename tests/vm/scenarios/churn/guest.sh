# Scenario 6: thin volumes are created and removed in a loop (plain dmsetup in one pool, lvcreate/lvremove in an
# LVM pool) while the host scrapes back to back. Every volume name ever created is logged for the host.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
CHURN_SECONDS=${CHURN_SECONDS:-40}
lvm_pv_on_vda 512
vgcreate -q churn-vg /dev/vda >/dev/null
lvcreate -q -L 256m --poolmetadatasize 4m -c 64k --thinpool churn-pool churn-vg >/dev/null
lvcreate -q -V 64m --thin -n keep churn-vg/churn-pool >/dev/null
make_plain_pool plain-pool 8 256
start_exporter
: >"$RESULTS/created-volumes"
host scrape_loop_start churn
say "churning for ${CHURN_SECONDS}s"
end=$(($(cut -d. -f1 /proc/uptime) + CHURN_SECONDS))
round=0
while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do
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
