"""Scenario 1: every pool and volume value equals dmsetup and lvs (Data%, Meta%, transaction_id) at that moment."""
from e2e import main


def check(c):
    for cp in ("seed", "seed-moved"):
        state, scrape = c.check_checkpoint(cp)
        c.check_lvs(cp, state, scrape)
        pool = "cinder--volumes-cinder--volumes--pool-tpool"
        c.eq(f"[{cp}] vg/lv labels of {pool}",
             [(l["vg"], l["lv"]) for l, _ in scrape.series("thinpool_info", pool=pool)],
             [("cinder-volumes", "cinder-volumes-pool")])
    before = c.scrape("seed").value("thinpool_data_used_bytes", vg="cinder-volumes", lv="cinder-volumes-pool")
    after = c.scrape("seed-moved").value("thinpool_data_used_bytes", vg="cinder-volumes", lv="cinder-volumes-pool")
    c.true("data used grew between the two checkpoints", (after or 0) > (before or 0), f"{before} -> {after}")


main(check)
