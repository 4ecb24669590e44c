"""Scenario: one thin pool with thousands of thin volumes on real lvm2, then churn at that size (LVs removed,
deactivated, a snapshot and new volumes made while the exporter runs). At each checkpoint: exactly the kernel's
volumes exported, each with the kernel's size and mapped bytes; the pool and every active thin LV agree with lvs
(Data%, Meta%, transaction id, sizes); every thin LV lvs lists, active or not, has its LVM series with its pool and
origin, and LVM's count of thin LVs and snapshots; every collector succeeded."""

from e2e import main

VG, POOL = "cinder-volumes", "cinder-volumes-pool"


def thin_lvs(c, checkpoint):
    return [row for row in c.lvm_report(checkpoint, "lvs") if row["segtype"] == "thin"]


def check_lvm(c, checkpoint, scrape, thin):
    for collector in ("lvm", "process", "build_info"):
        c.eq(f"[{checkpoint}] collector {collector} succeeded",
             scrape.value("thinpool_scrape_collector_success", collector=collector), 1.0)
    c.eq(f"[{checkpoint}] LVM's thin LVs in the pool",
         scrape.value("thinpool_lvm_thin_volumes", vg=VG, lv=POOL), float(len(thin)))
    c.eq(f"[{checkpoint}] LVM's snapshots in the pool", scrape.value("thinpool_lvm_snapshots", vg=VG, lv=POOL),
         float(sum(1 for t in thin if t["origin"])))
    exported = {(l["vg"], l["lv"]): l for l, _ in scrape.series("thinpool_lvm_volume_info")}
    c.eq(f"[{checkpoint}] thin LVs with a thinpool_lvm_volume_info (active or not)", sorted(exported),
         sorted((t["vg_name"], t["lv_name"]) for t in thin))
    wrong = [(t["lv_name"], exported[(t["vg_name"], t["lv_name"])])
             for t in thin if (t["vg_name"], t["lv_name"]) in exported and
             (exported[(t["vg_name"], t["lv_name"])]["pool"], exported[(t["vg_name"], t["lv_name"])]["origin"]) !=
             (t["pool_lv"], t["origin"])]
    c.true(f"[{checkpoint}] every thin LV's pool and origin as lvs says", not wrong, str(wrong[:5]))
    created = {l["lv"] for l, _ in scrape.series("thinpool_lvm_volume_creation_timestamp_seconds", vg=VG)}
    c.eq(f"[{checkpoint}] every thin LV has its creation time", sorted(created), sorted(t["lv_name"] for t in thin))


def check(c):
    # Nothing changed between the scrape right after the growth (the one that found the new devices and LVs) and
    # the first checkpoint.
    volumes = {l["volume"] for l, _ in c.scrape("grown").series("thinpool_volume_size_bytes")}
    c.eq("the scrape right after the growth lists every volume", sorted(volumes),
         sorted(t.name for t in c.state("scaled").thins()))
    c.eq("the scrape before the growth: the first volume", len(c.scrape("small").series("thinpool_volume_size_bytes")),
         1)
    for checkpoint in ("scaled", "churned"):
        state, scrape = c.check_checkpoint(checkpoint)
        c.check_lvs(checkpoint, state, scrape)
        thin = thin_lvs(c, checkpoint)
        check_lvm(c, checkpoint, scrape, thin)
        active = [t for t in thin if t["lv_attr"][4] == "a"]
        c.eq(f"[{checkpoint}] the kernel's volumes are lvs's active thin LVs",
             sorted(t.name for t in state.thins()),
             sorted(f"{VG.replace('-', '--')}-{t['lv_name'].replace('-', '--')}" for t in active))
        if checkpoint == "churned":
            c.eq("[churned] 20 removed, 100 added, a snapshot", len(thin), len(volumes) - 20 + 100 + 1)
            c.eq("[churned] of them 200 inactive", len(thin) - len(active), 200)


main(check)
