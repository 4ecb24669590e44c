"""Scenario: odd device names. Every pool and volume is exported, each under its exact name or, for bytes that are
not UTF-8, the documented \\xNN form; the kernel holds exactly the bytes names.py lists; nothing is left out."""
import os
import sys

from e2e import main

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import names  # noqa: E402


def check(c):
    kernel = {bytes.fromhex(line)[:-1] for line in (c.run / "results" / "kernel-names.hex").read_text().split()}
    c.eq("names the kernel holds, byte for byte", sorted(n for n in names.pools() + names.volumes() if n not in kernel),
         [])
    for checkpoint in ("odd", "odd-after"):
        scrape = c.scrape(checkpoint)
        for col in ("thinpool", "thin", "lvm"):
            c.eq(f"[{checkpoint}] thinpool_scrape_collector_success{{collector={col}}}",
                 scrape.value("thinpool_scrape_collector_success", collector=col), 1.0)
        pools = {l["pool"] for l, _ in scrape.series("thinpool_info")}
        c.eq(f"[{checkpoint}] pools exported", sorted(pools), sorted(names.label(p) for p in names.pools()))
        volumes = {l["volume"]: l["pool"] for l, _ in scrape.series("thinpool_volume_size_bytes")}
        want = {names.label(v): names.label(p) for p, v in names.ODD}
        want.update({names.label(v): names.label(p) for p, v in zip(names.ORDINARY_POOLS, names.ORDINARY_VOLUMES)})
        c.eq(f"[{checkpoint}] volumes exported, each with its pool", volumes, want)
        c.eq(f"[{checkpoint}] devices left out", [(l["reason"], v) for l, v in scrape.series(
            "thinpool_device_errors_total") if v != 0], [])
        c.eq(f"[{checkpoint}] the LVM pool's VG read", scrape.value("thinpool_lvm_vg_read_success", vg="vgo"), 1.0)
    log = (c.run / "results" / "exporter.log").read_text(errors="replace")
    c.eq("exporter log: nothing left out, no listing failure",
         [l for l in log.splitlines() if "leaving devices out" in l or "mangled" in l or "list devices" in l], [])
    c.eq("Prometheus ingested every pool and volume (host-driver)",
         (c.run / "results" / "ingested").read_text().strip(), "yes")


main(check)
