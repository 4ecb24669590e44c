"""What Prometheus scraped is what the kernel said: at each step of the chain the exporter equals dmsetup and lvs
(the chain's own checks, delivered alerts with labels and runbook_url, are in host-driver)."""
from e2e import main

VG, POOL = "cinder-volumes", "cinder-volumes-pool"
SEL = {"vg": VG, "lv": POOL}


def check(c):
    for name, low, high, mode in (("healthy", 0, 75, "rw"), ("metadata-warning", 75, 90, "rw"),
                                  ("metadata-critical", 90, 100, "rw"), ("read-only", 100, 101, "ro")):
        state, scrape = c.check_checkpoint(name)
        c.check_lvs(name, state, scrape)
        ratio = 100 * scrape.value("thinpool_metadata_used_bytes", **SEL) / scrape.value("thinpool_metadata_size_bytes", **SEL)
        c.true(f"[{name}] metadata use {ratio:.2f}% in [{low}, {high})", low <= ratio < high)
        c.eq(f"[{name}] thinpool_mode{{mode={mode}}}", scrape.value("thinpool_mode", mode=mode, **SEL), 1.0)
    state, scrape = c.check_checkpoint("transaction-id-mismatch")
    kernel = scrape.value("thinpool_transaction_id", **SEL)
    c.eq("[transaction-id-mismatch] thinpool_lvm_transaction_id (LVM's, bumped)",
         scrape.value("thinpool_lvm_transaction_id", **SEL), kernel + 1 if kernel is not None else None)


main(check)
