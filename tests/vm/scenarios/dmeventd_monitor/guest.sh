# Is dmeventd watching each pool? thinpool_dmeventd_query (dm/dmeventd_client) asks Debian 12's real dmeventd
# (lvm2 2.03.16) and must say what `lvs -o seg_monitor` says: with a monitored and an unmonitored pool, after
# `lvchange --monitor n`, after `lvchange --monitor y` (once more under the exporter's seccomp filter), and with
# dmeventd killed: "not up", and no dmeventd started by the query (ps), where lvs itself starts one.
# Each state's files go to /results/<state>/ (query.txt, query.rc, lvs.json, ps-*.txt); assert.py compares them.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
QUERY=/usr/bin/thinpool_dmeventd_query

start_dmeventd

lvm_pv_on_vda 256
vgcreate -q vg0 /dev/vda >/dev/null
lvcreate -q -L 64m --poolmetadatasize 4m --thinpool watched vg0 >/dev/null
lvcreate -q -V 128m --thin -n volume vg0/watched >/dev/null
lvcreate -q -L 64m --poolmetadatasize 4m --monitor n --thinpool unwatched vg0 >/dev/null

processes() { ps -o pid,args >"$1"; }

# query DIR NAME [FLAGS...]: the query's output, stderr and exit status in DIR/NAME.{txt,err,rc}.
query() {
	local dir=$1 name=$2 rc=0
	shift 2
	"$QUERY" "$@" >"$dir/$name.txt" 2>"$dir/$name.err" || rc=$?
	echo "$rc" >"$dir/$name.rc"
	sed "s/^/  $name: /" "$dir/$name.txt"
}

# observe STATE: the query and lvs at the same moment. A thread dmeventd is setting up or tearing down answers
# "pending" for a moment: wait (at most 10 s) until the query shows none, then lvs, then the query again.
observe() {
	local dir=$RESULTS/$1
	mkdir -p "$dir"
	say "state $1"
	local out
	for _ in $(seq 20); do
		out=$("$QUERY" || true)
		case $out in
		*$'\tpending\t'*) sleep 0.5 ;;
		*) break ;;
		esac
	done
	lvs -a --reportformat json -o vg_name,vg_uuid,lv_name,lv_uuid,segtype,seg_monitor >"$dir/lvs.json"
	query "$dir" query
	dmsetup info -c --noheadings --separator ' ' -o name,uuid >"$dir/info"
}

observe monitored
lvchange -q --monitor n vg0/watched
observe unmonitored
lvchange -q --monitor y vg0/watched
observe remonitored
query "$RESULTS/remonitored" query-seccomp --seccomp

# dmeventd killed (it ignores SIGTERM while it watches devices): its pid file and FIFOs stay behind.
kill -KILL "$DMEVENTD_PID"
wait "$DMEVENTD_PID" 2>/dev/null || true
mkdir -p "$RESULTS/down"
say "state down"
ls -l /run/dmeventd.pid /run/dmeventd-client /run/dmeventd-server >"$RESULTS/down/run-files.txt" 2>&1 || true
processes "$RESULTS/down/ps-before.txt"
query "$RESULTS/down" query
query "$RESULTS/down" query-seccomp --seccomp
processes "$RESULTS/down/ps-after-query.txt"
# By contrast, lvm2's own client starts dmeventd when it cannot reach it.
lvs -a --reportformat json -o vg_name,vg_uuid,lv_name,lv_uuid,segtype,seg_monitor >"$RESULTS/down/lvs.json" 2>&1 || true
sleep 1
processes "$RESULTS/down/ps-after-lvs.txt"
say "done"
