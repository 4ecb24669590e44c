"""Scenario: thin pools whose sub-LVs are layered (mirrored metadata, raid1 data, data behind a dm-cache) and a VG
on a PV that is a device-mapper device, on real lvm2. At each checkpoint: the layering is really there (the kernel's
tables of the _tmeta and _tdata LVs are raid and cache targets, the VG's PV a dm map); the exporter lists exactly
the kernel's four pools and their thin volumes with the kernel's figures, points each pool's metadata_dev and
data_dev at its _tmeta and _tdata devices, and agrees with lvs (Data%, Meta%, transaction id, sizes) and with LVM's
metadata (each pool active, its transaction id and metadata LV size, its thin LVs and snapshots, the VGs' size and
free space). After the mirrored metadata and the raid1 data are grown with lvextend, the kernel's and LVM's new
sizes."""
import json

from e2e import main

POOLS = {  # pool LV in vgl or vgdm -> (kernel target of its _tmeta, of its _tdata)
    ("vgl", "rmeta"): ("raid", "linear"),
    ("vgl", "rdata"): ("raid", "raid"),
    ("vgl", "cached"): ("linear", "cache"),
    ("vgdm", "pool"): ("linear", "linear"),
}
MIB = 1024 * 1024


def check_layering(c, checkpoint, state, scrape):
    """The sub-LVs are the targets the scenario built, and thinpool_info names them."""
    for (vg, lv), (meta_target, data_target) in POOLS.items():
        where = f"[{checkpoint}] {vg}/{lv}"
        tmeta = state.devices.get(f"{vg}-{lv}_tmeta")
        tdata = state.devices.get(f"{vg}-{lv}_tdata")
        if not c.true(f"{where}: its _tmeta and _tdata are active", tmeta is not None and tdata is not None):
            continue
        c.eq(f"{where}: the kernel's target of _tmeta", tmeta.table[0][2], meta_target)
        c.eq(f"{where}: the kernel's target of _tdata", tdata.table[0][2], data_target)
        info = scrape.series("thinpool_info", vg=vg, lv=lv)
        if c.true(f"{where}: thinpool_info exported", len(info) == 1, str(info)):
            c.eq(f"{where}: thinpool_info metadata_dev is _tmeta", info[0][0].get("metadata_dev"), tmeta.devnum)
            c.eq(f"{where}: thinpool_info data_dev is _tdata", info[0][0].get("data_dev"), tdata.devnum)
    pv = state.devices.get("pvdm")
    if c.true(f"[{checkpoint}] the PV of vgdm is a device-mapper device", pv is not None):
        c.eq(f"[{checkpoint}] pvdm's target", pv.table[0][2], "linear")
        tdata = state.devices.get("vgdm-pool_tdata")
        if tdata is not None:
            c.eq(f"[{checkpoint}] vgdm/pool's data is on pvdm", tdata.table[0][3].split()[0], pv.devnum)


def check_lvm(c, checkpoint, scrape):
    """LVM's metadata as the exporter read it from the PVs, against lvs and vgs."""
    c.eq(f"[{checkpoint}] lvm collector succeeded",
         scrape.value("thinpool_scrape_collector_success", collector="lvm"), 1.0)
    vgs = c.check_lvm_vgs(checkpoint, scrape)
    c.eq(f"[{checkpoint}] VGs (vgs)", sorted(vgs), ["vgdm", "vgl"])
    lvs = c.lvm_report(checkpoint, "lvs")
    c.remember(f"lvs -a at '{checkpoint}'", json.dumps(lvs, indent=1))
    pools = [row for row in lvs if row["segtype"] == "thin-pool"]
    c.eq(f"[{checkpoint}] thin pools (lvs)", sorted((r["vg_name"], r["lv_name"]) for r in pools), sorted(POOLS))
    thin = [row for row in lvs if row["segtype"] == "thin"]
    for row in pools:
        vg, lv = row["vg_name"], row["lv_name"]
        where = f"[{checkpoint}] {vg}/{lv}"
        c.eq(f"{where}: active in LVM's view", scrape.value("thinpool_lvm_pool_active", vg=vg, lv=lv), 1.0)
        c.eq(f"{where}: LVM's transaction id", scrape.value("thinpool_lvm_transaction_id", vg=vg, lv=lv),
             float(row["transaction_id"]))
        c.eq(f"{where}: LVM's metadata LV size", scrape.value("thinpool_lvm_metadata_lv_size_bytes", vg=vg, lv=lv),
             float(row["lv_metadata_size"]))
        mine = [t for t in thin if t["vg_name"] == vg and t["pool_lv"] == lv]
        c.eq(f"{where}: LVM's thin LVs", scrape.value("thinpool_lvm_thin_volumes", vg=vg, lv=lv), float(len(mine)))
        c.eq(f"{where}: LVM's snapshots", scrape.value("thinpool_lvm_snapshots", vg=vg, lv=lv),
             float(sum(1 for t in mine if t["origin"])))
    exported = {(l["vg"], l["lv"]): l for l, _ in scrape.series("thinpool_lvm_volume_info")}
    c.eq(f"[{checkpoint}] thin LVs with a thinpool_lvm_volume_info", sorted(exported),
         sorted((t["vg_name"], t["lv_name"]) for t in thin))
    for t in thin:
        labels = exported.get((t["vg_name"], t["lv_name"]))
        if labels is not None:
            c.eq(f"[{checkpoint}] {t['vg_name']}/{t['lv_name']}: pool and origin", (labels["pool"], labels["origin"]),
                 (t["pool_lv"], t["origin"]))


def check(c):
    for checkpoint in ("layered", "grown"):
        state, scrape = c.check_checkpoint(checkpoint)
        c.eq(f"[{checkpoint}] four pools in the kernel", len(state.pools()), 4)
        c.eq(f"[{checkpoint}] a thin volume active in each pool (lvm2 leaves thin snapshots inactive)",
             len(state.thins()), 4)
        check_layering(c, checkpoint, state, scrape)
        c.check_lvs(checkpoint, state, scrape)
        check_lvm(c, checkpoint, scrape)

    # scrape is the "grown" checkpoint's.
    for vg, lv, metric, want in (
            ("vgl", "rmeta", "thinpool_metadata_size_bytes", 8 * MIB),
            ("vgl", "rmeta", "thinpool_lvm_metadata_lv_size_bytes", 8 * MIB),
            ("vgdm", "pool", "thinpool_metadata_size_bytes", 8 * MIB),
            ("vgl", "rdata", "thinpool_data_size_bytes", 192 * MIB),
            ("vgl", "cached", "thinpool_metadata_size_bytes", 4 * MIB)):
        c.eq(f"[grown] {vg}/{lv} {metric}", scrape.value(metric, vg=vg, lv=lv), float(want))


main(check)
