"""Scenario: the soak. Zero failed scrapes (a failure is a non-200 or an answer past the scrape timeout), flat RSS,
flat thread and descriptor counts, and the work it claims to have done (rounds, fills, stalls) really happened."""
from e2e import main

TIMEOUT = 2.0  # X-Prometheus-Scrape-Timeout-Seconds the host sent
EXTRA_THREADS = 6  # a blocked pool task, a stuck PV read, idle workers
RSS_GROWTH_KIB = 4096  # the last fifth of the run against the second fifth


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def check(c):
    summary = dict(kv.split("=") for kv in (c.run / "results" / "soak-summary").read_text().split())
    summary = {k: int(v) for k, v in summary.items()}
    codes = [line.split() for line in (c.run / "scrapes" / "soak" / "codes").read_text().splitlines()]
    c.true("scrapes every 100 ms all along (at least 4 a second)", len(codes) >= 4 * summary["seconds"],
           f"{len(codes)} scrapes in {summary['seconds']} s")
    c.eq("scrapes that failed (non-200)", [x for x in codes if x[1] != "200"][:10], [])
    late = [x for x in codes if float(x[2]) > TIMEOUT]
    c.eq(f"scrapes slower than the {TIMEOUT} s scrape timeout", late[:10], [])
    c.true("the pool filled up (out_of_data_space) at least once", summary["fills"] >= 1, str(summary))
    c.true("the PV stopped answering at least once", summary["stalls"] >= 1, str(summary))
    c.true("volumes and snapshots came and went", summary["created"] >= 5 and summary["snapshots"] >= 5,
           str(summary))

    samples = [line.split() for line in (c.run / "results" / "samples").read_text().splitlines()]
    samples = [(float(s[0]), int(s[1]), int(s[2]), int(s[3]), int(s[4]), int(s[5])) for s in samples if len(s) == 6]
    c.true("samples of the exporter all along", len(samples) >= summary["seconds"] // 2, f"{len(samples)} samples")
    fifth = max(1, len(samples) // 5)
    early = median([s[1] for s in samples[fifth:2 * fifth]])
    late_rss = median([s[1] for s in samples[-fifth:]])
    c.true(f"RSS flat (the last fifth's median at most {RSS_GROWTH_KIB} KiB above the second fifth's)",
           late_rss <= early + RSS_GROWTH_KIB, f"{early} KiB then {late_rss} KiB")
    threads = [s[2] for s in samples]
    fds = [s[3] for s in samples]
    c.true(f"threads bounded (at most {EXTRA_THREADS} above the start) and back at the end",
           max(threads) <= threads[0] + EXTRA_THREADS and threads[-1] <= threads[0] + 2,
           f"{threads[0]} at the start, max {max(threads)}, {threads[-1]} at the end")
    c.true("descriptors bounded (at most 10 above the start) and back at the end",
           max(fds) <= fds[0] + 10 and fds[-1] <= fds[0] + 2, f"{fds[0]} at the start, max {max(fds)}, {fds[-1]} at the end")
    c.check_checkpoint("after-soak")

    durations = sorted(float(x[2]) for x in codes)
    print(f"soak: {summary['seconds']} s, {len(codes)} scrapes ({len(codes) / summary['seconds']:.1f}/s), "
          f"0 failed; scrape time median {median(durations):.3f} s, p99 {durations[int(len(durations) * 0.99)]:.3f} s, "
          f"max {durations[-1]:.3f} s; {summary['rounds']} rounds, {summary['created']} volumes, "
          f"{summary['snapshots']} snapshots, {summary['fills']} fills, {summary['stalls']} PV stalls; "
          f"RSS {samples[0][1]} KiB at the start, {early} then {late_rss} KiB (medians of the 2nd and 5th fifth), "
          f"max {max(s[1] for s in samples)} KiB; its anonymous part {samples[0][4]} KiB at the start, "
          f"{median([s[4] for s in samples[fifth:2 * fifth]])} then {median([s[4] for s in samples[-fifth:]])} KiB; "
          f"threads {threads[0]}..{max(threads)}; fds {fds[0]}..{max(fds)}")


main(check)
