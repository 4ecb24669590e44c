"""Scenario 2: a dmsetup-made pool and its volumes have empty vg/lv and the kernel's values."""
from e2e import main


def check(c):
    state, scrape = c.check_checkpoint("plain")
    for name in ("thinpool_info", "thinpool_data_used_bytes", "thinpool_transaction_id"):
        c.eq(f"{name}{{pool=plain-pool}} vg/lv", [(l["vg"], l["lv"]) for l, _ in scrape.series(name, pool="plain-pool")],
             [("", "")])
    c.eq("transaction id set with set_transaction_id", scrape.value("thinpool_transaction_id", pool="plain-pool"), 2.0)
    c.eq("volume plain-thin7 device_id label",
         [l["device_id"] for l, _ in scrape.series("thinpool_volume_size_bytes", volume="plain-thin7")], ["7"])


main(check)
