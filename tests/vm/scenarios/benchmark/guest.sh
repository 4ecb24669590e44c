# Benchmark, not a test (scripts/bench --vm runs it): one real LVM thin pool grown to each count of thin volumes in
# BENCH_VOLUMES; at each count BENCH_REPS rounds of the four commands below, round-robin so that drift in the
# host's load hits them alike, each timed with bash's EPOCHREALTIME around the whole command (process start
# included):
#   exporter    busybox wget of our /metrics (a process start and one HTTP GET to the running exporter)
#   http        one GET of /metrics as Prometheus makes it, no process start: the median of HTTP_REQUESTS GETs
#               (each on a new connection, the whole body read) timed inside one scrape_client process
#               (bench/scrape_client.cc, built by prepare); http_gzip the same with Accept-Encoding: gzip.
#               Every request's time is also in /results/http-requests.tsv.
#   fullreport  lvm fullreport --reportformat json              (hansmi/prometheus-lvm-exporter, every scrape)
#   lvs         lvs --reportformat json -o vg_name,lv_name,lv_size,data_percent,metadata_percent,lv_attr
#                                                               (Netdata, Telegraf, every scrape)
#   dmsetup     dmsetup status --noflush                        (the kernel floor: a list + a status per device)
# plus collect: the exporter's own thinpool_scrape_collector_duration_seconds, summed over its collectors (the
# device-mapper reads and parsing, and the text of the series, in the process, without HTTP), and
# collect:NAME for each collector (thinpool, thin, lvm).
# Results: /results/bench.tsv, one "volumes<TAB>what<TAB>microseconds" line per measurement; /results/env.txt.
. /scenario/lib/guest-lib.sh
. /scenario/params.sh

VG=cinder-volumes
POOL=cinder-volumes-pool
TPOOL=cinder--volumes-cinder--volumes--pool-tpool
OUT=$RESULTS/bench.tsv
: >"$OUT"
: >"$RESULTS/http-requests.tsv"

volume_name() { printf 'volume-%08x-1111-4222-8333-%012x' "$1" "$1"; }

# grow_to N: N thin volumes in the pool. lvcreate costs about a second per volume under TCG, so the thin devices
# are created with pool messages and the LVs added to the VG metadata in one vgcfgrestore, then activated by one
# vgchange: the same kernel and lvm2 state as N lvcreates (the pool's transaction id aside).
HAVE=0
grow_to() {
	local want=$1 id
	[ "$want" -gt "$HAVE" ] || return 0
	say "adding thin volumes $((HAVE + 1))..$want"
	for id in $(seq $((HAVE + 1)) "$want"); do
		dmsetup message "$TPOOL" 0 "create_thin $id"
	done
	vgcfgbackup -q -f /tmp/vg.cfg "$VG" >/dev/null
	awk -v from=$((HAVE + 1)) -v to="$want" -v pool="$POOL" '
		{ print }
		/^[ \t]*logical_volumes \{/ {
			for (i = from; i <= to; i++) {
				printf "\t\tvolume-%08x-1111-4222-8333-%012x {\n", i, i
				printf "\t\t\tid = \"bench0-%04d-%04d-0000-0000-0000-%06d\"\n", int(i / 10000), i % 10000, i
				printf "\t\t\tstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\n\t\t\tflags = []\n"
				printf "\t\t\tcreation_time = 1700000000\n\t\t\tcreation_host = \"bench\"\n"
				printf "\t\t\tsegment_count = 1\n\t\t\tsegment1 {\n\t\t\t\tstart_extent = 0\n"
				printf "\t\t\t\textent_count = 256\n\t\t\t\ttype = \"thin\"\n"
				printf "\t\t\t\tthin_pool = \"%s\"\n\t\t\t\ttransaction_id = 1\n", pool
				printf "\t\t\t\tdevice_id = %d\n\t\t\t}\n\t\t}\n", i
			}
		}' /tmp/vg.cfg >/tmp/vg-new.cfg
	echo y | vgcfgrestore -q --force -f /tmp/vg-new.cfg "$VG" >/dev/null 2>&1 || {
		echo y | vgcfgrestore --force -f /tmp/vg-new.cfg "$VG"
		return 1
	}
	vgchange -q -ay "$VG" >/dev/null
	HAVE=$want
	say "$(dmsetup status --target thin | wc -l) thin volumes active"
}

# measure VOLUMES WHAT COMMAND...: appends one timing line; a failing command fails the benchmark.
measure() {
	local volumes=$1 what=$2 t0 t1
	shift 2
	t0=${EPOCHREALTIME/./}
	"$@" >/dev/null 2>/tmp/measure.err || {
		echo "bench: $what failed:"
		cat /tmp/measure.err
		return 1
	}
	t1=${EPOCHREALTIME/./}
	printf '%s\t%s\t%s\n' "$volumes" "$what" $((t1 - t0)) >>"$OUT"
}

scrape() { wget -q -O /tmp/scrape.prom "http://127.0.0.1:$EXPORTER_PORT/metrics"; }

# http VOLUMES WHAT [--gzip]: HTTP_REQUESTS GETs in one process; their median into bench.tsv, each one into
# http-requests.tsv.
HTTP_REQUESTS=5
http() {
	local volumes=$1 what=$2
	shift 2
	/scenario/scrape_client "$EXPORTER_PORT" "$HTTP_REQUESTS" "$@" >/tmp/http.out 2>/tmp/measure.err || {
		echo "bench: $what failed:"
		cat /tmp/measure.err
		return 1
	}
	awk -v n="$volumes" -v w="$what" '$1 == "request" { print n "\t" w "\t" $2 "\t" $3 }' /tmp/http.out \
		>>"$RESULTS/http-requests.tsv"
	awk -v n="$volumes" -v w="$what" '$1 == "median" { print n "\t" w "\t" $2 }' /tmp/http.out >>"$OUT"
}

# collect_lines VOLUMES: the exporter's in-process collector durations of the last scrape, in microseconds: the sum
# ("collect") and each collector ("collect:NAME").
collect_lines() {
	awk -v n="$1" -F'[{}"= ]+' '/^thinpool_scrape_collector_duration_seconds\{/ {
		us = $NF * 1e6; s += us; printf "%s\tcollect:%s\t%d\n", n, $3, us
	} END { printf "%s\tcollect\t%d\n", n, s }' /tmp/scrape.prom
}

{
	echo "kernel $(uname -r)"
	dmsetup version
	lvm version | head -3
	"$EXPORTER" --version
	grep -m1 'model name' /proc/cpuinfo
} >"$RESULTS/env.txt" 2>&1

say "building the pool"
pvcreate -q --metadatasize 32m /dev/vda >/dev/null
vgcreate -q "$VG" /dev/vda >/dev/null
lvcreate -q -L 2g --poolmetadatasize 128m -c 64k -Zn --thinpool "$POOL" "$VG" >/dev/null
# The first volume through lvcreate: the -tpool device appears, the kernel and lvm2 agree on transaction id 1.
lvcreate -q -V 1g --thin -n "$(volume_name 1)" "$VG/$POOL" >/dev/null 2>&1
HAVE=1
write_mb "/dev/$VG/$(volume_name 1)" 0 8

"$EXPORTER" --web.listen-address=:$EXPORTER_PORT --log.level=warn >>"$RESULTS/exporter.log" 2>&1 &
EXPORTER_PID=$!
wait_exporter

for n in $BENCH_VOLUMES; do
	grow_to "$n"
	# Warm up: the first scrape after new volumes reads their tables once.
	scrape
	scrape
	series=$(grep -c '^thinpool_volume_size_bytes' /tmp/scrape.prom || true)
	[ "$series" = "$n" ] || {
		echo "bench: the exporter reports $series volumes, expected $n"
		exit 1
	}
	say "timing $n volumes, $BENCH_REPS rounds"
	for rep in $(seq "$BENCH_REPS"); do
		measure "$n" exporter scrape
		collect_lines "$n" >>"$OUT"
		http "$n" http
		http "$n" http_gzip --gzip
		measure "$n" fullreport lvm fullreport --reportformat json
		measure "$n" lvs lvs --reportformat json -o vg_name,lv_name,lv_size,data_percent,metadata_percent,lv_attr
		measure "$n" dmsetup dmsetup status --noflush
	done
	printf '%s\t%s\t%s\n' "$n" body_bytes "$(wc -c </tmp/scrape.prom)" >>"$OUT"
done
stop_exporter
say "bench done"
