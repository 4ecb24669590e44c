"""Scenario: LVM's whole picture from the PVs' labels, on real lvm2. At every checkpoint the VGs the exporter reports
are exactly the ones `vgs` lists, with vgs's size, free space, missing PV count and smallest metadata area; every
thin LV `lvs` lists (active or not) has its info and creation time; an inactive pool and an inactive thin snapshot
are counted by LVM's series and not by the kernel's. A detached PV is counted missing; a VG lvm.conf filters out
disappears; and a VG whose metadata area lvm2 no longer commits to shows its area nearly full."""
import calendar
import time

from e2e import main


def lv_time(text):
    """lvs's lv_time, "2026-12-06 09:30:00 +0000", as seconds since the epoch."""
    stamp, zone = text.rsplit(" ", 1)
    seconds = calendar.timegm(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))
    offset = (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60) * (1 if zone[0] == "+" else -1)
    return seconds - offset


def check_vgs(c, checkpoint, scrape):
    vgs = c.check_lvm_vgs(checkpoint, scrape)
    for name, row in vgs.items():
        c.eq(f"[{checkpoint}] {name}: vg_mda_size (the smallest area)",
             scrape.value("thinpool_lvm_metadata_area_size_bytes", vg=name), float(row["vg_mda_size"]))
        used = scrape.value("thinpool_lvm_metadata_area_used_bytes", vg=name)
        size = scrape.value("thinpool_lvm_metadata_area_size_bytes", vg=name)
        if c.true(f"[{checkpoint}] {name}: metadata text size exported", used is not None and size is not None):
            # vgs's vg_mda_free is lvm2's limit for one copy less the current text, in whole sectors.
            limit = (size - 512) // 2 - 512
            c.eq(f"[{checkpoint}] {name}: vg_mda_free from size and used", (limit - used) // 512 * 512,
                 float(row["vg_mda_free"]))
    return vgs


def check_lvs(c, checkpoint, scrape):
    lvs = c.lvm_report(checkpoint, "lvs")
    thin = [row for row in lvs if row["lv_attr"].startswith("V")]
    exported = {(l["vg"], l["lv"]): l for l, _ in scrape.series("thinpool_lvm_volume_info")}
    c.eq(f"[{checkpoint}] thin LVs with a thinpool_lvm_volume_info (active or not)", sorted(exported),
         sorted((row["vg_name"], row["lv_name"]) for row in thin))
    for row in thin:
        key = (row["vg_name"], row["lv_name"])
        labels = exported.get(key)
        if labels is None:
            continue
        c.eq(f"[{checkpoint}] {key}: pool", labels["pool"], row["pool_lv"])
        c.eq(f"[{checkpoint}] {key}: origin", labels["origin"], row["origin"])
        c.eq(f"[{checkpoint}] {key}: creation time",
             scrape.value("thinpool_lvm_volume_creation_timestamp_seconds", vg=key[0], lv=key[1]),
             float(lv_time(row["lv_time"])))
    return thin


def check(c):
    # All five VGs, the idle one with nothing active.
    state, scrape = c.check_checkpoint("scanned")
    vgs = check_vgs(c, "scanned", scrape)
    check_lvs(c, "scanned", scrape)
    c.eq("six VGs (vga, vgidle, vgmiss, vgnested on an LV, vgsmall, vgfilt)", sorted(vgs),
         ["vga", "vgfilt", "vgidle", "vgmiss", "vgnested", "vgsmall"])
    c.eq("lvm.conf read", scrape.value("thinpool_lvm_config_read_success"), 1.0)
    c.eq("vgidle's pool: inactive", scrape.value("thinpool_lvm_pool_active", pool="", vg="vgidle", lv="pool"), 0.0)
    c.eq("vgidle's pool: its thin LVs", scrape.value("thinpool_lvm_thin_volumes", vg="vgidle", lv="pool"), 2.0)
    c.eq("vgidle's pool: its snapshot", scrape.value("thinpool_lvm_snapshots", vg="vgidle", lv="pool"), 1.0)
    c.eq("vga's pool: active", scrape.value("thinpool_lvm_pool_active", vg="vga", lv="pool"), 1.0)
    c.eq("vga's pool: LVM counts the inactive snapshot",
         scrape.value("thinpool_lvm_thin_volumes", vg="vga", lv="pool"), 2.0)
    c.eq("vga's pool: the kernel does not", scrape.value("thinpool_thin_volumes", vg="vga", lv="pool"), 1.0)
    c.eq("vgsmall: the small metadata area pvcreate made (124 KiB: 64 KiB asked, grown to the 128 KiB alignment)",
         scrape.value("thinpool_lvm_metadata_area_size_bytes", vg="vgsmall"), 126976.0)

    # The guest's lvm.conf sets thin_pool_autoextend_threshold = 100: autoextend disabled.
    for vg in ("vga", "vgidle"):
        c.eq(f"{vg}/pool: autoextend threshold with lvm.conf's 100 (disabled)",
             scrape.value("thinpool_lvm_autoextend_threshold_ratio", vg=vg, lv="pool"), 1.0)
        c.eq(f"{vg}/pool: autoextend step, disabled", scrape.value("thinpool_lvm_autoextend_step_ratio", vg=vg, lv="pool"),
             0.0)

    # A PV detached, a VG filtered out; profiles for vga/pool (70%, +20%) and for vgidle (40% is used as 50%, +5%).
    state, scrape = c.check_checkpoint("changed")
    profiles = (c.run / "results" / "profiles.txt").read_text()
    c.remember("lvs -o lv_profile,vg_profile", profiles)
    c.true("lvm2 took the profiles", "thin-fast" in profiles and "thin-slow" in profiles, profiles)
    for vg, threshold, step in (("vga", 0.7, 0.2), ("vgidle", 0.5, 0.05)):
        c.eq(f"{vg}/pool: threshold from its profile",
             scrape.value("thinpool_lvm_autoextend_threshold_ratio", vg=vg, lv="pool"), threshold)
        c.eq(f"{vg}/pool: step from its profile",
             scrape.value("thinpool_lvm_autoextend_step_ratio", vg=vg, lv="pool"), step)
    c.eq("lvm.conf and the profiles read", scrape.value("thinpool_lvm_config_read_success"), 1.0)
    vgs = check_vgs(c, "changed", scrape)
    check_lvs(c, "changed", scrape)
    c.eq("vgmiss: one PV missing (vgs)", vgs.get("vgmiss", {}).get("vg_missing_pv_count"), "1")
    c.eq("vgmiss: one PV missing (exporter)", scrape.value("thinpool_lvm_vg_missing_pvs", vg="vgmiss"), 1.0)
    c.true("vgfilt: behind global_filter, gone from vgs", "vgfilt" not in vgs)
    c.eq("vgfilt: gone from the exporter", scrape.value("thinpool_lvm_vg_read_success", vg="vgfilt"), None)

    # vgsmall's metadata area full: lvm2 refused the next LV.
    state, scrape = c.check_checkpoint("full")
    vgs = check_vgs(c, "full", scrape)
    refusal = (c.run / "results" / "lvcreate-small.out").read_text()
    c.remember("the lvcreate lvm2 refused", refusal)
    c.true("lvm2 refused an LV for lack of metadata space",
           "exceeds maximum metadata size" in refusal or "too large for circular buffer" in refusal, refusal)
    size = scrape.value("thinpool_lvm_metadata_area_size_bytes", vg="vgsmall")
    used = scrape.value("thinpool_lvm_metadata_area_used_bytes", vg="vgsmall")
    if size is not None and used is not None:
        limit = (size - 512) // 2 - 512
        lvs = int((c.run / "results" / "small-lvs").read_text())
        # One more LV (and its 900-character tag) would not fit: the text is within two LVs' share of the limit.
        per_lv = used / max(lvs, 1)
        c.true(f"vgsmall: {lvs} LVs, text {used:.0f} of at most {limit:.0f} bytes: within two LVs of the limit",
               limit - 2 * per_lv <= used <= limit, f"size {size}, used {used}, limit {limit}, {per_lv:.0f} per LV")

    # A devices file listing /dev/vda and vgidle's loop device: lvm2 and the exporter see those two VGs only.
    state, scrape = c.check_checkpoint("devices")
    c.remember("lvmdevices and system.devices", (c.run / "results" / "lvmdevices.out").read_text())
    vgs = check_vgs(c, "devices", scrape)
    c.eq("with the devices file: vga and vgidle (vgs)", sorted(vgs), ["vga", "vgidle"])


main(check)
