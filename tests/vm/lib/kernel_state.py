"""What dmsetup and lvs said in the guest (results/CHECKPOINT[/after]), parsed with small parsers of our own:
the exporter's parser is what the e2e tests check, so it must not be the one computing the expectations."""

import json
from pathlib import Path

def split_lvm_name(dm_name):
    """lvm2's dm_split_lvm_name: 'a--b-c--d-tpool' -> ('a-b', 'c-d', 'tpool'); a single '-' separates."""
    parts, cur, i = [], "", 0
    while i < len(dm_name):
        if dm_name[i] == "-":
            if i + 1 < len(dm_name) and dm_name[i + 1] == "-":
                cur += "-"
                i += 2
                continue
            parts.append(cur)
            cur = ""
            i += 1
            continue
        cur += dm_name[i]
        i += 1
    parts.append(cur)
    while len(parts) < 3:
        parts.append("")
    return parts[0], parts[1], "-".join(parts[2:])


class Device:
    def __init__(self, name, major, minor, uuid):
        self.name, self.major, self.minor, self.uuid = name, major, minor, uuid
        self.devnum = f"{major}:{minor}"
        self.table = []   # (start, length, type, params)
        self.status = []  # (start, length, type, params)

    @property
    def lvm_names(self):
        if not self.uuid.startswith("LVM-"):
            return "", ""
        vg, lv, _ = split_lvm_name(self.name)
        return vg, lv


def _target_lines(text):
    """'name: start len type params' lines (dmsetup table/status of all devices) -> {name: [tuples]}."""
    out = {}
    for line in text.splitlines():
        if ": " not in line:
            continue
        name, rest = line.split(": ", 1)
        f = rest.split(None, 3)
        if len(f) < 3:
            continue
        out.setdefault(name, []).append((int(f[0]), int(f[1]), f[2], f[3].strip() if len(f) > 3 else ""))
    return out


class KernelState:
    """What dmsetup (and lvs) said in the guest, from results/NAME (or results/NAME/after)."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.texts = {}
        for f in ("info", "table", "status"):
            p = self.dir / f
            self.texts[f] = p.read_text() if p.exists() else ""
        self.devices = {}
        for line in self.texts["info"].splitlines():
            f = line.split()
            if len(f) >= 3 and f[1].isdigit():
                self.devices[f[0]] = Device(f[0], f[1], f[2], f[3] if len(f) > 3 else "")
        for name, lines in _target_lines(self.texts["table"]).items():
            if name in self.devices:
                self.devices[name].table = lines
        for name, lines in _target_lines(self.texts["status"]).items():
            if name in self.devices:
                self.devices[name].status = lines
        self.lvs = self._load_lvs()
        self._by_devnum = None  # devnum -> the first device with it, made on first use

    def _load_lvs(self):
        p = self.dir / "lvs-bytes.json"
        if not p.exists():
            return []
        report = json.loads(p.read_text())
        return [lv for r in report.get("report", []) for lv in r.get("lv", [])]

    def by_devnum(self, devnum):
        if self._by_devnum is None:
            self._by_devnum = {}
            for d in self.devices.values():
                self._by_devnum.setdefault(d.devnum, d)
        return self._by_devnum.get(devnum)

    def pools(self):
        return [d for d in self.devices.values() if d.table and d.table[0][2] == "thin-pool"]

    def thins(self):
        """Thin volumes whose pool is known. A thin whose pool failed shows `Fail` even as its TABLE line (the
        kernel's thin_status answers Fail for both kinds), so only a table remembered from earlier tells its pool
        and device id: see Checker.remember_thin_tables."""
        return [d for d in self.devices.values()
                if d.table and d.table[0][2] == "thin" and d.table[0][3].split()[0] != "Fail"]

    def unattributed_thins(self):
        return [d for d in self.devices.values()
                if d.table and d.table[0][2] == "thin" and d.table[0][3].split()[0] == "Fail"]

    def lv(self, vg, lv):
        return next((x for x in self.lvs if x["vg_name"] == vg and x["lv_name"] == lv), None)

    def context(self):
        """Text for failure messages: what the guest saw."""
        out = ["-- dmsetup status --noflush (guest) --", self.texts["status"].rstrip(),
               "-- dmsetup table (guest) --", self.texts["table"].rstrip()]
        lvs_text = self.dir / "lvs.json"
        if lvs_text.exists():
            out += ["-- lvs -a (guest) --", _lvs_table(self.lvs)]
        return "\n".join(out)


def _lvs_table(lvs):
    cols = ("vg_name", "lv_name", "lv_attr", "lv_size", "data_percent", "metadata_percent", "transaction_id",
            "lv_metadata_size", "chunk_size", "thin_id")
    rows = [cols] + [tuple(str(lv.get(c, "")) for c in cols) for lv in lvs]
    widths = [max(len(r[i]) for r in rows) for i in range(len(cols))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows)


def parse_pool_status(params):
    """thin-pool status params -> dict (Fail/Error -> {'mode': 'fail'|'error'})."""
    f = params.split()
    if f[0] in ("Fail", "Error"):
        return {"mode": f[0].lower()}
    used_meta, total_meta = (int(x) for x in f[1].split("/"))
    used_data, total_data = (int(x) for x in f[2].split("/"))
    return {
        "transaction_id": int(f[0]), "used_meta": used_meta, "total_meta": total_meta,
        "used_data": used_data, "total_data": total_data, "held_root": f[3], "mode": f[4],
        "error_if_no_space": "error_if_no_space" in f[5:], "needs_check": "needs_check" in f[5:],
        "meta_low_watermark": int(f[9]) if len(f) > 9 else None,
    }


def parse_pool_table(params):
    f = params.split()
    nfeat = int(f[4])
    return {"metadata_dev": f[0], "data_dev": f[1], "block_sectors": int(f[2]), "low_water_blocks": int(f[3]),
            "features": f[5:5 + nfeat]}


