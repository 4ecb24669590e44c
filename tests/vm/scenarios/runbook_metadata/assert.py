"""The runbook's diagnose and grow-metadata blocks on a pool whose metadata the kernel ran full: afterwards the pool
is rw in the exporter's scrape and in dmsetup, writes work and a new thin volume exists (exported and in lvs)."""
from e2e import main

VG, POOL = "cinder-volumes", "cinder-volumes-pool"
SEL = {"vg": VG, "lv": POOL}


def check(c):
    results = c.run / "results"
    state, full = c.check_checkpoint("full")
    c.check_lvs("full", state, full)
    c.eq("[full] lvs Meta% (the scenario must have filled it)", state.lv(VG, POOL)["metadata_percent"], "100.00")
    c.eq("[full] thinpool_mode{mode=ro}", full.value("thinpool_mode", mode="ro", **SEL), 1.0)
    c.eq("[full] thinpool_metadata_used_bytes == thinpool_metadata_size_bytes",
         full.value("thinpool_metadata_used_bytes", **SEL), full.value("thinpool_metadata_size_bytes", **SEL))

    diagnose = (results / "diagnose.out").read_text()
    c.true("diagnose showed the pool's row with Meta% 100.00", "100.00" in diagnose, diagnose)
    grow = (results / "grow-metadata.out").read_text()
    c.remember("the runbook's grow-metadata block said", grow)
    c.true("grow-metadata said how much it grows", "growing by 2 MiB" in grow, grow)

    for name in ("grown", "after-lvcreate"):
        state, scrape = c.check_checkpoint(name)
        c.check_lvs(name, state, scrape)
        pool = next(p for p in state.pools() if p.lvm_names == (VG, POOL))
        c.eq(f"[{name}] dmsetup status mode", pool.status[0][3].split()[4], "rw")
        c.eq(f"[{name}] thinpool_mode{{mode=rw}}", scrape.value("thinpool_mode", mode="rw", **SEL), 1.0)
        c.eq(f"[{name}] thinpool_metadata_size_bytes (2 MiB doubled by the runbook)",
             scrape.value("thinpool_metadata_size_bytes", **SEL), float(4 << 20))
        c.eq(f"[{name}] thinpool_lvm_metadata_lv_size_bytes",
             scrape.value("thinpool_lvm_metadata_lv_size_bytes", pool=pool.name, **SEL), float(4 << 20))
        c.eq(f"[{name}] thinpool_needs_check", scrape.value("thinpool_needs_check", **SEL), 0.0)
    c.true("a 4 MiB write to unprovisioned blocks of the old volume worked and read back",
           (results / "write-ok").exists(), (results / "write.err").read_text() if (results / "write.err").exists() else "")
    after = c.scrape("after-lvcreate")
    c.eq("[after-lvcreate] the new thin volume is exported with its size",
         after.value("thinpool_volume_size_bytes", vg=VG, lv="volume-after-grow"), float(256 << 20))
    c.eq("[after-lvcreate] thinpool_thin_volumes", after.value("thinpool_thin_volumes", **SEL), 2.0)
    grown_data = c.scrape("grown").value("thinpool_data_size_bytes", **SEL)
    after_data = after.value("thinpool_data_size_bytes", **SEL)
    c.true(f"[after-lvcreate] grow-data: data size {after_data} is 1 GiB + 10% (102 or 103 extents of 1 MiB)",
           after_data in (float((1024 + 102) << 20), float((1024 + 103) << 20)))
    c.true(f"[after-lvcreate] grow-data grew the pool's data ({grown_data} -> {after_data})",
           grown_data is not None and after_data is not None and after_data > grown_data)
    msgs = (results / "thin-kernel-messages.txt").read_text()
    c.remember("kernel messages (device-mapper: thin)", msgs)
    c.true("kernel logged 'No free metadata blocks'", "No free metadata blocks" in msgs, msgs)
    c.true("kernel logged growing the metadata device", "growing the metadata device" in msgs, msgs)
    c.true("kernel logged switching the pool to write mode", "switching pool to write mode" in msgs, msgs)


main(check)
