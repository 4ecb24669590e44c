"""Checking dashboard queries on series that the live Prometheus test cannot have (they need a PV read or a running
dmeventd): the queries that read them are found in the dashboard, the variables substituted as Grafana does with
"All" selected, and promtool evaluates them on series the test gives, against the values the test expects.

Used by dashboard_pv_series_test.py and dashboard_dmeventd_series_test.py."""
import json
import os
import re
import shutil
import subprocess
import tempfile

VARIABLES = {"job": "thinpool", "instance": ".+", "pool": ".+"}


def substitute(expr):
    expr = expr.replace("$__rate_interval", "1m").replace("$__interval", "15s").replace("$__range", "5m")
    for name, value in VARIABLES.items():
        expr = expr.replace("${" + name + "}", value).replace("$" + name, value)
    return expr


def queries_reading(dashboard_path, series_names, expected, failed):
    """(title, refId, expr) of every panel query that reads one of `series_names` and has an entry in `expected`
    ({(title, refId): ...}); a query without an entry, or an entry without a query, is added to `failed`."""
    with open(dashboard_path) as f:
        dashboard = json.load(f)
    targets = [(p["title"], t["refId"], substitute(t["expr"])) for p in dashboard["panels"] for t in p.get("targets", [])
               if any(re.search(r"\b" + s + r"\b", t.get("expr", "")) for s in series_names)]
    names = ", ".join(series_names)
    for title, ref, _ in targets:
        if (title, ref) not in expected:
            failed.append(f"panel {title!r} {ref} reads {names}: add its expected values here")
    for key in expected:
        if key not in {(title, ref) for title, ref, _ in targets}:
            failed.append(f"panel {key[0]!r} {key[1]}: no such query on {names} in the dashboard")
    return [(title, ref, expr) for title, ref, expr in targets if (title, ref) in expected]


def run_promtool(series, tests, failed):
    """`promtool test rules` on `tests` (promql_expr_test entries) over `series` (input_series entries)."""
    if not tests:
        return
    tmp = tempfile.mkdtemp(prefix="dashboard-queries-")
    try:
        path = os.path.join(tmp, "test.yml")
        with open(path, "w") as f:
            json.dump({"rule_files": [], "evaluation_interval": "1m",  # JSON is YAML
                       "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": tests}]}, f)
        run = subprocess.run([shutil.which("promtool") or "/usr/bin/promtool", "test", "rules", path],
                             capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            failed.append(f"promtool: {run.stdout}{run.stderr}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(checked, failed, describe):
    """Prints one line per checked query (`describe(title, ref, expr)`) and per failure; the exit code."""
    for title, ref, expr in checked:
        if not failed:
            print(f"ok   {describe(title, ref, expr)}")
    for problem in failed:
        print(f"FAIL {problem}")
    print(f"{len(checked) if not failed else 0} passed, {len(failed)} failed")
    return 1 if failed else 0
