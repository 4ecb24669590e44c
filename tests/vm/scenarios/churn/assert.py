"""Scenario 6: hundreds of scrapes during churn, none failed, and no series left for removed volumes."""
from pathlib import Path

from e2e import Scrape, main

MIN_SCRAPES = 300


def check(c):
    loop = c.run / "scrapes" / "churn"
    codes = [line.split() for line in (loop / "codes").read_text().splitlines()]
    created = set((c.run / "results" / "created-volumes").read_text().split())
    failed = [x for x in codes if x[1] != "200"]
    c.true(f"at least {MIN_SCRAPES} scrapes during churn", len(codes) >= MIN_SCRAPES, f"only {len(codes)}")
    c.eq("failed scrapes (non-200)", failed, [])
    bad = []
    volume_seen = set()
    for n, *_ in codes:
        try:
            s = Scrape(loop / f"{n}.prom")
        except (OSError, ValueError) as e:
            bad.append(f"scrape {n}: {e}")
            continue
        for col in ("thinpool", "thin"):
            if s.value("thinpool_scrape_collector_success", collector=col) != 1.0:
                bad.append(f"scrape {n}: collector {col} success = {s.value('thinpool_scrape_collector_success', collector=col)}")
        volume_seen |= {l["volume"] for l, _ in s.series("thinpool_volume_size_bytes")}
    c.eq("scrapes that did not parse or had a failed collector", bad[:20], [])
    unknown = volume_seen - created
    c.eq("volumes exported that were never created", sorted(unknown), [])
    c.true("some churned volumes were seen by the scrapes", len(volume_seen & created) > 0,
           f"seen {sorted(volume_seen)[:10]}")
    state, final = c.check_checkpoint("after-churn")
    stale = {l["volume"] for l, _ in final.series("thinpool_volume_mapped_bytes")} & created
    c.eq("series left behind for removed volumes (after churn)", sorted(stale), [])
    durations = sorted(float(x[2]) for x in codes if len(x) > 2)
    if durations:
        print(f"churn: {len(codes)} scrapes, {len(created)} volumes created and removed, "
              f"scrape time median {durations[len(durations) // 2]:.3f}s max {durations[-1]:.3f}s")


main(check)
