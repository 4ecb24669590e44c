"""Host-side assertions for the e2e scenarios (python3 standard library only).

A scenario's assert.py loads a run directory (what tests/vm/run-scenario left: scrapes/NAME.prom from the host,
results/NAME/{info,table,status,lvs-bytes.json} and results/NAME/after/ from the guest) and compares what the
exporter served with what the kernel and lvm2 said at the same moment. The expectations are derived here from
dmsetup's text with a deliberately separate, simple parser: the exporter's own parser is what is under test.

THINPOOL_E2E_BREAK=metadata-512 breaks one expectation on purpose (metadata blocks taken as 512-byte sectors), to
show what a failure looks like.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from exposition import Scrape, parse_exposition  # noqa: F401  (re-exported for assert.py files)
from kernel_state import KernelState, parse_pool_status, parse_pool_table, split_lvm_name  # noqa: F401

METADATA_BLOCK_BYTES = 512 if os.environ.get("THINPOOL_E2E_BREAK") == "metadata-512" else 4096
SECTOR = 512
MODES = ("rw", "ro", "out_of_data_space", "fail", "error")


def expected_pool_metrics(state, pool):
    """{(metric, extra labels tuple): value} that the exporter must serve for POOL given the kernel's text."""
    table = parse_pool_table(pool.table[0][3])
    status = parse_pool_status(pool.status[0][3])
    block = table["block_sectors"] * SECTOR
    exp = {}
    for m in MODES:
        exp[("thinpool_mode", (("mode", m),))] = 1.0 if status["mode"] == m else 0.0
    thins = [t for t in state.thins() if t.table[0][3].split()[0] == pool.devnum]
    exp[("thinpool_thin_volumes", ())] = float(len(thins))
    exp[("thinpool_provisioned_bytes", ())] = float(sum(t.table[0][1] for t in thins) * SECTOR)
    exp[("thinpool_data_block_size_bytes", ())] = float(block)
    exp[("thinpool_error_if_no_space", ())] = 1.0 if "error_if_no_space" in table["features"] else 0.0
    if "transaction_id" not in status:
        return exp  # Fail/Error: no usage series
    exp.update({
        ("thinpool_data_used_bytes", ()): float(status["used_data"] * block),
        ("thinpool_data_size_bytes", ()): float(status["total_data"] * block),
        ("thinpool_metadata_used_bytes", ()): float(status["used_meta"] * METADATA_BLOCK_BYTES),
        ("thinpool_metadata_size_bytes", ()): float(status["total_meta"] * 4096),
        ("thinpool_transaction_id", ()): float(status["transaction_id"]),
        ("thinpool_needs_check", ()): 1.0 if status["needs_check"] else 0.0,
        ("thinpool_metadata_snapshot_held", ()): 0.0 if status["held_root"] == "-" else 1.0,
        ("thinpool_data_low_watermark_bytes", ()): float(table["low_water_blocks"] * block),
    })
    if status["meta_low_watermark"] is not None:
        exp[("thinpool_metadata_low_watermark_bytes", ())] = float(status["meta_low_watermark"] * 4096)
    return exp


class Checker:
    """Collects failed expectations; report() prints them with the scrape and the guest's view, then exits 1."""

    def __init__(self, run_dir, scenario):
        self.run = Path(run_dir)
        self.scenario = scenario
        self.failures = []
        self.checked = 0
        self.contexts = {}
        self.thin_tables = {}  # thin volume name -> its last table line seen with a pool in it

    def scrape(self, name):
        return Scrape(self.run / "scrapes" / f"{name}.prom")

    def state(self, name):
        return KernelState(self.run / "results" / name)

    def lvm_report(self, name, kind):
        """The rows of results/NAME-KIND.json, a `vgs`/`lvs`/`pvs --reportformat json` report a scenario saved
        (KIND "vgs", "lvs" or "pvs")."""
        data = json.loads((self.run / "results" / f"{name}-{kind}.json").read_text())
        rows = []
        for part in data["report"]:
            rows.extend(part.get(kind[:-1], []))
        return rows

    def check_lvm_vgs(self, checkpoint, scrape):
        """The VGs the exporter reports are exactly those results/CHECKPOINT-vgs.json lists (vgs -o
        vg_name,vg_size,vg_free,vg_missing_pv_count,... --units b), each read, with vgs's size, free space and
        missing PV count. Returns vgs's rows by VG name."""
        vgs = {row["vg_name"]: row for row in self.lvm_report(checkpoint, "vgs")}
        self.remember(f"vgs at '{checkpoint}'", json.dumps(vgs, indent=1))
        exported = {labels["vg"] for labels, _ in scrape.series("thinpool_lvm_vg_read_success")}
        self.eq(f"[{checkpoint}] the VGs the exporter reports are the ones vgs lists", sorted(exported), sorted(vgs))
        for name, row in vgs.items():
            self.eq(f"[{checkpoint}] {name}: read", scrape.value("thinpool_lvm_vg_read_success", vg=name), 1.0)
            for metric, field in (("thinpool_lvm_vg_size_bytes", "vg_size"), ("thinpool_lvm_vg_free_bytes", "vg_free"),
                                  ("thinpool_lvm_vg_missing_pvs", "vg_missing_pv_count")):
                self.eq(f"[{checkpoint}] {name}: {field}", scrape.value(metric, vg=name), float(row[field]))
        return vgs

    def remember(self, label, text):
        self.contexts[label] = text

    def eq(self, what, got, want):
        self.checked += 1
        if got != want:
            self.failures.append(f"{what}: exporter says {_fmt(got)}, expected {_fmt(want)}")
            return False
        return True

    def true(self, what, cond, detail=""):
        self.checked += 1
        if not cond:
            self.failures.append(f"{what}{': ' + detail if detail else ''}")
        return cond

    def report(self):
        if not self.failures:
            print(f"[{self.scenario}] OK: {self.checked} checks passed")
            return 0
        print(f"[{self.scenario}] FAILED: {len(self.failures)} of {self.checked} checks")
        for f in self.failures:
            print(f"  - {f}")
        for label, text in self.contexts.items():
            print(f"\n==== {label} ====\n{text}")
        print(f"\n(run directory: {self.run})")
        if os.environ.get("THINPOOL_E2E_BREAK"):
            print(f"NOTE: THINPOOL_E2E_BREAK={os.environ['THINPOOL_E2E_BREAK']} is set: this failure is on purpose.")
        return 1

    def check_stable(self, checkpoint):
        """The kernel's view must be the same before and after the host's scrape, or 'same moment' means nothing."""
        before = self.state(checkpoint)
        after = KernelState(self.run / "results" / checkpoint / "after")
        self.true(f"[{checkpoint}] dmsetup status unchanged while the host scraped",
                  before.texts["status"] == after.texts["status"],
                  f"before:\n{before.texts['status']}\nafter:\n{after.texts['status']}")
        return before

    def remember_thin_tables(self, state):
        """Fills in the table of thins whose pool failed from earlier checkpoints (the exporter caches thin tables
        for the same reason), and remembers the good ones for later checkpoints."""
        for d in state.unattributed_thins():
            if d.name in self.thin_tables:
                d.table = [self.thin_tables[d.name]]
        for d in state.thins():
            self.thin_tables[d.name] = d.table[0]

    def check_checkpoint(self, checkpoint, collector_success=1.0):
        """Every pool and volume the kernel lists must be exported with the kernel's values, and nothing else.
        Checkpoints must be checked in the order they were taken (see remember_thin_tables)."""
        state = self.check_stable(checkpoint)
        self.remember_thin_tables(state)
        scrape = self.scrape(checkpoint)
        self.remember(f"scrape '{checkpoint}' (thinpool_* lines)", "\n".join(scrape.thinpool_lines()))
        self.remember(f"guest state at '{checkpoint}'", state.context())
        for c in ("thinpool", "thin"):
            self.eq(f"[{checkpoint}] thinpool_scrape_collector_success{{collector=\"{c}\"}}",
                    scrape.value("thinpool_scrape_collector_success", collector=c), collector_success)
        self.check_pools(checkpoint, state, scrape)
        self.check_volumes(checkpoint, state, scrape)
        return state, scrape

    def check_pools(self, checkpoint, state, scrape):
        pools = state.pools()
        exported = {l["pool"] for l, _ in scrape.series("thinpool_info")}
        self.eq(f"[{checkpoint}] pools exported (thinpool_info)", sorted(exported), sorted(p.name for p in pools))
        for pool in pools:
            vg, lv = pool.lvm_names
            labels = {"pool": pool.name, "vg": vg, "lv": lv}
            info = scrape.series("thinpool_info", pool=pool.name)
            if info:
                self.eq(f"[{checkpoint}] thinpool_info{{pool={pool.name}}} vg,lv", (info[0][0].get("vg"), info[0][0].get("lv")), (vg, lv))
                self.eq(f"[{checkpoint}] thinpool_info{{pool={pool.name}}} uuid", info[0][0].get("uuid"), pool.uuid)
            expected = expected_pool_metrics(state, pool)
            for (metric, extra), want in sorted(expected.items()):
                sel = dict(labels, **dict(extra))
                self.eq(f"[{checkpoint}] {metric}{_labels(sel)}", scrape.value(metric, **sel), want)
            if "transaction_id" not in parse_pool_status(pool.status[0][3]):
                for metric in ("thinpool_data_used_bytes", "thinpool_metadata_used_bytes", "thinpool_transaction_id"):
                    self.eq(f"[{checkpoint}] {metric}{{pool={pool.name}}} absent in {pool.status[0][3]} mode",
                            scrape.value(metric, pool=pool.name), None)

    def check_volumes(self, checkpoint, state, scrape):
        thins = state.thins()
        exported = {l["volume"] for l, _ in scrape.series("thinpool_volume_size_bytes")}
        self.eq(f"[{checkpoint}] volumes exported (thinpool_volume_size_bytes)",
                sorted(exported), sorted(t.name for t in thins))
        for t in thins:
            pool_devnum, device_id = t.table[0][3].split()[:2]
            pool = state.by_devnum(pool_devnum)
            vg, lv = t.lvm_names
            labels = {"volume": t.name, "pool": pool.name if pool else "", "vg": vg, "lv": lv, "device_id": device_id}
            self.eq(f"[{checkpoint}] thinpool_volume_size_bytes{_labels(labels)}",
                    scrape.value("thinpool_volume_size_bytes", **labels), float(t.table[0][1] * SECTOR))
            st = t.status[0][3].split() if t.status else ["?"]
            if st[0].isdigit():
                self.eq(f"[{checkpoint}] thinpool_volume_mapped_bytes{_labels(labels)}",
                        scrape.value("thinpool_volume_mapped_bytes", **labels), float(int(st[0]) * SECTOR))

    def check_lvs(self, checkpoint, state, scrape):
        """lvs's Data%, Meta% (2 decimals) and transaction_id for every thin pool LV, and Data% and size of every
        thin LV, against the exporter."""
        for lv in state.lvs:
            if lv.get("segtype") == "thin" and "a" == lv.get("lv_attr", "    ")[4]:
                sel = {"vg": lv["vg_name"], "lv": lv["lv_name"]}
                size = scrape.value("thinpool_volume_size_bytes", **sel)
                mapped = scrape.value("thinpool_volume_mapped_bytes", **sel)
                self.eq(f"[{checkpoint}] thin LV {lv['vg_name']}/{lv['lv_name']} size (exporter vs lvs)", size,
                        float(lv["lv_size"]))
                if size and mapped is not None:
                    self.eq(f"[{checkpoint}] thin LV {lv['vg_name']}/{lv['lv_name']} Data% (exporter mapped/size vs lvs)",
                            f"{100.0 * mapped / size:.2f}", f"{float(lv['data_percent']):.2f}")
                continue
            if lv.get("segtype") != "thin-pool":
                continue
            vg, name = lv["vg_name"], lv["lv_name"]
            sel = {"vg": vg, "lv": name}
            used = scrape.value("thinpool_data_used_bytes", **sel)
            size = scrape.value("thinpool_data_size_bytes", **sel)
            mused = scrape.value("thinpool_metadata_used_bytes", **sel)
            msize = scrape.value("thinpool_metadata_size_bytes", **sel)
            tid = scrape.value("thinpool_transaction_id", **sel)
            if None in (used, size, mused, msize, tid):
                self.true(f"[{checkpoint}] pool {vg}/{name} has usage series", False,
                          f"data {used}/{size}, meta {mused}/{msize}, tid {tid}")
                continue
            self.eq(f"[{checkpoint}] {vg}/{name} Data% (exporter used/size vs lvs)",
                    f"{100.0 * used / size:.2f}", f"{float(lv['data_percent']):.2f}")
            self.eq(f"[{checkpoint}] {vg}/{name} Meta% (exporter used/size vs lvs)",
                    f"{100.0 * mused / msize:.2f}", f"{float(lv['metadata_percent']):.2f}")
            self.eq(f"[{checkpoint}] {vg}/{name} transaction_id (exporter vs lvs)", tid, float(lv["transaction_id"]))
            self.eq(f"[{checkpoint}] {vg}/{name} data size (exporter vs lvs lv_size)", size, float(lv["lv_size"]))
            self.eq(f"[{checkpoint}] {vg}/{name} metadata size (exporter vs lvs lv_metadata_size)",
                    msize, float(lv["lv_metadata_size"]))


def _labels(d):
    return "{" + ",".join(f'{k}="{v}"' for k, v in d.items()) + "}"


def _fmt(v):
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return repr(v) if v is None or isinstance(v, (list, tuple)) else str(v)


def promtool_series(scrape, prefix="thinpool_", minutes=80):
    """The scrape's series whose names start with `prefix` (the exporter's own excepted), as promtool input series
    of one target (job "thinpool", instance "vm:9966"), constant for `minutes`. Empty label values are left out, as
    Prometheus does when it ingests them."""
    series = []
    for name, labels, value in scrape.samples:
        if not name.startswith(prefix) or name.startswith("thinpool_exporter"):
            continue
        text = ",".join(['job="thinpool"', 'instance="vm:9966"'] +
                        [f"{k}={json.dumps(v)}" for k, v in labels.items() if v != ""])
        series.append({"series": f"{name}{{{text}}}", "values": f"{value!r}x{minutes}"})
    return series


def run_promtool_test(test, name):
    """`promtool test rules` on the test file `test` (a dict, written as NAME_test.yml); its CompletedProcess."""
    import yaml  # only the scenarios that use promtool need PyYAML
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"{name}_test.yml")
        with open(path, "w") as f:
            yaml.safe_dump(test, f)
        return subprocess.run(["promtool", "test", "rules", path], capture_output=True, text=True, timeout=120)


def main(fn):
    """Entry point for assert.py files: main(lambda check: ...) with the run directory from argv."""
    run_dir = sys.argv[1]
    scenario = Path(sys.argv[0]).resolve().parent.name
    check = Checker(run_dir, scenario)
    try:
        fn(check)
    except (OSError, ValueError, AssertionError, KeyError) as e:
        check.failures.append(f"assertion script error: {type(e).__name__}: {e}")
    sys.exit(check.report())
