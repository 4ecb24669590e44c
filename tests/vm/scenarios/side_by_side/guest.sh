# Benchmark, not a test: two exporter binaries (a and b, THINPOOL_SIDE_A and THINPOOL_SIDE_B on the host) on one real
# LVM thin pool of SIDE_VOLUMES thin volumes (THINPOOL_SIDE_VOLUMES, 10,000 by default), so that a change is measured
# against the binary before it in the same VM: runs of one binary in different VMs on this host differ more than
# many changes do. SIDE_ROUNDS rounds (THINPOOL_SIDE_ROUNDS, 10), each starting a fresh exporter of each binary with
# the default flags in turn, a first in odd rounds and b first in even ones (whichever runs first after the other
# is slower under TCG), then the ioctl floor. Per exporter: two scrapes (the first reads every table and parses
# LVM's metadata), 5 GETs plain and 3 gzip'd on new connections (scrape_client), a last scrape; then its VmHWM
# (hwm_kib; hwm_first2_kib: the peak of the first two scrapes, hwm_gets_kib: of what came after, reset between),
# VmRSS and RssAnon, its CPU (all of it, the first two scrapes, and per plain GET), minor page faults per plain GET,
# the GET medians, the in-process scrape of the last scrape (thinpool_scrape_collector_duration_seconds, summed)
# and the body's size. Results: /results/side.tsv, "round<TAB>a|b|floor<TAB>what<TAB>value";
# summary.py prints the medians and the paired differences.
. /scenario/lib/guest-lib.sh
. /scenario/params.sh
. /scenario/lib/bench-pool.sh

TICKS=$(getconf CLK_TCK 2>/dev/null || echo 100)
OUT=$RESULTS/side.tsv
: >"$OUT"
minflt() { awk '{ sub(/.*\) /, ""); print $8 }' "/proc/$1/stat"; }

# one a|b: a fresh exporter of that binary, measured as above.
one() {
	local side=$1 port=9970 pid t0 t1 t2 t3 f2 f3 hwm_first hwm_gets
	"/scenario/exporter-$side" --web.listen-address=:$port --log.level=warn >>"$RESULTS/exporter-$side.log" 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		wget -q -O /dev/null "http://127.0.0.1:$port/-/healthy" 2>/dev/null && break
		sleep 0.2
	done
	t0=$(cpu_ticks "$pid")
	wget -q -O /tmp/side.prom "http://127.0.0.1:$port/metrics"
	wget -q -O /tmp/side.prom "http://127.0.0.1:$port/metrics"
	t2=$(cpu_ticks "$pid")
	f2=$(minflt "$pid")
	# The peak so far (the first scrape's parse of LVM's metadata), then the peak of the GETs alone.
	hwm_first=$(proc_kib "$pid" VmHWM)
	echo 5 >"/proc/$pid/clear_refs"
	/scenario/scrape_client "$port" 5 >/tmp/side-http.out
	t3=$(cpu_ticks "$pid")
	f3=$(minflt "$pid")
	/scenario/scrape_client "$port" 3 --gzip >/tmp/side-gzip.out
	wget -q -O /tmp/side.prom "http://127.0.0.1:$port/metrics"
	t1=$(cpu_ticks "$pid")
	{
		hwm_gets=$(proc_kib "$pid" VmHWM)
		printf '%s\t%s\thwm_kib\t%s\n' "$ROUND" "$side" $((hwm_first > hwm_gets ? hwm_first : hwm_gets))
		printf '%s\t%s\thwm_first2_kib\t%s\n' "$ROUND" "$side" "$hwm_first"
		printf '%s\t%s\thwm_gets_kib\t%s\n' "$ROUND" "$side" "$hwm_gets"
		printf '%s\t%s\trss_kib\t%s\n' "$ROUND" "$side" "$(proc_kib "$pid" VmRSS)"
		printf '%s\t%s\tanon_kib\t%s\n' "$ROUND" "$side" "$(proc_kib "$pid" RssAnon)"
		printf '%s\t%s\tcpu_ms\t%s\n' "$ROUND" "$side" $(((t1 - t0) * 1000 / TICKS))
		printf '%s\t%s\tcpu_first2_ms\t%s\n' "$ROUND" "$side" $(((t2 - t0) * 1000 / TICKS))
		printf '%s\t%s\tcpu_get_ms\t%s\n' "$ROUND" "$side" $(((t3 - t2) * 1000 / TICKS / 5))
		printf '%s\t%s\tminflt_get\t%s\n' "$ROUND" "$side" $(((f3 - f2) / 5))
		awk -v r="$ROUND" -v s="$side" '$1 == "median" { print r "\t" s "\tget_us\t" $2 }' /tmp/side-http.out
		awk -v r="$ROUND" -v s="$side" '$1 == "median" { print r "\t" s "\tget_gzip_us\t" $2 }' /tmp/side-gzip.out
		awk -v r="$ROUND" -v s="$side" -F'[{}"= ]+' '/^thinpool_scrape_collector_duration_seconds\{/ { t += $NF * 1e6 }
			END { printf "%s\t%s\tcollect_us\t%d\n", r, s, t }' /tmp/side.prom
		printf '%s\t%s\tbody_bytes\t%s\n' "$ROUND" "$side" "$(wc -c </tmp/side.prom)"
	} >>"$OUT"
	kill "$pid"
	wait "$pid" || true
}

{
	echo "kernel $(uname -r)"
	lvm version | head -3
	/scenario/exporter-a --version
	/scenario/exporter-b --version
} >"$RESULTS/env.txt" 2>&1

build_pool
grow_to "$SIDE_VOLUMES"
for ROUND in $(seq "$SIDE_ROUNDS"); do
	if [ $((ROUND % 2)) = 1 ]; then
		one a
		one b
	else
		one b
		one a
	fi
	/scenario/dm_status_cost floor 3 |
		awk -v r="$ROUND" '$1 == "median" && $2 == "floor" { print r "\tfloor\tfloor_us\t" $3 }' >>"$OUT"
	say "round $ROUND: $(grep -c . "$OUT") lines"
done
say "side by side done"
