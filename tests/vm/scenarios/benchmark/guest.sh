# Benchmark, not a test (scripts/bench --vm runs it): one real LVM thin pool grown to each count of thin volumes in
# BENCH_VOLUMES; at each count BENCH_REPS rounds (BENCH_REPS_LARGE above 1,000 volumes, where lvm fullreport and
# lvs take many seconds each under TCG) of the commands below, round-robin so that drift in the host's load hits
# them alike, each timed with bash's EPOCHREALTIME around the whole command (process start included):
#   exporter    busybox wget of our /metrics (a process start and one HTTP GET to the running exporter)
#   http        one GET of /metrics as Prometheus makes it, no process start: the median of HTTP_REQUESTS GETs
#               (each on a new connection, the whole body read) timed inside one scrape_client process
#               (bench/scrape_client.cc, built by prepare); http_gzip the same with Accept-Encoding: gzip.
#               Every request's time is also in /results/http-requests.tsv.
#   floor       what no scrape can avoid: DM_LIST_DEVICES and one DM_TABLE_STATUS (noflush) per device, timed
#               inside one process (bench/vm_ioctl_cost/dm_status_cost.cc, "floor" mode, built by prepare): the
#               median of FLOOR_PASSES passes; floor_list, floor_status, floor_table (the table of every device
#               as well) and floor_tables (list, status and table) are its parts, floor_cpu its CPU
#   fullreport  lvm fullreport --reportformat json              (hansmi/prometheus-lvm-exporter, every scrape)
#   lvs         lvs --reportformat json -o vg_name,lv_name,lv_size,data_percent,metadata_percent,lv_attr
#                                                               (Netdata, Telegraf, every scrape)
#   dmsetup     dmsetup status --noflush                        (a list + a status per device, in a new process)
# plus collect: the exporter's own thinpool_scrape_collector_duration_seconds, summed over its collectors (the
# device-mapper reads and parsing, and the text of the series, in the process, without HTTP), and
# collect:NAME for each collector (thinpool, thin, lvm, ...); collect_warm and collect_warm:NAME the same from a
# second scrape right after (the first one runs after the lvm tools, which leave the caches, TCG's translated code
# among them, to their own code).
# After the rounds, per count: the exporter's CPU (utime + stime of /proc/PID/stat) over CPU_SCRAPES GETs, plain
# and gzip'd (cpu_http, cpu_http_gzip: microseconds per scrape) and over IDLE_SECONDS without a scrape (cpu_idle:
# microseconds per second); its peak resident memory since the count was reached (rss_peak_kib: VmHWM, reset
# through /proc/PID/clear_refs once the volumes exist) and its RSS after (rss_kib; of it anonymous memory,
# rss_anon_kib: the rest is the program and its libraries, shared memory in this initramfs); then the same peak and GETs
# from a second exporter with --no-collector.lvm.volume-series (suffix _novolseries) and one with
# --no-collector.lvm (_nolvm), each started fresh, and one with --no-collector.lvm.dmeventd (_nodmeventd: what
# asking dmeventd costs the lvm collector).
# Results: /results/bench.tsv, one "volumes<TAB>what<TAB>value" line per measurement; /results/env.txt;
# /results/floor.tsv (every floor pass).
. /scenario/lib/guest-lib.sh
. /scenario/params.sh

. /scenario/lib/bench-pool.sh
OUT=$RESULTS/bench.tsv
: >"$OUT"
: >"$RESULTS/http-requests.tsv"
: >"$RESULTS/floor.tsv"

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

# floor VOLUMES: the ioctl floor, FLOOR_PASSES passes in one process; its medians into bench.tsv ("floor",
# "floor_list", ...), every pass into floor.tsv.
FLOOR_PASSES=5
floor() {
	/scenario/dm_status_cost floor "$FLOOR_PASSES" >/tmp/floor.out 2>/tmp/measure.err || {
		echo "bench: floor failed:"
		cat /tmp/measure.err
		return 1
	}
	awk -v n="$1" '$1 == "median" { w = ($2 ~ /^floor/) ? $2 : "floor_" $2; print n "\t" w "\t" $3 }' \
		/tmp/floor.out >>"$OUT"
	awk -v n="$1" '$1 == "round" { print n "\t" $2 "\t" $3 "\t" $4 "\t" $5 }' /tmp/floor.out >>"$RESULTS/floor.tsv"
}

# cpu_per_scrape VOLUMES WHAT [--gzip]: the exporter's CPU over CPU_SCRAPES GETs (microseconds per scrape).
CPU_SCRAPES=20
cpu_per_scrape() {
	local volumes=$1 what=$2 t0 t1
	shift 2
	t0=$(cpu_ticks "$EXPORTER_PID")
	/scenario/scrape_client "$EXPORTER_PORT" "$CPU_SCRAPES" "$@" >/dev/null
	t1=$(cpu_ticks "$EXPORTER_PID")
	printf '%s\t%s\t%s\n' "$volumes" "$what" $(((t1 - t0) * 1000000 / TICKS / CPU_SCRAPES)) >>"$OUT"
}
TICKS=$(getconf CLK_TCK 2>/dev/null || echo 100)

# variant VOLUMES SUFFIX FLAGS...: a second exporter with FLAGS, started fresh on another port beside the first
# (which is idle meanwhile): two warm-up scrapes, 5 GETs plain and 5 gzip'd, its peak RSS, then one more scrape for
# its body size and collect lines.
variant() {
	local volumes=$1 suffix=$2 port=9967 pid
	shift 2
	"$EXPORTER" --web.listen-address=:$port --log.level=warn "$@" >>"$RESULTS/exporter-$suffix.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		wget -q -O /dev/null "http://127.0.0.1:$port/-/healthy" 2>/dev/null && break
		sleep 0.2
	done
	wget -q -O /dev/null "http://127.0.0.1:$port/metrics"
	wget -q -O /tmp/variant.prom "http://127.0.0.1:$port/metrics"
	/scenario/scrape_client "$port" 5 >/tmp/http.out
	/scenario/scrape_client "$port" 5 --gzip >/tmp/http-gzip.out
	wget -q -O /tmp/variant.prom "http://127.0.0.1:$port/metrics" # its collectors' times in steady state
	cp /tmp/variant.prom /tmp/scrape.prom
	{
		awk -v n="$volumes" -v w="http_$suffix" '$1 == "median" { print n "\t" w "\t" $2 }' /tmp/http.out
		awk -v n="$volumes" -v w="http_gzip_$suffix" '$1 == "median" { print n "\t" w "\t" $2 }' /tmp/http-gzip.out
		printf '%s\trss_peak_kib_%s\t%s\n' "$volumes" "$suffix" "$(proc_kib "$pid" VmHWM)"
		printf '%s\trss_kib_%s\t%s\n' "$volumes" "$suffix" "$(proc_kib "$pid" VmRSS)"
		printf '%s\trss_anon_kib_%s\t%s\n' "$volumes" "$suffix" "$(proc_kib "$pid" RssAnon)"
		printf '%s\tbody_bytes_%s\t%s\n' "$volumes" "$suffix" "$(wc -c </tmp/variant.prom)"
		collect_lines "$volumes" | sed "s/\tcollect/\tcollect_${suffix}/"
	} >>"$OUT"
	kill "$pid"
	wait "$pid" || true
}

{
	echo "kernel $(uname -r)"
	dmsetup version
	lvm version | head -3
	"$EXPORTER" --version
	grep -m1 'model name' /proc/cpuinfo
} >"$RESULTS/env.txt" 2>&1

build_pool

"$EXPORTER" --web.listen-address=:"$EXPORTER_PORT" --log.level=warn >>"$RESULTS/exporter.log" 2>&1 &
EXPORTER_PID=$!
wait_exporter

for n in $BENCH_VOLUMES; do
	grow_to "$n"
	# The peak from here on: this count's scrapes only.
	echo 5 >"/proc/$EXPORTER_PID/clear_refs"
	# Warm up: the first scrape after new volumes reads their tables once.
	scrape
	scrape
	series=$(grep -c '^thinpool_volume_size_bytes' /tmp/scrape.prom || true)
	[ "$series" = "$n" ] || {
		echo "bench: the exporter reports $series volumes, expected $n"
		exit 1
	}
	reps=$BENCH_REPS
	[ "$n" -le 1000 ] || reps=$BENCH_REPS_LARGE
	say "timing $n volumes, $reps rounds"
	for rep in $(seq "$reps"); do
		measure "$n" exporter scrape
		collect_lines "$n" >>"$OUT"
		scrape # again at once: the collectors' times warm, as in the floor's passes
		collect_lines "$n" | sed 's/\tcollect/\tcollect_warm/' >>"$OUT"
		http "$n" http
		http "$n" http_gzip --gzip
		floor "$n"
		measure "$n" fullreport lvm fullreport --reportformat json
		measure "$n" lvs lvs --reportformat json -o vg_name,lv_name,lv_size,data_percent,metadata_percent,lv_attr
		measure "$n" dmsetup dmsetup status --noflush
		say "round $rep: $(tail -n 1 "$OUT" | cut -f3) us dmsetup"
	done
	printf '%s\t%s\t%s\n' "$n" body_bytes "$(wc -c </tmp/scrape.prom)" >>"$OUT"
	say "CPU per scrape, $CPU_SCRAPES scrapes each"
	cpu_per_scrape "$n" cpu_http
	cpu_per_scrape "$n" cpu_http_gzip --gzip
	IDLE_SECONDS=10
	t0=$(cpu_ticks "$EXPORTER_PID")
	sleep "$IDLE_SECONDS"
	t1=$(cpu_ticks "$EXPORTER_PID")
	{
		printf '%s\t%s\t%s\n' "$n" cpu_idle $(((t1 - t0) * 1000000 / TICKS / IDLE_SECONDS))
		printf '%s\t%s\t%s\n' "$n" rss_peak_kib "$(proc_kib "$EXPORTER_PID" VmHWM)"
		printf '%s\t%s\t%s\n' "$n" rss_kib "$(proc_kib "$EXPORTER_PID" VmRSS)"
		printf '%s\t%s\t%s\n' "$n" rss_anon_kib "$(proc_kib "$EXPORTER_PID" RssAnon)"
	} >>"$OUT"
	say "peak RSS $(proc_kib "$EXPORTER_PID" VmHWM) KiB; variants"
	variant "$n" novolseries --no-collector.lvm.volume-series
	variant "$n" nolvm --no-collector.lvm
	variant "$n" nodmeventd --no-collector.lvm.dmeventd
done
stop_exporter
say "bench done"
