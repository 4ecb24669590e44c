"""An LVM pool whose metadata the kernel ran full: the exporter equals lvs (Meta% 100.00) and dmsetup; grown, rw."""
from e2e import main

SEL = {"vg": "vg0", "lv": "pool"}


def check(c):
    state, full = c.check_checkpoint("full")
    c.check_lvs("full", state, full)
    pool = next(x for x in state.lvs if x["lv_name"] == "pool")
    c.eq("[full] lvs Meta% (the scenario must have filled it)", pool["metadata_percent"], "100.00")
    c.eq("[full] thinpool_metadata_used_bytes == thinpool_metadata_size_bytes",
         full.value("thinpool_metadata_used_bytes", **SEL), full.value("thinpool_metadata_size_bytes", **SEL))
    c.eq("[full] thinpool_mode{mode=ro}", full.value("thinpool_mode", mode="ro", **SEL), 1.0)
    state, grown = c.check_checkpoint("grown")
    c.check_lvs("grown", state, grown)
    c.eq("[grown] thinpool_mode{mode=rw}", grown.value("thinpool_mode", mode="rw", **SEL), 1.0)
    c.eq("[grown] thinpool_metadata_size_bytes (2 MiB + 4 MiB)", grown.value("thinpool_metadata_size_bytes", **SEL),
         float(6 << 20))
    msgs = (c.run / "results" / "thin-kernel-messages.txt").read_text()
    c.true("kernel logged 'No free metadata blocks'", "No free metadata blocks" in msgs, msgs)


main(check)
