#!/usr/bin/env python3
"""The exporter's figures for every captured LVM state agree with what lvm2's own `lvs` printed at
the same moment on the real kernel (tests/fixtures/captured/<state>/lvs.json, next to the dmsetup
text the golden was made from): each pool's Data% and Meta% (as lvs rounds them), transaction id,
size and chunk size, and, where LVM's metadata was captured too, the metadata LV's size.

Usage: agrees_with_lvs_test.py FIXTURES_DIR
"""
import json
import pathlib
import re
import sys

SAMPLE = re.compile(r'^(\w+)\{([^}]*)\} (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
UNITS = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def series(golden):
    """name -> list of (labels, value) from exposition text."""
    out = {}
    for line in golden.splitlines():
        match = SAMPLE.match(line)
        if match:
            name, labels, value = match.groups()
            out.setdefault(name, []).append((dict(LABEL.findall(labels)), float(value)))
    return out


def value(by_name, name, vg, lv):
    for labels, number in by_name.get(name, []):
        if labels.get("vg") == vg and labels.get("lv") == lv:
            return number
    return None


def size_bytes(text):
    """lvs' "512.00m" (its default units, two decimals) -> bytes, and the rounding it allows."""
    number, unit = float(text[:-1]), text[-1].lower()
    return number * UNITS[unit], 0.005 * UNITS[unit]


def main():
    fixtures = pathlib.Path(sys.argv[1])
    failures, checked = [], 0
    for lvs_path in sorted(fixtures.glob("captured/*/lvs.json")):
        state = lvs_path.parent.name
        by_name = series((lvs_path.parent / "exposition.golden").read_text())
        for lv in json.loads(lvs_path.read_text())["report"][0]["lv"]:
            if not lv["lv_attr"].startswith("t"):
                continue  # not a thin pool
            vg, name = lv["vg_name"], lv["lv_name"]
            where = f"{state}: {vg}/{name}"
            used = value(by_name, "thinpool_data_used_bytes", vg, name)
            size = value(by_name, "thinpool_data_size_bytes", vg, name)
            meta_used = value(by_name, "thinpool_metadata_used_bytes", vg, name)
            meta_size = value(by_name, "thinpool_metadata_size_bytes", vg, name)
            if None in (used, size, meta_used, meta_size):
                failures.append(f"{where}: the exporter has no usage series for the pool")
                continue
            # lvs prints percentages with two decimals, rounded half up on the exact ratio.
            for what, exported, shown in (("Data%", 100 * used / size, lv["data_percent"]),
                                          ("Meta%", 100 * meta_used / meta_size, lv["metadata_percent"])):
                if abs(exported - float(shown)) > 0.005 + 1e-9:
                    failures.append(f"{where}: {what} {exported:.4f} from the exporter, lvs showed {shown}")
            expected, slack = size_bytes(lv["lv_size"])
            if abs(size - expected) > slack:
                failures.append(f"{where}: data size {size:.0f}, lvs showed {lv['lv_size']}")
            chunk, slack = size_bytes(lv["chunk_size"].strip())
            block = value(by_name, "thinpool_data_block_size_bytes", vg, name)
            if block is None or abs(block - chunk) > slack:
                failures.append(f"{where}: block size {block}, lvs showed chunk_size {lv['chunk_size']}")
            kernel_id = value(by_name, "thinpool_transaction_id", vg, name)
            if kernel_id != float(lv["transaction_id"]):
                failures.append(f"{where}: transaction id {kernel_id}, lvs showed {lv['transaction_id']}")
            lvm_meta = value(by_name, "thinpool_lvm_metadata_lv_size_bytes", vg, name)
            if lvm_meta is not None:
                expected, slack = size_bytes(lv["lv_metadata_size"])
                if abs(lvm_meta - expected) > slack:
                    failures.append(f"{where}: metadata LV {lvm_meta:.0f}, lvs showed {lv['lv_metadata_size']}")
            checked += 1
    for failure in failures:
        print("FAIL:", failure)
    if checked < 4:
        failures.append(f"only {checked} pools checked; expected the four captured LVM states")
        print("FAIL:", failures[-1])
    if failures:
        return 1
    print(f"ok: {checked} pools of the captured LVM states agree with lvs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
