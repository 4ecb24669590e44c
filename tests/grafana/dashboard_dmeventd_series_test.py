#!/usr/bin/env python3
"""The dashboard's queries on the series only a running dmeventd gives (thinpool_lvm_monitored, per active pool, and
thinpool_lvm_dmeventd_up, per host: the live Prometheus test's exporters serve fixtures and have neither) return the
right values, on the right rows, when those series are there.

Feeds promtool the series as the lvm collector writes them, beside the autoextend policy series the rows are built
from: on host1, dmeventd up, an active pool it monitors, an active pool it does not, and an inactive pool (pool="",
no monitored series); on host2, dmeventd down and its active pool not monitored. Every panel query that reads
either series is evaluated, with the variables substituted as Grafana would with "All" selected, against the rows
expected here. A query on those series that this test has no expectation for fails.

Usage: dashboard_dmeventd_series_test.py DASHBOARD.json
"""
import json
import sys

from panel_queries import queries_reading, report, run_promtool

DMEVENTD_SERIES = ("thinpool_lvm_monitored", "thinpool_lvm_dmeventd_up")
# (instance, pool, vg, lv, autoextend step, monitored or None for an inactive pool)
POOLS = [
    ("host1:9966", "vg0-pool-tpool", "vg0", "pool", 0.2, 1),
    ("host1:9966", "vg1-pool-tpool", "vg1", "pool", 0.2, 0),
    ("host1:9966", "", "vg0", "cold", 0.2, None),
    ("host2:9966", "vg0-pool-tpool", "vg0", "pool", 0.2, 0),
]
DMEVENTD_UP = {"host1:9966": 1, "host2:9966": 0}

# Panel title and refId -> the samples the query must return: {(instance, pool, vg, lv): value}.
EXPECTED = {
    # Monitored: the active pools only.
    ("Autoextend per pool", "C"): {(i, p, vg, lv): m for i, p, vg, lv, _, m in POOLS if m is not None},
    # dmeventd: the host's state on every pool row of the host, the inactive pool's too.
    ("Autoextend per pool", "D"): {(i, p, vg, lv): DMEVENTD_UP[i] for i, p, vg, lv, _, _ in POOLS},
}




def labels(**kv):
    """A selector of these labels; an empty value is no label, as in Prometheus (an inactive pool's pool="")."""
    return "{" + ",".join(f"{k}={json.dumps(v)}" for k, v in kv.items() if v) + "}"


def main():
    failed = []
    checked = queries_reading(sys.argv[1], DMEVENTD_SERIES, EXPECTED, failed)

    series = [{"series": "thinpool_lvm_dmeventd_up" + labels(job="thinpool", instance=i), "values": f"{up}x10"}
              for i, up in DMEVENTD_UP.items()]
    for instance, pool, vg, lv, step, monitored in POOLS:
        pool_labels = labels(job="thinpool", instance=instance, pool=pool, vg=vg, lv=lv)
        series.append({"series": "thinpool_lvm_autoextend_step_ratio" + pool_labels, "values": f"{step}x10"})
        if monitored is not None:
            series.append({"series": "thinpool_lvm_monitored" + pool_labels, "values": f"{monitored}x10"})
    tests = [{
        "expr": expr, "eval_time": "5m",
        "exp_samples": [{"labels": labels(instance=i, job="thinpool", lv=lv, pool=p, vg=vg), "value": v}
                        for (i, p, vg, lv), v in sorted(EXPECTED[(title, ref)].items())],
    } for title, ref, expr in checked]
    run_promtool(series, tests, failed)
    return report(checked, failed, lambda title, ref, expr: f"panel {title!r} {ref}: {len(EXPECTED[(title, ref)])} rows: {expr}")


if __name__ == "__main__":
    sys.exit(main())
