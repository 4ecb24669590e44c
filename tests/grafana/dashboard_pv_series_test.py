#!/usr/bin/env python3
"""The dashboard's queries on series that only a PV read gives (the VG's metadata area: the live Prometheus test's
exporters read LVM backups and have none) return the right values when those series are there.

Feeds promtool the series as the lvm collector writes them (labels vg, job and instance), for two VGs on one host
and the same VG name on a second host, and evaluates every panel query that reads them, with the variables
substituted as Grafana would with "All" selected, against values computed here from lvm2's limit:
metadata text / ((area size - 512) / 2 - 512). A query on those series that this test has no expectation for fails.

Usage: dashboard_pv_series_test.py DASHBOARD.json
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

PV_SERIES = ("thinpool_lvm_metadata_area_size_bytes", "thinpool_lvm_metadata_area_used_bytes")
# (instance, vg, area size, metadata text), as the exporter reports them: lvm2's default 1020 KiB area at 77% and
# 91% of what lvm2 commits, and a 64 MiB area (pvcreate --metadatasize 64m) with the same text.
VGS = [
    ("host1:9966", "vg0", 1044480, 401408),
    ("host1:9966", "vg1", 67108864, 476160),
    ("host2:9966", "vg0", 1044480, 476160),
]
VARIABLES = {"job": "thinpool", "instance": ".+", "pool": ".+"}


def limit(size):
    return (size - 512) / 2 - 512


# Panel title and refId -> the samples the query must return: {(instance, vg): value}.
EXPECTED = {
    ("LVM metadata area usage", "A"): {(i, vg): used / limit(size) for i, vg, size, used in VGS},
}


def substitute(expr):
    expr = expr.replace("$__rate_interval", "1m").replace("$__interval", "15s").replace("$__range", "5m")
    for name, value in VARIABLES.items():
        expr = expr.replace("${" + name + "}", value).replace("$" + name, value)
    return expr


def main():
    with open(sys.argv[1]) as f:
        dashboard = json.load(f)
    targets = [(p["title"], t["refId"], substitute(t["expr"])) for p in dashboard["panels"] for t in p.get("targets", [])
               if any(re.search(r"\b" + s + r"\b", t.get("expr", "")) for s in PV_SERIES)]
    failed = []
    for title, ref, _ in targets:
        if (title, ref) not in EXPECTED:
            failed.append(f"panel {title!r} {ref} reads {', '.join(PV_SERIES)}: add its expected values here")
    for key in EXPECTED:
        if key not in {(title, ref) for title, ref, _ in targets}:
            failed.append(f"panel {key[0]!r} {key[1]}: no such query on {', '.join(PV_SERIES)} in the dashboard")
    checked = [(title, ref, expr) for title, ref, expr in targets if (title, ref) in EXPECTED]

    series = []
    for instance, vg, size, used in VGS:
        labels = f'job="thinpool",instance="{instance}",vg="{vg}"'
        series += [{"series": f"thinpool_lvm_metadata_area_size_bytes{{{labels}}}", "values": f"{size}x10"},
                   {"series": f"thinpool_lvm_metadata_area_used_bytes{{{labels}}}", "values": f"{used}x10"}]
    tests = [{
        "expr": expr, "eval_time": "5m",
        "exp_samples": [{"labels": f'{{instance="{i}",job="thinpool",vg="{vg}"}}', "value": v}
                        for (i, vg), v in sorted(EXPECTED[(title, ref)].items())],
    } for title, ref, expr in checked]
    tmp = tempfile.mkdtemp(prefix="dashboard-pv-series-")
    try:
        path = os.path.join(tmp, "test.yml")
        with open(path, "w") as f:
            json.dump({"rule_files": [], "evaluation_interval": "1m",  # JSON is YAML
                       "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": tests}]}, f)
        if tests:
            run = subprocess.run([shutil.which("promtool") or "/usr/bin/promtool", "test", "rules", path],
                                 capture_output=True, text=True, timeout=60)
            if run.returncode != 0:
                failed.append(f"promtool: {run.stdout}{run.stderr}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for title, ref, expr in checked:
        if not failed:
            print(f"ok   panel {title!r} {ref}: {len(EXPECTED[(title, ref)])} VGs, lvm2's limit: {expr}")
    for problem in failed:
        print(f"FAIL {problem}")
    print(f"{len(checked) if not failed else 0} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
