#!/usr/bin/env python3
"""The dashboard's queries on series that only a PV read gives (the VG's metadata area: the live Prometheus test's
exporters read LVM backups and have none) return the right values when those series are there.

Feeds promtool the series as the lvm collector writes them (labels vg, job and instance), for two VGs on one host
and the same VG name on a second host, and evaluates every panel query that reads them, with the variables
substituted as Grafana would with "All" selected, against values computed here from lvm2's limit:
metadata text / ((area size - 512) / 2 - 512). A query on those series that this test has no expectation for fails.

Usage: dashboard_pv_series_test.py DASHBOARD.json
"""
import sys

from panel_queries import queries_reading, report, run_promtool

PV_SERIES = ("thinpool_lvm_metadata_area_size_bytes", "thinpool_lvm_metadata_area_used_bytes")
# (instance, vg, area size, metadata text), as the exporter reports them: lvm2's default 1020 KiB area at 77% and
# 91% of what lvm2 commits, and a 64 MiB area (pvcreate --metadatasize 64m) with the same text.
VGS = [
    ("host1:9966", "vg0", 1044480, 401408),
    ("host1:9966", "vg1", 67108864, 476160),
    ("host2:9966", "vg0", 1044480, 476160),
]


def limit(size):
    return (size - 512) / 2 - 512


# Panel title and refId -> the samples the query must return: {(instance, vg): value}.
EXPECTED = {
    ("LVM metadata area usage", "A"): {(i, vg): used / limit(size) for i, vg, size, used in VGS},
}




def main():
    failed = []
    checked = queries_reading(sys.argv[1], PV_SERIES, EXPECTED, failed)

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
    run_promtool(series, tests, failed)
    return report(checked, failed, lambda title, ref, expr: f"panel {title!r} {ref}: {len(EXPECTED[(title, ref)])} VGs, lvm2's limit: {expr}")


if __name__ == "__main__":
    sys.exit(main())
