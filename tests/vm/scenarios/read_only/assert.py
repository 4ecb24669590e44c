"""Scenario 4: read_only gives mode ro; needs_check gives needs_check 1 and ro; Fail gives mode fail, no usage."""
from e2e import main


def one_mode(c, cp, scrape, pool, mode):
    c.eq(f"[{cp}] thinpool_mode{{pool={pool},mode={mode}}}", scrape.value("thinpool_mode", pool=pool, mode=mode), 1.0)
    c.eq(f"[{cp}] sum of thinpool_mode{{pool={pool}}}", sum(v for _, v in scrape.series("thinpool_mode", pool=pool)), 1.0)


def check(c):
    for cp, mode in (("rw", "rw"), ("ro", "ro"), ("rw-again", "rw")):
        state, scrape = c.check_checkpoint(cp)
        c.true(f"[{cp}] the kernel reports ro-pool {mode}", f" {mode} " in state.devices["ro-pool"].status[0][3],
               state.devices["ro-pool"].status[0][3])
        one_mode(c, cp, scrape, "ro-pool", mode)
    c.check_checkpoint("before-fail")
    cp = "needs-check-and-fail"
    state, scrape = c.check_checkpoint(cp)
    c.eq(f"[{cp}] fail-thin (table now 'Fail') still exported with its pool and device id",
         [(l["pool"], l["device_id"]) for l, _ in scrape.series("thinpool_volume_size_bytes", volume="fail-thin")],
         [("fail-pool", "0")])
    c.true(f"[{cp}] the kernel reports nc-pool needs_check", "needs_check" in state.devices["nc-pool"].status[0][3])
    c.true(f"[{cp}] the kernel reports fail-pool Fail", state.devices["fail-pool"].status[0][3].startswith("Fail"))
    c.eq(f"[{cp}] thinpool_needs_check{{pool=nc-pool}}", scrape.value("thinpool_needs_check", pool="nc-pool"), 1.0)
    one_mode(c, cp, scrape, "nc-pool", "ro")
    one_mode(c, cp, scrape, "fail-pool", "fail")
    for metric in ("thinpool_data_used_bytes", "thinpool_metadata_used_bytes", "thinpool_transaction_id"):
        c.eq(f"[{cp}] {metric}{{pool=fail-pool}} (none in Fail mode)", scrape.value(metric, pool="fail-pool"), None)


main(check)
