#!/usr/bin/env python3
"""Runs every benchmark and prints the tables of BENCHMARKS.md (Markdown) on stdout.

Called by scripts/bench, which builds first. Sections:
  parsers   thinpool_parsers_bench: ns per line (median of repetitions, CPU time)
  scrape    thinpool_scrape_bench: one full scrape and each stage, per shape (median of repetitions)
  process   thinpool_scrape_process: one process per shape and gzip setting: median scrape time and peak RSS
  profile   callgrind instruction counts of one steady-state 10,000-volume scrape, by stage
  vm        (--vm) the real-kernel comparison with lvm fullreport, lvs and dmsetup status in the e2e VM
The targets are printed next to the figures; nothing here fails on a slow machine.
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SHAPES = [(1, 10), (1, 1000), (1, 10000), (100, 10)]
TARGET_SCRAPE_MS = 20.0
TARGET_RSS_MIB = 20.0
TARGET_VS_FULLREPORT = 20.0


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def shape_name(pools, volumes_per_pool):
    if pools == 1:
        return f"1 pool, {volumes_per_pool:,} volumes"
    return f"{pools} pools x {volumes_per_pool} volumes"


def run_gbench(binary, extra, repetitions):
    """Runs a Google Benchmark binary; returns {name: median aggregate run} (CPU and real time in ns)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [binary, f"--benchmark_out={out.name}", "--benchmark_out_format=json",
               f"--benchmark_repetitions={repetitions}", "--benchmark_report_aggregates_only=true",
               "--benchmark_format=console"] + extra
        log(" ".join(cmd))
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        data = json.load(open(out.name))
    runs = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
        b["cpu_ns"] = b["cpu_time"] * scale
        b["real_ns"] = b["real_time"] * scale
        runs[b["run_name"]] = b
    return runs, data.get("context", {})


def section_parsers(build, repetitions):
    runs, _ = run_gbench(f"{build}/bench/thinpool_parsers_bench", ["--benchmark_min_time=0.2"], repetitions)
    lines = ["| parser, line | ns per line (CPU) | wall |", "| --- | ---: | ---: |"]
    for name, b in runs.items():
        lines.append(f"| `{name.replace('BM_', '')}` | {b['cpu_ns']:.0f} | {b['real_ns']:.0f} |")
    return lines


def fmt_ms(ns):
    return f"{ns / 1e6:.2f}"


def section_scrape(build, repetitions):
    runs, _ = run_gbench(f"{build}/bench/thinpool_scrape_bench", ["--benchmark_min_time=0.2"], repetitions)

    def get(prefix, pools, vpp, gzip=None):
        name = f"{prefix}/pools:{pools}/volumes_per_pool:{vpp}"
        if gzip is not None:
            name += f"/gzip:{gzip}"
        return runs.get(name)

    lines = [
        "| host (fake device-mapper) | scrape, gzip off: ms (CPU) | wall ms | per volume (CPU) "
        "| scrape, gzip on: ms (CPU) | first scrape (cold cache) ms | body |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for pools, vpp in SHAPES:
        plain, gz, cold = get("BM_Scrape", pools, vpp, 0), get("BM_Scrape", pools, vpp, 1), \
            get("BM_ScrapeCold", pools, vpp)
        volumes = pools * vpp
        mark = ""
        if volumes == 10000:
            mark = " (target < 20)" if plain["cpu_ns"] / 1e6 < TARGET_SCRAPE_MS else " (**target 20 missed**)"
        lines.append(
            f"| {shape_name(pools, vpp)} | {fmt_ms(plain['cpu_ns'])}{mark} | {fmt_ms(plain['real_ns'])} "
            f"| {plain['cpu_ns'] / volumes / 1e3:.2f} µs | {fmt_ms(gz['cpu_ns'])} | {fmt_ms(cold['cpu_ns'])} "
            f"| {plain['body_bytes'] / 1e3:,.0f} kB, gzip {gz['body_bytes'] / 1e3:,.0f} kB |")
    lines += [
        "",
        "Each stage alone (ms of CPU per scrape; the stages overlap: inventory includes the device-mapper calls):",
        "",
        "| host | device-mapper calls (fake) | inventory read (calls + parsing) "
        "| series written (MetricWriter) | gzip |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for pools, vpp in SHAPES:
        cells = [fmt_ms(get(stage, pools, vpp)["cpu_ns"]) for stage in
                 ("BM_StageFakeCalls", "BM_StageInventory", "BM_StageWrite", "BM_StageGzip")]
        lines.append(f"| {shape_name(pools, vpp)} | " + " | ".join(cells) + " |")
    return lines


def run_process(build, pools, vpp, gzip, scrapes):
    cmd = [f"{build}/bench/thinpool_scrape_process", "--pools", str(pools), "--volumes-per-pool", str(vpp),
           "--scrapes", str(scrapes)] + (["--gzip"] if gzip else [])
    log(" ".join(cmd))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {k: float(v) for k, v in (kv.split("=") for kv in out.split())}


def section_process(build, scrapes):
    lines = [
        "| host (one process each) | scrape, gzip off: CPU ms | wall ms | gzip on: CPU ms | wall ms "
        "| peak RSS of the process | of it: program at start | fake device-mapper state "
        "| peak without the fake's state, gzip off | gzip on |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for pools, vpp in SHAPES:
        plain = run_process(build, pools, vpp, False, scrapes)
        gz = run_process(build, pools, vpp, True, scrapes)
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over execve from the parent that forked
        # (here python), so small sizes would show python's own peak.
        def mib(kib):
            return kib / 1024
        fake = mib(plain["rss_setup_kib"] - plain["rss_start_kib"])
        own = mib(plain["rss_peak_kib"]) - fake
        own_gz = mib(gz["rss_peak_kib"] - (gz["rss_setup_kib"] - gz["rss_start_kib"]))
        cpu_ms = plain["median_cpu_us"] / 1e3
        time_mark = rss_mark = ""
        if pools * vpp == 10000:
            time_mark = (f" (target < {TARGET_SCRAPE_MS:.0f})" if cpu_ms < TARGET_SCRAPE_MS
                         else f" (**target {TARGET_SCRAPE_MS:.0f} missed**)")
            rss_mark = (f" (target < {TARGET_RSS_MIB:.0f})" if max(own, own_gz) < TARGET_RSS_MIB
                        else f" (**target {TARGET_RSS_MIB:.0f} missed**)")
        lines.append(
            f"| {shape_name(pools, vpp)} | {cpu_ms:.2f}{time_mark} | {plain['median_us'] / 1e3:.2f} "
            f"| {gz['median_cpu_us'] / 1e3:.2f} | {gz['median_us'] / 1e3:.2f} "
            f"| {mib(max(plain['rss_peak_kib'], gz['rss_peak_kib'])):.1f} MiB "
            f"| {mib(plain['rss_start_kib']):.1f} MiB | {fake:.1f} MiB | {own:.1f} MiB{rss_mark} "
            f"| {own_gz:.1f} MiB |")
    return lines


def proc_kib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def proc_cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def section_http(build, scrapes):
    """The real binary serving a synthetic fixture: scrapes over HTTP, each on a new connection."""
    import http.client
    import socket
    import time
    lines = [
        "| host (`--devmapper.fixtures`) | scrape over HTTP, median ms, plain | gzip | exporter CPU per scrape, ms "
        "| exporter VmHWM before the first scrape | after all scrapes |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for pools, vpp in [(1, 1000), (1, 10000)]:
        fixture = tempfile.mkdtemp(prefix="thinpool-bench-fixture.")
        subprocess.run([f"{build}/bench/thinpool_scrape_process", "--pools", str(pools), "--volumes-per-pool",
                        str(vpp), "--write-fixture", fixture], check=True)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        cmd = [f"{build}/thinpool_exporter", f"--web.listen-address=127.0.0.1:{port}",
               f"--devmapper.fixtures={fixture}", "--log.level=error"]
        log(" ".join(cmd))
        proc = subprocess.Popen(cmd)
        try:
            def get(path, gzip=False):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", path, headers={"Accept-Encoding": "gzip"} if gzip else {})
                body = conn.getresponse().read()
                conn.close()
                return body
            for _ in range(100):
                try:
                    get("/-/healthy")
                    break
                except OSError:
                    time.sleep(0.1)
            hwm_before = proc_kib(proc.pid, "VmHWM:")
            medians = []
            cpu_start = proc_cpu_seconds(proc.pid)
            for gzip in (False, True):
                times = []
                for _ in range(scrapes):
                    start = time.perf_counter()
                    get("/metrics", gzip)
                    times.append(time.perf_counter() - start)
                medians.append(statistics.median(times) * 1e3)
            cpu_ms = (proc_cpu_seconds(proc.pid) - cpu_start) / (2 * scrapes) * 1e3
            hwm_after = proc_kib(proc.pid, "VmHWM:")
        finally:
            proc.terminate()
            proc.wait()
            shutil.rmtree(fixture)
        lines.append(f"| {shape_name(pools, vpp)} | {medians[0]:.1f} | {medians[1]:.1f} | {cpu_ms:.1f} "
                     f"| {hwm_before / 1024:.1f} MiB | {hwm_after / 1024:.1f} MiB |")
    return lines


# Stages of a scrape, by the functions whose inclusive instruction counts make them up.
PROFILE_STAGES = [
    ("device-mapper calls (FakeDeviceMapper list/status/table: the ioctls)",
     [r"thinpool::FakeDeviceMapper::list_devices\(", r"thinpool::FakeDeviceMapper::status\(",
      r"thinpool::FakeDeviceMapper::table\("]),
    ("parsing status/table lines", [r"thinpool::parse_thin_pool_status\(", r"thinpool::parse_thin_status\(",
                                    r"thinpool::parse_thin_pool_table\(", r"thinpool::parse_thin_table\("]),
    ("LVM names and label text (VolumeNames: split_lvm_name, escaping; new or renamed volumes only)",
     [r"thinpool::VolumeNames::VolumeNames\("]),
    ("pool series written (write_pool_series)", [r"thinpool::write_pool_series\("]),
    ("volume series written (write_volume_series)", [r"thinpool::write_volume_series\("]),
    ("gzip", [r"thinpool::gzip_compress(\[abi:cxx11\])?\("]),
]


PROFILED_SCRAPES = 2  # steady scrapes in the "steady" dump (thinpool_scrape_process --scrapes 3)


def callgrind_inclusive(build, pools, vpp, gzip):
    """Inclusive instruction counts per function over the steady scrapes, every thread counted
    (a pool's status calls run on a worker thread): thinpool_scrape_process zeroes the counters
    after its cold first scrape and dumps them after the steady ones (callgrind's <out>.1)."""
    out_file = tempfile.mktemp(prefix="thinpool-callgrind.")
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
           f"{build}/bench/thinpool_scrape_process", "--pools", str(pools),
           "--volumes-per-pool", str(vpp), "--scrapes", str(PROFILED_SCRAPES + 1)] + (["--gzip"] if gzip else [])
    log(" ".join(cmd))
    subprocess.run(cmd, check=True, capture_output=True)
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out_file + ".1"],
                          check=True, capture_output=True, text=True).stdout
    for path in (out_file, out_file + ".1"):
        if os.path.exists(path):
            os.unlink(path)
    counts = {}
    for line in text.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\([^)]*\)\s+(.*)$", line)
        if m:
            counts.setdefault(m.group(2), int(m.group(1).replace(",", "")) // PROFILED_SCRAPES)
    return counts


def section_profile(build):
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        return ["(valgrind is not installed: no profile)"]
    lines = [
        "| stage | instructions per scrape, 1 pool x 10,000 volumes, gzip off | share | gzip on | share |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    results = [callgrind_inclusive(build, 1, 10000, gzip) for gzip in (False, True)]

    def total(counts):
        return counts["PROGRAM TOTALS"]

    def stage(counts, patterns):
        return sum(v for k, v in counts.items() if any(re.search(p, k) for p in patterns))

    totals = [total(c) for c in results]
    accounted = [0, 0]
    for label, patterns in PROFILE_STAGES:
        cells = []
        for i, counts in enumerate(results):
            n = stage(counts, patterns)
            accounted[i] += n
            cells.append(f"{n / 1e6:.1f} M | {100 * n / totals[i]:.0f}%")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    cells = [f"{(totals[i] - accounted[i]) / 1e6:.1f} M | {100 * (totals[i] - accounted[i]) / totals[i]:.0f}%"
             for i in range(2)]
    lines.append("| the rest (inventory bookkeeping, thin-table cache, vectors, strings, malloc) | "
                 + " | ".join(cells) + " |")
    lines.append(f"| **one scrape** | **{totals[0] / 1e6:.1f} M** | 100% | **{totals[1] / 1e6:.1f} M** | 100% |")
    return lines


def section_vm(build, volumes, reps, results_dir=None, reps_large=5):
    run_dir = results_dir or os.path.join(tempfile.gettempdir(), "thinpool-bench-vm")
    if not results_dir:
        env = dict(os.environ, THINPOOL_BENCH_VOLUMES=volumes, THINPOOL_BENCH_REPS=str(reps),
                   THINPOOL_BENCH_REPS_LARGE=str(reps_large))
        cmd = ["tests/vm/run-scenario", "--exporter", f"{build}/thinpool_exporter", "--run-dir", run_dir,
               "tests/vm/scenarios/benchmark"]
        log(" ".join(cmd) + f"   (THINPOOL_BENCH_VOLUMES='{volumes}' THINPOOL_BENCH_REPS={reps} "
            f"THINPOOL_BENCH_REPS_LARGE={reps_large})")
        subprocess.run(cmd, check=True, env=env)
    samples = {}
    by_round = {}  # volumes -> one {what: microseconds} per round; a round starts with "exporter"
    for line in open(os.path.join(run_dir, "results", "bench.tsv")):
        n, what, value = line.split()
        samples.setdefault((int(n), what), []).append(float(value))
        if what == "exporter":
            by_round.setdefault(int(n), []).append({})
        if int(n) in by_round:
            by_round[int(n)][-1][what] = float(value)

    def ratio(n, what, ours="exporter"):
        # The median of the ratios within each round: the commands of a round ran back to back,
        # so a change in the host's load between rounds cancels out.
        return statistics.median(r[what] / r[ours] for r in by_round[n] if what in r and ours in r)
    env_lines = [" ".join(l.split()) for l in open(os.path.join(run_dir, "results", "env.txt"))]
    env_lines = [l for i, l in enumerate(env_lines) if l and l not in env_lines[:i]]
    # Our scrape by two definitions: "wget" (busybox wget: a process start and one GET, as the
    # other commands each pay a process start) and "GET" (one GET timed inside a long-running
    # client, as Prometheus scrapes us; "GET gz" with Accept-Encoding: gzip). Runs from before
    # the client existed have the wget column only.
    ours_defs = [("exporter", "wget")] + [(w, l) for w, l in (("http", "GET"), ("http_gzip", "GET gz"))
                                          if any(k[1] == w for k in samples)]

    def ratios(n, what, target=None):
        cells = []
        for ours, label in ours_defs:
            value = ratio(n, what, ours)
            text = f"{value:.1f}x" if target is None or target >= 10 else f"{value:.2f}x"
            if target is not None:
                text += "" if value >= target and (target >= 10 or value > target) else " (**missed**)"
            cells.append(f"{label} {text}")
        return ", ".join(cells)
    lines = [
        f"Guest: {'; '.join(env_lines)}.",
        "",
        "| thin volumes | " + " | ".join(f"our scrape: {l} (ms)" for _, l in ours_defs)
        + " | in-process collect (ms) | `lvm fullreport` (ms) | `lvs` (ms) | `dmsetup status` (ms) "
        "| fullreport / ours (target >= 20) | lvs / ours | dmsetup / ours (target > 1) |",
        "| ---: | " + " | ".join("---:" for _ in ours_defs) + " | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n in sorted({k[0] for k in samples}):
        med = {what: statistics.median(samples[(n, what)]) / 1e3 for (m, what) in samples if m == n}
        lines.append(
            f"| {n:,} | " + " | ".join(f"{med[w]:.1f}" for w, _ in ours_defs)
            + f" | {med['collect']:.1f} | {med['fullreport']:.0f} | {med['lvs']:.0f} | {med['dmsetup']:.0f} "
            f"| {ratios(n, 'fullreport', TARGET_VS_FULLREPORT)} | {ratios(n, 'lvs')} "
            f"| {ratios(n, 'dmsetup', 1)} |")
    collectors = sorted({what.split(":", 1)[1] for (_, what) in samples if what.startswith("collect:")})
    if collectors:
        lines += ["", "The in-process collect time by collector (medians, ms):", "",
                  "| thin volumes | " + " | ".join(f"`{c}`" for c in collectors) + " |",
                  "| ---: | " + " | ".join("---:" for _ in collectors) + " |"]
        for n in sorted({k[0] for k in samples}):
            cells = [f"{statistics.median(samples[(n, 'collect:' + c)]) / 1e3:.1f}"
                     if (n, "collect:" + c) in samples else "" for c in collectors]
            lines.append(f"| {n:,} | " + " | ".join(cells) + " |")
    rounds = max((len(v) for (n, what), v in samples.items() if what == "exporter"), default=0)
    sizes = sorted({k[0] for k in samples})
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        lines += ["", f"Fixed cost and cost per thin volume, from the medians at {lo:,} and {hi:,} volumes "
                  "(a straight line through the two):", "",
                  "| command | fixed (ms) | per volume (µs) |", "| --- | ---: | ---: |"]
        for what, label in (("exporter", "our scrape (wget)"), ("http", "our scrape (GET)"),
                            ("http_gzip", "our scrape (GET, gzip)"), ("collect", "in-process collect"),
                            ("fullreport", "`lvm fullreport`"), ("lvs", "`lvs`"),
                            ("dmsetup", "`dmsetup status`")):
            if (lo, what) in samples and (hi, what) in samples:
                a = statistics.median(samples[(lo, what)])
                b = statistics.median(samples[(hi, what)])
                per = (b - a) / (hi - lo)
                lines.append(f"| {label} | {(a - per * lo) / 1e3:.0f} | {per:.0f} |")
    lines.append("")
    lines.append(f"Medians of {rounds} rounds (the ratios: medians of the ratios within each round); raw samples "
                 f"in {run_dir}/results/bench.tsv.")
    if any(what == "floor" for (_, what) in samples):
        lines += [""] + vm_floor_tables(samples, by_round)
    return lines


TARGET_COLLECT_VS_FLOOR = 1.2
TARGET_GET_VS_FLOOR = 1.5
TARGET_LVM_SHARE = 0.10
SCRAPES_PER_HOUR = 240  # Prometheus's example configuration: scrape_interval 15s


def vm_floor_tables(samples, by_round):
    """The scale tables: each size beside the ioctl floor (DM_LIST_DEVICES and one DM_TABLE_STATUS
    per device, timed inside one process as scrape_client times a GET), the ratios to it, where the
    time goes, peak RSS and CPU per hour, and the targets."""
    sizes = sorted({n for (n, what) in samples if what == "floor"})

    def med(n, what):
        values = samples.get((n, what))
        return statistics.median(values) if values else None

    def ratio(n, what, base="floor"):
        values = [r[what] / r[base] for r in by_round[n] if what in r and base in r and r[base] > 0]
        return statistics.median(values) if values else None

    def ms(us, digits=1):
        return "" if us is None else f"{us / 1e3:,.{digits}f}"

    def x(value, target=None):
        if value is None:
            return ""
        text = f"{value:.2f}x"
        if target is not None:
            text += " (met)" if value <= target else f" (**missed** by {value / target:.2f}x)"
        return text

    def cpu_hour(n, what):
        scrape, idle = med(n, what), med(n, "cpu_idle")
        if scrape is None:
            return None
        return (SCRAPES_PER_HOUR * scrape + 3600 * (idle or 0)) / 1e6

    def mib(kib):
        return "" if kib is None else f"{kib / 1024:.1f}"

    lines = [
        "Each size beside the ioctl floor (DM_LIST_DEVICES and one DM_TABLE_STATUS, noflush, per device, timed "
        "inside one process), medians; ratios are medians of the ratios within each round:",
        "",
        "| thin volumes | rounds | floor (ms) | in-process scrape (ms) | GET (ms) | GET gzip (ms) "
        "| in-process / floor (target <= 1.2) | GET / floor (target <= 1.5) | GET gzip / floor "
        "| `dmsetup status` (ms) | `lvs` (ms) | `lvm fullreport` (ms) | fullreport / GET "
        "| peak RSS (MiB) | CPU per hour at 15 s (s), plain / gzip |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n in sizes:
        rounds = len(samples.get((n, "floor"), []))
        plain_h, gzip_h = cpu_hour(n, "cpu_http"), cpu_hour(n, "cpu_http_gzip")
        lines.append(
            f"| {n:,} | {rounds} | {ms(med(n, 'floor'))} | {ms(med(n, 'collect'))} | {ms(med(n, 'http'))} "
            f"| {ms(med(n, 'http_gzip'))} | {x(ratio(n, 'collect'), TARGET_COLLECT_VS_FLOOR)} "
            f"| {x(ratio(n, 'http'), TARGET_GET_VS_FLOOR)} | {x(ratio(n, 'http_gzip'))} "
            f"| {ms(med(n, 'dmsetup'), 0)} | {ms(med(n, 'lvs'), 0)} | {ms(med(n, 'fullreport'), 0)} "
            f"| {ratio(n, 'fullreport', 'http') or 0:.1f}x | {mib(med(n, 'rss_peak_kib'))} "
            f"| {'' if plain_h is None else f'{plain_h:.1f}'} / {'' if gzip_h is None else f'{gzip_h:.1f}'} |")
    collectors = sorted({what.split(":", 1)[1] for (_, what) in samples if what.startswith("collect:")})
    if any(what == "collect_warm" for (_, what) in samples):
        lines += [
            "",
            "The in-process scrape as measured above is the first after the round's `lvm fullreport`, `lvs` and "
            "`dmsetup`, which leave the guest's caches (TCG's translated code among them) to their own code; a "
            "second scrape right after it, warm as the floor's median pass is (medians, ms):",
            "",
            "| thin volumes | first scrape | second scrape | second / floor | "
            + " | ".join(f"`{c}`" for c in collectors) + " |",
            "| ---: | ---: | ---: | --- | " + " | ".join("---:" for _ in collectors) + " |",
        ]
        for n in sizes:
            lines.append(
                f"| {n:,} | {ms(med(n, 'collect'))} | {ms(med(n, 'collect_warm'))} "
                f"| {x(ratio(n, 'collect_warm'), TARGET_COLLECT_VS_FLOOR)} | "
                + " | ".join(ms(med(n, 'collect_warm:' + c), 2) for c in collectors) + " |")
    lines += [
        "",
        "Where the time goes (medians, ms): the floor's parts (in one process: the list, every device's status, "
        "every device's table, which a scrape reads only for new devices; and the list once more from a 1 KiB "
        "buffer doubled until it fits, which the exporter did before its list started at the last one's size), the exporter's collectors "
        "(`thinpool_scrape_collector_duration_seconds`; `thinpool` includes the inventory read: the list, the "
        "status ioctls and their parsing), GET minus the in-process scrape (connection, request, worker hand-off, "
        "`thinpool_http_*` series, writing and reading the body), GET gzip minus GET (compression, less to send):",
        "",
        "| thin volumes | floor: list | list from 1 KiB | status | table | floor CPU | "
        + " | ".join(f"`{c}`" for c in collectors)
        + " | lvm share of the scrape (target < 10%) | GET - in-process | GET gzip - GET | body (kB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in collectors)
        + " | ---: | ---: | ---: | ---: |",
    ]
    for n in sizes:
        share = ratio(n, "collect:lvm", "collect") if (n, "collect:lvm") in samples else None
        share_text = "" if share is None else (
            f"{100 * share:.0f}%" + (" (met)" if share < TARGET_LVM_SHARE else " (**missed**)"))
        get_minus = [r["http"] - r["collect"] for r in by_round[n] if "http" in r and "collect" in r]
        gz_minus = [r["http_gzip"] - r["http"] for r in by_round[n] if "http" in r and "http_gzip" in r]
        body = med(n, "body_bytes")
        lines.append(
            f"| {n:,} | {ms(med(n, 'floor_list'), 2)} | {ms(med(n, 'floor_list_doubling'), 2)} "
            f"| {ms(med(n, 'floor_status'))} | {ms(med(n, 'floor_table'))} "
            f"| {ms(med(n, 'floor_cpu'))} | " + " | ".join(ms(med(n, 'collect:' + c), 2) for c in collectors)
            + f" | {share_text} | {ms(statistics.median(get_minus)) if get_minus else ''} "
            f"| {ms(statistics.median(gz_minus)) if gz_minus else ''} "
            f"| {'' if body is None else f'{body / 1e3:,.0f}'} |")
    if any(what.startswith("rss_peak_kib_") for (_, what) in samples):
        lines += [
            "",
            "Peak RSS and GET by flags (the default exporter's peak since the size was reached; the others "
            "started fresh at that size, two warm-up scrapes, 5 GETs plain and 5 gzip'd):",
            "",
            "| thin volumes | defaults: peak RSS (MiB) | `--no-collector.lvm.volume-series` | `--no-collector.lvm` "
            "| GET (ms): defaults, no volume series, no lvm | GET gzip (ms) | body (kB), same order | CPU per scrape "
            "(ms), plain / gzip | idle CPU (ms/s) |",
            "| ---: | ---: | ---: | ---: | --- | --- | --- | --- | ---: |",
        ]
        for n in sizes:
            bodies = [med(n, w) for w in ("body_bytes", "body_bytes_novolseries", "body_bytes_nolvm")]
            lines.append(
                f"| {n:,} | {mib(med(n, 'rss_peak_kib'))} | {mib(med(n, 'rss_peak_kib_novolseries'))} "
                f"| {mib(med(n, 'rss_peak_kib_nolvm'))} "
                f"| {ms(med(n, 'http'))}, {ms(med(n, 'http_novolseries'))}, {ms(med(n, 'http_nolvm'))} "
                f"| {ms(med(n, 'http_gzip'))}, {ms(med(n, 'http_gzip_novolseries'))}, "
                f"{ms(med(n, 'http_gzip_nolvm'))} "
                f"| {', '.join('' if b is None else f'{b / 1e3:,.0f}' for b in bodies)} "
                f"| {ms(med(n, 'cpu_http'))} / {ms(med(n, 'cpu_http_gzip'))} | {ms(med(n, 'cpu_idle'), 2)} |")
    if any(what == "rss_anon_kib" for (_, what) in samples):
        lines += [
            "",
            "Resident memory after the GETs and, of it, anonymous memory: the exporter's own heap, stacks and data. "
            "The rest is the program and its shared libraries (in the VM's initramfs shared memory, on a host "
            "file pages shared with every process that maps them) (MiB; the defaults after the rounds, the others "
            "after their GETs):",
            "",
            "| thin volumes | defaults: resident / anonymous | `--no-collector.lvm.volume-series` "
            "| `--no-collector.lvm` |",
            "| ---: | --- | --- | --- |",
        ]

        def split(n, suffix=""):
            rss, anon = med(n, "rss_kib" + suffix), med(n, "rss_anon_kib" + suffix)
            if anon is None:
                return ""
            return f"{mib(rss) if rss is not None else ''} / {mib(anon)}"

        for n in sizes:
            lines.append(f"| {n:,} | {split(n)} | {split(n, '_novolseries')} | {split(n, '_nolvm')} |")
    if any(what == "collect_nodmeventd:lvm" for (_, what) in samples):
        lines += [
            "",
            "The `lvm` collector by flags (ms; the defaults' median over the rounds, the others the last scrape of each "
            "fresh exporter, after its 12): what asking dmeventd costs it, and what the per-LV series do:",
            "",
            "| thin volumes | defaults | `--no-collector.lvm.dmeventd` | `--no-collector.lvm.volume-series` |",
            "| ---: | ---: | ---: | ---: |",
        ]
        for n in sizes:
            lines.append(
                f"| {n:,} | {ms(med(n, 'collect:lvm'), 2)} | {ms(med(n, 'collect_nodmeventd:lvm'), 2)} "
                f"| {ms(med(n, 'collect_novolseries:lvm'), 2)} |")
    lines += ["", f"CPU per hour: {SCRAPES_PER_HOUR} scrapes (15 s interval) times the exporter's utime + stime per "
              "scrape (over 20 GETs on new connections), plus its CPU while idle (10 s without a scrape) times "
              "3,600; Prometheus asks for gzip."]
    return lines


def machine(build):
    cpu = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    compiler = subprocess.run(["c++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return (f"{cpu}, {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} "
            f"GiB; kernel {platform.release()}; {compiler}; load average at start {os.getloadavg()[0]:.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="build-bench")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--scrapes", type=int, default=21, help="scrapes per process (median)")
    parser.add_argument("--only", default="parsers,scrape,process,http,crowd,profile",
                        help="comma-separated sections (parsers, scrape, process, http, crowd, profile, vm)")
    parser.add_argument("--vm", action="store_true", help="also run the real-kernel VM comparison (minutes)")
    parser.add_argument("--vm-volumes", default="300 1000")
    parser.add_argument("--vm-reps", type=int, default=21)
    parser.add_argument("--vm-reps-large", type=int, default=5,
                        help="rounds above 1,000 volumes (lvm fullreport and lvs take many seconds there)")
    parser.add_argument("--vm-results", help="format the results of an earlier VM run (its --run-dir) "
                        "instead of running it")
    args = parser.parse_args()
    sections = args.only.split(",") + (["vm"] if args.vm or args.vm_results else [])
    build = args.build_dir

    print(f"Machine: {machine(build)}.")
    print()
    if "parsers" in sections:
        print("### Parsers\n")
        print("\n".join(section_parsers(build, args.repetitions)) + "\n")
    if "scrape" in sections:
        print("### One scrape on the fake device-mapper (Google Benchmark, median of "
              f"{args.repetitions} repetitions)\n")
        print(f"Target: 10,000 volumes in < {TARGET_SCRAPE_MS:.0f} ms.\n")
        print("\n".join(section_scrape(build, args.repetitions)) + "\n")
    if "process" in sections:
        print(f"### One process per size: medians of {args.scrapes - 1} steady-state scrapes, peak RSS\n")
        print(f"Target: 10,000 volumes in < {TARGET_SCRAPE_MS:.0f} ms (checked on the CPU time, which other "
              "processes on a busy machine disturb less than the wall clock).\n")
        print(f"Target: 10,000 volumes in < {TARGET_RSS_MIB:.0f} MiB resident. Peak RSS is VmHWM. The fake "
              "device-mapper's copy of the dmsetup state stands in for what the kernel holds on a real host, so "
              "the target is checked on the peak without it (the program, the inventory and its cache, the "
              "families, the text and gzip).\n")
        print("\n".join(section_process(build, args.scrapes)) + "\n")
    if "http" in sections:
        print(f"### The exporter binary over HTTP: {args.scrapes} scrapes plain, then {args.scrapes} with gzip, "
              "each on a new connection\n")
        print("The binary holds the fixture's dmsetup text and its parsed copy (the fake device-mapper) as well. "
              "VmHWM is the peak resident memory of the exporter process.\n")
        print("\n".join(section_http(build, args.scrapes)) + "\n")
    if "crowd" in sections:
        print("### A crowd of bad clients against one scraper (`bench/http_crowd.py`)\n")
        print("2,000 idle connections, 500 requests sent a byte a second, 100 clients that never read, 50 half TLS "
              "handshakes, from 127.0.0.2 and up; a scrape every 100 ms from 127.0.0.1 on a new connection.\n")
        run = subprocess.run([sys.executable, str(Path(__file__).with_name("http_crowd.py")),
                              "--exporter", f"{build}/thinpool_exporter"], capture_output=True, text=True)
        print("```\n" + (run.stdout + run.stderr).strip() + "\n```\n")
    if "profile" in sections:
        print("### What a scrape spends its instructions on (callgrind, inclusive counts)\n")
        print("\n".join(section_profile(build)) + "\n")
    if "vm" in sections:
        print("### Real kernel in the e2e VM (qemu TCG): our scrape vs the lvm2 tools and the ioctl floor\n")
        print(f"Targets: >= {TARGET_VS_FULLREPORT:.0f}x faster than `lvm fullreport`, faster than "
              f"`dmsetup status`; the in-process scrape within {TARGET_COLLECT_VS_FLOOR}x of the ioctl floor, one "
              f"GET within {TARGET_GET_VS_FLOOR}x; under {TARGET_RSS_MIB:.0f} MiB at 10,000 volumes; the `lvm` "
              f"collector under {100 * TARGET_LVM_SHARE:.0f}% of the scrape.\n")
        print("\n".join(section_vm(build, args.vm_volumes, args.vm_reps, args.vm_results, args.vm_reps_large)) + "\n")
    print(f"Load average at the end: {os.getloadavg()[0]:.1f} (other builds on the machine disturb wall times; "
          "CPU times and instruction counts much less).")


if __name__ == "__main__":
    main()
