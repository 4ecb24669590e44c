"""Scenario: undersized metadata on real lvm2. The exporter equals the kernel and lvs; then the exporter's own series
go through the mixin's recording rules and ThinPoolMetadataUndersized's expression (promtool, the rule files as
shipped): `big` is undersized by lvm2's estimate, `snappy` by its projection, `healthy` and `fresh` are not; and an
empty pool uses at most the fixed part the rules assume besides the kernel's reserve."""
from pathlib import Path

import yaml

from e2e import main, promtool_series, run_promtool_test

REPO = Path(__file__).resolve().parents[4]
MIB = 1024 * 1024


def pool_labels(scrape, lv):
    found = [l for l, _ in scrape.series("thinpool_info", vg="vgu", lv=lv)]
    return {"pool": found[0]["pool"], "vg": "vgu", "lv": lv} if found else None


def check(c):
    state, scrape = c.check_checkpoint("sized")
    c.check_lvs("sized", state, scrape)
    c.remember("lvcreate of the 8 GiB pool with 2 MiB of metadata", (c.run / "results" / "lvcreate-big.out").read_text())
    pools = {lv: pool_labels(scrape, lv) for lv in ("big", "snappy", "healthy", "fresh")}
    c.true("all four pools exported", all(pools.values()), str(pools))
    if not all(pools.values()):
        return

    # What an empty pool uses besides the kernel's reserve (min(4096 blocks, 10% of the device)): the rules take
    # it as 10 blocks (metadataEmptyPoolBlocks).
    fresh = pools["fresh"]
    used = scrape.value("thinpool_metadata_used_bytes", **fresh)
    size = scrape.value("thinpool_metadata_size_bytes", **fresh)
    reserve = min(4096, int(size // 4096) // 10) * 4096
    bitmaps = -(-int(scrape.value("thinpool_data_size_bytes", **fresh) // scrape.value(
        "thinpool_data_block_size_bytes", **fresh)) // 16320)
    c.true("an empty pool uses at most what the rules take as fixed besides the reserve (9 blocks and a bitmap "
           "block per 16,320 data blocks)", used - reserve <= (9 + bitmaps) * 4096,
           f"used {used:.0f} of {size:.0f} bytes, reserve {reserve}: {(used - reserve) / 4096:.0f} blocks, "
           f"{bitmaps} bitmap blocks")

    data_share = {lv: scrape.value("thinpool_data_used_bytes", **p) / scrape.value("thinpool_data_size_bytes", **p)
                  for lv, p in pools.items()}
    c.true("big and snappy hold enough data for a projection (2%), fresh none", data_share["big"] >= 0.02 and
           data_share["snappy"] >= 0.02 and data_share["fresh"] < 0.02, str(data_share))

    alerts = yaml.safe_load((REPO / "alerts" / "thinpool_alerts.yml").read_text())
    expr = next(r["expr"] for g in alerts["groups"] for r in g["rules"] if r.get("alert") == "ThinPoolMetadataUndersized")
    out = lambda lv: "{" + ",".join(f'{k}="{v}"' for k, v in dict(job="thinpool", instance="vm:9966", **pools[lv]).items()) + "}"
    test = {
        "rule_files": [str(REPO / "alerts" / "thinpool_rules.yml")],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": promtool_series(scrape),
            "promql_expr_test": [
                # lvm2's estimate for 8 GiB of 64 KiB chunks: 64 bytes a chunk.
                {"expr": 'thinpool:metadata_lvm_estimate:bytes{lv="big"}', "eval_time": "10m",
                 "exp_samples": [{"labels": "thinpool:metadata_lvm_estimate:bytes" + out("big"), "value": 8 * MIB}]},
                # The alert's condition, as shipped: big (estimate) and snappy (projection), not healthy or fresh.
                {"expr": f"({expr}) > bool 0", "eval_time": "10m",
                 "exp_samples": [{"labels": out("big"), "value": 1}, {"labels": out("snappy"), "value": 1}]},
                # snappy's projection alone exceeds its metadata; healthy's does not.
                {"expr": "thinpool:metadata_needed_at_full_data:bytes{lv=~'snappy|healthy'} > bool "
                         "on(job, instance, pool, vg, lv) thinpool_metadata_size_bytes", "eval_time": "10m",
                 "exp_samples": [{"labels": out(lv), "value": 1 if lv == "snappy" else 0}
                                 for lv in ("snappy", "healthy")]},
            ],
        }],
    }
    run = run_promtool_test(test, "undersized_from_the_vm")
    c.remember("promtool", run.stdout + run.stderr)
    c.eq("promtool: the rules on the exporter's series (exit code)", run.returncode, 0)
    needed = {}
    for lv in ("big", "snappy", "healthy"):
        p = pools[lv]
        u, s = scrape.value("thinpool_metadata_used_bytes", **p), scrape.value("thinpool_metadata_size_bytes", **p)
        r = min(16 * MIB, (s // 40960) * 4096)
        d = scrape.value("thinpool_data_size_bytes", **p)
        fixed = (9 + -(-int(d // scrape.value("thinpool_data_block_size_bytes", **p)) // 16320)) * 4096
        needed[lv] = (u - r - fixed) / scrape.value("thinpool_data_used_bytes", **p) * d + r + fixed
    inactive_state, inactive = c.check_checkpoint("inactive")
    c.remember("lvs after the deactivation", (c.run / "results" / "lvs-inactive").read_text())
    snappy = pools["snappy"]
    c.eq("[inactive] the kernel counts the active thin volumes of snappy (origin and 16 snapshots)",
         inactive.value("thinpool_thin_volumes", **snappy), 17.0)
    c.eq("[inactive] LVM counts the inactive snapshot too", inactive.value("thinpool_lvm_thin_volumes", **snappy), 18.0)
    c.eq("[inactive] of which thin snapshots", inactive.value("thinpool_lvm_snapshots", **snappy), 17.0)
    c.eq("[inactive] LVM's provisioned bytes (eighteen 1 GiB volumes)",
         inactive.value("thinpool_lvm_provisioned_bytes", **snappy), 18.0 * 1024 * MIB)
    c.eq("[inactive] snappy is active", inactive.value("thinpool_lvm_pool_active", **snappy), 1.0)
    c.eq("[inactive] the deactivated pool: active 0, without a dm name",
         inactive.value("thinpool_lvm_pool_active", pool="", vg="vgu", lv="fresh"), 0.0)
    c.eq("[inactive] and the kernel has no series for it", inactive.series("thinpool_info", vg="vgu", lv="fresh"), [])
    c.eq("[inactive] its thin LV still counted by LVM",
         inactive.value("thinpool_lvm_thin_volumes", pool="", vg="vgu", lv="fresh"), 1.0)
    print("undersized_metadata: metadata needed at full data " +
          ", ".join(f"{lv} {needed[lv] / MIB:.1f} MiB of {scrape.value('thinpool_metadata_size_bytes', **pools[lv]) / MIB:.0f} MiB"
                    for lv in needed) + f"; data used {', '.join(f'{lv} {100 * v:.1f}%' for lv, v in data_share.items())}")


main(check)
