"""Scenario 5: metadata used == size and mode ro when the kernel runs out; rw with a bigger size after growing."""
from e2e import main


def check(c):
    _, before = c.check_checkpoint("before")
    state, full = c.check_checkpoint("exhausted")
    c.true("[exhausted] the kernel reports meta-pool ro", " ro " in state.devices["meta-pool"].status[0][3],
           state.devices["meta-pool"].status[0][3])
    used = full.value("thinpool_metadata_used_bytes", pool="meta-pool")
    size = full.value("thinpool_metadata_size_bytes", pool="meta-pool")
    c.eq("[exhausted] thinpool_metadata_used_bytes == thinpool_metadata_size_bytes", used, size)
    c.eq("[exhausted] thinpool_mode{mode=ro}", full.value("thinpool_mode", pool="meta-pool", mode="ro"), 1.0)
    state, grown = c.check_checkpoint("grown")
    c.eq("[grown] thinpool_mode{mode=rw}", grown.value("thinpool_mode", pool="meta-pool", mode="rw"), 1.0)
    c.true("[grown] metadata size grew", (grown.value("thinpool_metadata_size_bytes", pool="meta-pool") or 0) > (size or 0))
    c.true("[grown] metadata no longer full",
           (grown.value("thinpool_metadata_used_bytes", pool="meta-pool") or 0)
           < (grown.value("thinpool_metadata_size_bytes", pool="meta-pool") or 0))
    msgs = (c.run / "results" / "thin-kernel-messages.txt").read_text()
    c.true("kernel logged 'No free metadata blocks'", "No free metadata blocks" in msgs, msgs)
    c.true("kernel logged 'switching pool to write mode'", "switching pool to write mode" in msgs, msgs)


main(check)
