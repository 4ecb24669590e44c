"""Scenario: a reverted thin volume (lvconvert --merge), a thin volume reloaded to another thin id, a renamed one, a
created one, a removed one and one removed deferred are exported as the kernel's devices and tables say at the next
scrape, with the exporter running all along."""
from e2e import main


def device_ids(scrape, volume):
    return [l["device_id"] for l, _ in scrape.series("thinpool_volume_size_bytes", volume=volume)]


def check(c):
    _, before = c.check_checkpoint("before")
    c.eq("[before] vgm/origin device_id", device_ids(before, "vgm-origin"), ["1"])
    c.eq("[before] vgm/snap device_id", device_ids(before, "vgm-snap"), ["2"])
    c.eq("[before] plainthin device_id", device_ids(before, "plainthin"), ["1"])

    state, merged = c.check_checkpoint("merged")
    c.remember("lvs after the merge", (c.run / "results" / "lvs-after-merge").read_text())
    origin = [t for t in state.thins() if t.name == "vgm-origin"]
    c.eq("[merged] the kernel's table gives vgm/origin the snapshot's thin id", [t.table[0][3].split()[1] for t in origin],
         ["2"])
    c.eq("[merged] vgm/origin device_id follows at once", device_ids(merged, "vgm-origin"), ["2"])
    c.eq("[merged] vgm/snap is gone", device_ids(merged, "vgm-snap"), [])
    c.eq("[merged] vgm/keep is unchanged", device_ids(merged, "vgm-keep"), ["3"])

    _, reloaded = c.check_checkpoint("reloaded")
    c.eq("[reloaded] plainthin device_id follows the reload", device_ids(reloaded, "plainthin"), ["2"])

    _, renamed = c.check_checkpoint("renamed")
    c.eq("[renamed] the new name", device_ids(renamed, "plainthin-renamed"), ["2"])
    c.eq("[renamed] no series under the old name", device_ids(renamed, "plainthin"), [])

    _, created = c.check_checkpoint("created")
    c.eq("[created] the new volume", device_ids(created, "plainnew"), ["3"])
    _, removed = c.check_checkpoint("removed")
    c.eq("[removed] the removed volume is gone", device_ids(removed, "plainthin-renamed"), [])
    deferred_state, deferred = c.check_checkpoint("deferred")
    c.eq("[deferred] held open: still in the kernel's list", [t.name for t in deferred_state.thins() if t.name == "plainnew"],
         ["plainnew"])
    c.eq("[deferred] and still exported", device_ids(deferred, "plainnew"), ["3"])
    closed_state, closed = c.check_checkpoint("closed")
    c.eq("[closed] removed once closed", [t.name for t in closed_state.thins() if t.name == "plainnew"], [])
    c.eq("[closed] and no longer exported", device_ids(closed, "plainnew"), [])

    codes = [line.split() for line in (c.run / "scrapes" / "background" / "codes").read_text().splitlines()]
    c.true("background scrapes all along", len(codes) >= 8, f"{len(codes)} scrapes")
    c.eq("background scrapes that failed", [x for x in codes if x[1] != "200"][:10], [])


main(check)
