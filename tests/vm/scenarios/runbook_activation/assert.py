"""Pools whose activation fails on thin_check, and the runbook that brings them back, on real lvm2: the exporter
reports them with thinpool_lvm_pool_active 0 while they are down (and ThinPoolInactive's expression, as shipped,
selects exactly them), the runbook's blocks say why and repair them (lvconvert --repair; the manual thin_repair and
swap), and afterwards each pool is active, rw, without needs_check, with its thin volumes' data unchanged. A pool
inactive on purpose is recognised as such. grow-metadata-to-estimate grows a pool's metadata to lvm2's estimate.
The VG's metadata area series equal what lvm2 reports for the PV."""
from pathlib import Path

import yaml

from e2e import main, promtool_series, run_promtool_test

REPO = Path(__file__).resolve().parents[4]
VG = "vg-act"
MIB = 1024 * 1024


def dm(lv, layer="tpool"):
    return f"{VG.replace('-', '--')}-{lv.replace('-', '--')}" + (f"-{layer}" if layer else "")


def check_lvs_of_active(c, checkpoint, state, scrape):
    """Checker.check_lvs for the LVs the kernel has: an inactive pool has no usage to compare (lvs shows none)."""
    state.lvs = [lv for lv in state.lvs if lv.get("segtype") != "thin-pool" or lv.get("lv_attr", "    ")[4] == "a"]
    c.check_lvs(checkpoint, state, scrape)


def lvs_row(state, lv):
    return state.lv(VG, lv) or {}


def check(c):
    results = c.run / "results"
    out = lambda name: (results / f"{name}.out").read_text()
    rc = lambda name: int((results / f"{name}.rc").read_text())

    # built: four active pools, everything equal to dmsetup and lvs.
    state, built = c.check_checkpoint("built")
    check_lvs_of_active(c, "built", state, built)
    for lv in ("keeper", "pool-a", "pool-b", "small"):
        pool = dm(lv) if lv != "small" else None
        active = [(l, v) for l, v in built.series("thinpool_lvm_pool_active", vg=VG, lv=lv)]
        c.eq(f"[built] thinpool_lvm_pool_active{{lv={lv}}} (one series, active)", [v for _, v in active], [1.0])
        if pool and active:
            c.eq(f"[built] thinpool_lvm_pool_active{{lv={lv}}} names the pool's dm device", active[0][0]["pool"], pool)

    # broken: pool-a and pool-b inactive with damaged metadata.
    state, broken = c.check_checkpoint("broken")
    check_lvs_of_active(c, "broken", state, broken)
    for lv in ("pool-a", "pool-b"):
        c.eq(f"[broken] thinpool_lvm_pool_active{{pool=\"\",lv={lv}}}",
             broken.value("thinpool_lvm_pool_active", pool="", vg=VG, lv=lv), 0.0)
        c.eq(f"[broken] no kernel series for {lv}", broken.series("thinpool_info", vg=VG, lv=lv), [])
        c.eq(f"[broken] LVM still counts {lv}'s thin LVs (two volumes and a snapshot)",
             broken.value("thinpool_lvm_thin_volumes", pool="", vg=VG, lv=lv), 3.0)
    c.eq("[broken] keeper stays active", broken.value("thinpool_lvm_pool_active", pool=dm("keeper"), vg=VG,
                                                        lv="keeper"), 1.0)
    check_inactive_expr(c, broken, {"pool-a", "pool-b"})

    # pool-a: the blocks' verdicts, then lvconvert --repair.
    c.eq("inactive-pool on pool-a succeeds (read-only)", rc("inactive-pool-a"), 0)
    c.true("inactive-pool finds no deliberate mark on pool-a",
           "nothing marks it as inactive on purpose" in out("inactive-pool-a"), out("inactive-pool-a"))
    c.true("activate-pool on pool-a fails", rc("activate-pool-a") != 0, out("activate-pool-a"))
    c.true("activate-pool shows lvm2's thin_check refusal and sends to the repair",
           "Check of pool vg-act/pool-a failed" in out("activate-pool-a") and "bad checksum" in out("activate-pool-a")
           and "repair-pool" in out("activate-pool-a"), out("activate-pool-a"))
    c.eq("repair-pool on pool-a succeeds", rc("repair-pool-a"), 0)
    c.remember("repair-pool on pool-a said", out("repair-pool-a"))
    state, repaired = c.check_checkpoint("repaired")
    check_lvs_of_active(c, "repaired", state, repaired)
    check_back(c, "repaired", state, repaired, "pool-a", "pool-a_meta0")
    c.eq("pool-a's thin volumes after lvconvert --repair (md5 of each)", sums(results, "after", "pool-a"),
         sums(results, "before", "pool-a"))

    # pool-b: its _tmeta active on its own; the blocks say so; then the manual repair.
    c.true("the guest activated pool-b's _tmeta as a component",
           "Allowing activation of component LV" in (results / "component.out").read_text(),
           (results / "component.out").read_text())
    c.true("inactive-pool names pool-b's _tmeta active on its own",
           "pool-b_tmeta is active on its own" in out("inactive-pool-b"), out("inactive-pool-b"))
    c.true("activate-pool on pool-b fails with lvm2's 'prohibited' message and says what to deactivate",
           rc("activate-pool-b") != 0 and "Activation of logical volume vg-act/pool-b is prohibited while logical "
           "volume vg-act/pool-b_tmeta is active" in out("activate-pool-b") and "sub-LV is active on its own"
           in out("activate-pool-b"), out("activate-pool-b"))
    c.eq("repair-pool-manually on pool-b succeeds", rc("repair-pool-manually-b"), 0)
    c.true("repair-pool-manually saw thin_check fail, then repaired",
           "bad checksum" in out("repair-pool-manually-b") and "thin_check found the damage above"
           in out("repair-pool-manually-b"), out("repair-pool-manually-b"))
    state, manual = c.check_checkpoint("repaired-manually")
    check_lvs_of_active(c, "repaired-manually", state, manual)
    check_back(c, "repaired-manually", state, manual, "pool-b", "pool-b_unrepaired")
    c.eq("pool-b's thin volumes after the manual repair (md5 of each)", sums(results, "after", "pool-b"),
         sums(results, "before", "pool-b"))

    # pool-b inactive on purpose: recognised, reported 0, then activated again with its data.
    c.eq("inactive-pool on the deliberately inactive pool-b succeeds", rc("inactive-pool-b-deliberate"), 0)
    c.true("inactive-pool says pool-b is left out of the activation at boot on purpose",
           "autoactivation is disabled for the LV" in out("inactive-pool-b-deliberate")
           and "nothing marks it" not in out("inactive-pool-b-deliberate"), out("inactive-pool-b-deliberate"))
    _, deliberate = c.check_checkpoint("deliberate")
    c.eq("[deliberate] thinpool_lvm_pool_active{pool=\"\",lv=pool-b}",
         deliberate.value("thinpool_lvm_pool_active", pool="", vg=VG, lv="pool-b"), 0.0)
    c.eq("activate-pool activates the deliberately inactive pool-b", rc("activate-pool-b-again"), 0)
    c.eq("pool-b's thin volumes after activate-pool", sums(results, "again", "pool-b"), sums(results, "before", "pool-b"))

    # small: grown to lvm2's estimate (64 bytes per chunk), from the exporter's own data size and chunk size.
    state, resized = c.check_checkpoint("resized")
    check_lvs_of_active(c, "resized", state, resized)
    found = resized.series("thinpool_info", vg=VG, lv="small")
    small = {"pool": found[0][0]["pool"] if found else "", "vg": VG, "lv": "small"}
    data = resized.value("thinpool_data_size_bytes", **small)
    chunk = resized.value("thinpool_data_block_size_bytes", **small)
    estimate = min(max(64 * data / chunk, 2 * MIB), 16978542592) if data and chunk else None
    c.eq("lvm2's estimate for small (4 GiB of 64 KiB chunks)", estimate, float(4 * MIB))
    c.eq("[resized] lvs lv_metadata_size of small equals the estimate",
         float(lvs_row(state, "small").get("lv_metadata_size", "nan")), estimate)
    c.eq("[resized] thinpool_lvm_metadata_lv_size_bytes of small equals the estimate",
         resized.value("thinpool_lvm_metadata_lv_size_bytes", **small), estimate)
    c.eq("[resized] thinpool_metadata_size_bytes (kernel) of small equals the estimate",
         resized.value("thinpool_metadata_size_bytes", **small), estimate)
    c.eq("grow-metadata-to-estimate succeeds", rc("grow-metadata-to-estimate"), 0)
    c.true("grow-metadata-to-estimate said what it grows and ran lvextend",
           "metadata 2097152 bytes, lvm2's estimate 4194304 bytes" in out("grow-metadata-to-estimate")
           and "small_tmeta changed from 2.00 MiB" in out("grow-metadata-to-estimate"), out("grow-metadata-to-estimate"))
    c.true("the second run of grow-metadata-to-estimate does nothing", rc("grow-metadata-to-estimate-again") == 0
           and "nothing to do" in out("grow-metadata-to-estimate-again"), out("grow-metadata-to-estimate-again"))

    # The VG's metadata area as lvm2 sees it (vgs): the area size, and the text size against what is left.
    mda = (results / "mda-before").read_text().split()
    c.eq("vgs vg_mda_size and vg_mda_free did not move during the scrape", (results / "mda-after").read_text().split(),
         mda)
    size, used = (resized.value(f"thinpool_lvm_metadata_area_{k}_bytes", vg=VG) for k in ("size", "used"))
    c.eq("[resized] thinpool_lvm_metadata_area_size_bytes equals vgs vg_mda_size (lvm2's default 1020 KiB)",
         size, float(mda[0]))
    if size is not None and used is not None:
        limit = (size - 512) / 2 - 512
        c.true("[resized] thinpool_lvm_metadata_area_used_bytes: lvm2's limit less the text is vgs vg_mda_free "
               "within a sector either way (lvm2 rounds its free space to sectors)",
               abs((limit - used) - float(mda[1])) < 1024,
               f"limit {limit:.0f}, used {used:.0f}, vg_mda_free {mda[1]}")
    else:
        c.true("[resized] thinpool_lvm_metadata_area_used_bytes is exported", False, f"size {size}, used {used}")
    c.remember("lvs at the end", (results / "lvs-final").read_text())
    c.remember("kernel messages (device-mapper: thin)", (results / "thin-kernel-messages.txt").read_text())


def sums(results, when, pool):
    return (results / f"sums-{when}-{pool}").read_text().splitlines()


def check_back(c, checkpoint, state, scrape, lv, kept):
    """The pool is active under its dm name, rw, without needs_check; the old metadata is kept in LV `kept`."""
    labels = {"pool": dm(lv), "vg": VG, "lv": lv}
    c.eq(f"[{checkpoint}] thinpool_lvm_pool_active{{lv={lv}}}", scrape.value("thinpool_lvm_pool_active", **labels), 1.0)
    c.eq(f"[{checkpoint}] no inactive series left for {lv}",
         scrape.series("thinpool_lvm_pool_active", pool="", vg=VG, lv=lv), [])
    c.eq(f"[{checkpoint}] thinpool_mode{{mode=rw}} of {lv}", scrape.value("thinpool_mode", mode="rw", **labels), 1.0)
    c.eq(f"[{checkpoint}] thinpool_needs_check of {lv}", scrape.value("thinpool_needs_check", **labels), 0.0)
    pool = next((p for p in state.pools() if p.name == dm(lv)), None)
    c.true(f"[{checkpoint}] dmsetup status of {lv}: rw, no needs_check",
           pool is not None and pool.status[0][3].split()[4] == "rw" and pool.status[0][3].split()[7] == "-",
           pool.status[0][3] if pool else "no pool device")
    c.eq(f"[{checkpoint}] thinpool_thin_volumes of {lv} (two volumes and the snapshot, active again)",
         scrape.value("thinpool_thin_volumes", **labels), 3.0)
    c.true(f"[{checkpoint}] the old metadata is kept as {kept}", lvs_row(state, kept) != {},
           ", ".join(x["lv_name"] for x in state.lvs))


def check_inactive_expr(c, scrape, want):
    """ThinPoolInactive's expression as shipped (alerts/thinpool_alerts.yml), evaluated by promtool on the exporter's
    series of this scrape: it selects exactly the pools in `want`."""
    alerts = yaml.safe_load((REPO / "alerts" / "thinpool_alerts.yml").read_text())
    expr = next(r["expr"] for g in alerts["groups"] for r in g["rules"] if r.get("alert") == "ThinPoolInactive")
    series = promtool_series(scrape, prefix="thinpool_lvm_", minutes=20)
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": series,
            "promql_expr_test": [{
                "expr": expr, "eval_time": "10m",
                "exp_samples": [{"labels": f'thinpool_lvm_pool_active{{job="thinpool",instance="vm:9966",vg="{VG}",'
                                           f'lv="{lv}"}}', "value": 0} for lv in sorted(want)],
            }],
        }],
    }
    run = run_promtool_test(test, "inactive_from_the_vm")
    c.remember("promtool on ThinPoolInactive's expression", run.stdout + run.stderr)
    c.eq(f"[broken] ThinPoolInactive's expression ({expr}) selects {sorted(want)} (promtool exit code)",
         run.returncode, 0)


main(check)
