"""Scenario 4: the read_only feature gives thinpool_mode{mode="ro"} 1."""
from e2e import main


def check(c):
    for cp, mode in (("rw", "rw"), ("ro", "ro"), ("rw-again", "rw")):
        state, scrape = c.check_checkpoint(cp)
        c.true(f"[{cp}] the kernel reports ro-pool {mode}", f" {mode} " in state.devices["ro-pool"].status[0][3],
               state.devices["ro-pool"].status[0][3])
        c.eq(f"[{cp}] thinpool_mode{{pool=ro-pool,mode={mode}}}", scrape.value("thinpool_mode", pool="ro-pool", mode=mode), 1.0)
        c.eq(f"[{cp}] sum of thinpool_mode{{pool=ro-pool}}", sum(v for _, v in scrape.series("thinpool_mode", pool="ro-pool")), 1.0)


main(check)
