"""Medians of a side_by_side run (tests/vm/scenarios/side_by_side) and the paired differences b - a.

Usage: python3 tests/vm/scenarios/side_by_side/summary.py RUN_DIR [RUN_DIR ...]   (several runs pooled)
"""
import collections
import statistics
import sys

FIGURES = ["hwm_kib", "hwm_first2_kib", "hwm_gets_kib", "rss_kib", "anon_kib", "cpu_ms", "cpu_first2_ms",
           "cpu_get_ms", "minflt_get", "collect_us", "get_us", "get_gzip_us", "body_bytes"]


def main(run_dirs):
    pooled = collections.defaultdict(list)
    paired = collections.defaultdict(list)
    floors = []
    for run_dir in run_dirs:
        values = collections.defaultdict(dict)
        with open(f"{run_dir}/results/side.tsv", encoding="utf-8") as results:
            for line in results:
                round_, side, what, value = line.rstrip("\n").split("\t")
                values[(what, side)][int(round_)] = int(value)
        floors.extend(values[("floor_us", "floor")].values())
        for what in FIGURES:
            a, b = values.get((what, "a"), {}), values.get((what, "b"), {})
            pooled[(what, "a")].extend(a.values())
            pooled[(what, "b")].extend(b.values())
            paired[what].extend(b[r] - a[r] for r in a if r in b)
    if not paired["hwm_kib"]:
        sys.exit("side_by_side: no rounds in " + " ".join(run_dirs))
    print(f"{'figure':14} {'a: median [min-max]':>28} {'b: median [min-max]':>28} {'b - a: median':>14} {'b < a':>8}")
    for what in FIGURES:
        a, b, d = pooled[(what, "a")], pooled[(what, "b")], paired[what]
        if not d:
            continue
        line = (f"{what:14} {statistics.median(a):>12.0f} [{min(a)}-{max(a)}]".ljust(44)
                + f"{statistics.median(b):>12.0f} [{min(b)}-{max(b)}]".ljust(29)
                + f"{statistics.median(d):>14.0f} {sum(x < 0 for x in d):>4}/{len(d)}")
        if what.endswith("_kib"):  # KiB: the MiB too, so that they are not read as thousands
            line += (f"   MiB: {statistics.median(a) / 1024:.1f} -> {statistics.median(b) / 1024:.1f}"
                     f" ({statistics.median(d) / 1024:+.1f})")
        print(line)
    print(f"floor_us: median {statistics.median(floors):.0f} [{min(floors)}-{max(floors)}] over {len(floors)} rounds")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
