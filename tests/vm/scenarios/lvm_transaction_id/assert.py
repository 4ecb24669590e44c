"""Issue 5 on a real kernel and real lvm2: the transaction id mismatch made with vgcfgbackup/vgcfgrestore --force is
visible within one scrape (kernel id != LVM id, same pool/vg/lv labels, source pv), lvcreate fails; the runbook's
fix makes them equal and lvcreate works. The lvm collector's VG size and free space equal vgs as the VG fills."""
from e2e import main

VG, POOL = "cinder-volumes", "cinder-volumes-pool"
DM_POOL = "cinder--volumes-cinder--volumes--pool-tpool"
POOL_LABELS = {"pool": DM_POOL, "vg": VG, "lv": POOL}
CHECKPOINTS = ["healthy", "fill-1", "mismatch", "fixed", "created", "repaired", "vg-full"]
MISMATCHED = {"mismatch"}


def vgs(c, name):
    """vgs --units b -o vg_size,vg_free,vg_seqno,vg_extent_size,vg_free_count, before and after the scrape."""
    before = (c.run / "results" / f"vgs-{name}.txt").read_text().split()
    after = (c.run / "results" / f"vgs-{name}-after.txt").read_text().split()
    c.true(f"[{name}] vgs unchanged while the host scraped", before == after, f"{before} / {after}")
    size, free, seqno, extent, free_count = (int(x) for x in before)
    return {"size": size, "free": free, "seqno": seqno, "extent": extent, "free_count": free_count}


def lvm_series(c, name, scrape):
    """The lvm collector's view of the pool and VG: present, read from the PV, with the core series' labels."""
    c.eq(f"[{name}] thinpool_scrape_collector_success{{collector=\"lvm\"}}",
         scrape.value("thinpool_scrape_collector_success", collector="lvm"), 1.0)
    c.eq(f"[{name}] thinpool_lvm_vg_read_success{{vg={VG}}}", scrape.value("thinpool_lvm_vg_read_success", vg=VG), 1.0)
    info = scrape.series("thinpool_lvm_vg_info", vg=VG)
    c.eq(f"[{name}] thinpool_lvm_vg_info{{vg={VG}}} source", [l.get("source") for l, _ in info], ["pv"])
    kernel = scrape.series("thinpool_transaction_id", vg=VG, lv=POOL)
    lvm = scrape.series("thinpool_lvm_transaction_id", vg=VG, lv=POOL)
    c.eq(f"[{name}] thinpool_transaction_id labels", [l for l, _ in kernel], [POOL_LABELS])
    c.eq(f"[{name}] thinpool_lvm_transaction_id labels (identical to thinpool_transaction_id's)",
         [l for l, _ in lvm], [l for l, _ in kernel])
    return (kernel[0][1] if kernel else None), (lvm[0][1] if lvm else None)


def check(c):
    previous_free = None
    for name in CHECKPOINTS:
        state, scrape = c.check_checkpoint(name)
        kernel_tid, lvm_tid = lvm_series(c, name, scrape)
        pool_lv = state.lv(VG, POOL)
        status_tid = next(int(p.status[0][3].split()[0]) for p in state.pools() if p.name == DM_POOL)
        c.eq(f"[{name}] thinpool_lvm_transaction_id (exporter vs lvs transaction_id)", lvm_tid,
             float(pool_lv["transaction_id"]))
        c.eq(f"[{name}] thinpool_lvm_metadata_lv_size_bytes (exporter vs lvs lv_metadata_size)",
             scrape.value("thinpool_lvm_metadata_lv_size_bytes", **POOL_LABELS), float(pool_lv["lv_metadata_size"]))
        if name in MISMATCHED:
            # lvs reports LVM's id: compare the kernel's with dmsetup only (check_checkpoint did), not with lvs.
            c.true(f"[{name}] within one scrape: thinpool_transaction_id {kernel_tid} != thinpool_lvm_transaction_id "
                   f"{lvm_tid}", kernel_tid is not None and lvm_tid is not None and kernel_tid != lvm_tid)
            c.eq(f"[{name}] LVM expects the kernel's id + 1 (the bump)", lvm_tid, float(status_tid + 1))
        else:
            c.check_lvs(name, state, scrape)
            c.eq(f"[{name}] thinpool_transaction_id == thinpool_lvm_transaction_id", lvm_tid, kernel_tid)
        v = vgs(c, name)
        c.eq(f"[{name}] thinpool_lvm_vg_size_bytes (exporter vs vgs vg_size)",
             scrape.value("thinpool_lvm_vg_size_bytes", vg=VG), float(v["size"]))
        c.eq(f"[{name}] thinpool_lvm_vg_free_bytes (exporter vs vgs vg_free)",
             scrape.value("thinpool_lvm_vg_free_bytes", vg=VG), float(v["free"]))
        c.eq(f"[{name}] thinpool_lvm_metadata_seqno (exporter vs vgs vg_seqno)",
             scrape.value("thinpool_lvm_metadata_seqno", vg=VG), float(v["seqno"]))
        if name.startswith("fill-") or name == "vg-full":
            c.true(f"[{name}] the VG filled (vg_free {v['free']} < {previous_free})", previous_free is None
                   or v["free"] < previous_free)
        previous_free = v["free"]
    c.eq("[vg-full] vgs vg_free (the scenario must have filled the VG)", vgs(c, "vg-full")["free"], 0)

    results = c.run / "results"
    log = (results / "exporter.log").read_text()
    c.true("the exporter read the PVs with dropped privileges and its seccomp filter installed",
           "seccomp: filter installed" in log and "keeping cap_sys_admin" in log, log[-1500:])
    out = (results / "lvcreate-mismatch.out").read_text()
    c.remember("lvcreate during the mismatch (lvm2's message)", out)
    c.true("lvcreate failed during the mismatch", (results / "lvcreate-mismatch.rc").read_text().strip() != "0", out)
    c.true("lvcreate's message names the transaction id", "transaction" in out.lower(), out)
    print("lvcreate during the mismatch said:\n" + "".join("    " + line + "\n" for line in out.splitlines()))
    c.eq("lvcreate after the runbook's fix: exit status", (results / "lvcreate-fixed.rc").read_text().strip(), "0")
    fix = (results / "fix-transaction-id.out").read_text()
    c.remember("the runbook's fix-transaction-id block said", fix)
    repaired_state, repaired = c.state("repaired"), c.scrape("repaired")
    c.remember("the runbook's repair-pool block said", (results / "repair-pool.out").read_text())
    c.eq("[repaired] thinpool_mode{mode=rw}", repaired.value("thinpool_mode", mode="rw", **POOL_LABELS), 1.0)
    c.eq("[repaired] thinpool_metadata_size_bytes (4 MiB doubled by repair-pool)",
         repaired.value("thinpool_metadata_size_bytes", **POOL_LABELS), float(8 << 20))
    c.true("[repaired] the old metadata is kept as cinder-volumes-pool_meta0",
           repaired_state.lv(VG, "cinder-volumes-pool_meta0") is not None)
    c.eq("[repaired] both thin volumes active and exported again",
         sorted(l["lv"] for l, _ in repaired.series("thinpool_volume_size_bytes", vg=VG)), ["volume-1", "volume-2"])
    created = c.scrape("created")
    c.true("[created] volume-2 is exported", created.value("thinpool_volume_size_bytes", vg=VG, lv="volume-2")
           == float(64 << 20))


main(check)
