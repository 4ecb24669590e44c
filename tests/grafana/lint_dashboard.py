#!/usr/bin/env python3
"""Lints Grafana dashboards with the rules of grafana/dashboard-linter, written out here (the linter itself is not
packaged for Debian), plus a few of our own.

Dashboard: uid (1-40 chars of [A-Za-z0-9_-]), title, no fixed numeric id, schemaVersion, a `datasource` variable of
type datasource for prometheus, `job` and `instance` query variables that use it.
Panels: description, unit (fieldConfig.defaults.unit) on every panel, data source = the variable (never a fixed
uid or name), unique ids, gridPos inside 24 columns and not overlapping.
Targets: not empty (expr set), data source = the variable, rate/irate/increase/*_over_time ranges use
$__rate_interval, every selector carries job=~"$job" and instance=~"$instance" (except recording-rule names without
matchers and `vector()`), legendFormat set when a query returns several series.
Tables that merge several queries (Grafana joins their rows on the labels they share): every query is an instant
table query aggregated `by` the same labels, so that rows join and no query brings a label the others lack.
Panels operators rely on (REQUIRED_SERIES, per dashboard uid) exist and read the series named there, e.g. "Metadata sizing" shows the
projection and lvm2's estimate beside the metadata size, "Autoextend per pool" the policy, dmeventd's monitoring and the
next step against the VG's free space.

With --recorded-only (the fleet dashboard): every series its panels and variables read is a recording rule
(level:metric:operation) or `up`, never one of the exporter's own series, so that it stays cheap however many thin
volumes each host has.

Usage: lint_dashboard.py [--self-test] [--recorded-only] DASHBOARD.json...
  --self-test: also break each dashboard in the ways the rules forbid and check the linter notices every one.
"""
import copy
import json
import re
import sys

UID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
DS_VARIABLE_REFS = {"${datasource}", "$datasource"}
RATE_RE = re.compile(r"\b(rate|irate|increase|deriv|delta|idelta|[a-z]+_over_time)\s*\(([^()]*?)\[([^\]]*)\]")
SELECTOR_RE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\{([^}]*)\}")
# The units Grafana knows and that we use; "none" only where value mappings give the meaning.
KNOWN_UNITS = {"short", "none", "percent", "percentunit", "bytes", "decbytes", "s", "ms", "dtdurations", "reqps",
               "ops", "bool", "bool_yes_no"}
PANELS_WITHOUT_DATA = {"row", "text", "dashlist", "news"}
AGGREGATION_BY_RE = re.compile(r"^\s*(?:sum|max|min|avg|count|group)\s+by\s*\(([^)]*)\)")
# Dashboard uid -> panel title -> series its queries must read.
REQUIRED_SERIES = {"thinpool-exporter": {
    "Metadata sizing": ["thinpool_metadata_size_bytes", "thinpool:metadata_needed_at_full_data:bytes",
                        "thinpool:metadata_lvm_estimate:bytes"],
    "Inactive pools": ["thinpool_lvm_pool_active"],
    "Inactive thin pools": ["thinpool_lvm_pool_active", "thinpool_lvm_thin_volumes", "thinpool_lvm_provisioned_bytes"],
    "Thin LVs per pool: LVM and kernel": ["thinpool_lvm_thin_volumes", "thinpool_lvm_snapshots",
                                          "thinpool_lvm_provisioned_bytes", "thinpool_thin_volumes",
                                          "thinpool_provisioned_bytes"],
    "LVM metadata area usage": ["thinpool_lvm_metadata_area_used_bytes", "thinpool_lvm_metadata_area_size_bytes"],
    "Missing PVs per VG": ["thinpool_lvm_vg_missing_pvs"],
    "Oldest thin snapshots": ["thinpool_lvm_volume_info", "thinpool_lvm_volume_creation_timestamp_seconds"],
    "Pools without autoextend": ["thinpool_lvm_autoextend_step_ratio"],
    "Autoextend per pool": ["thinpool_lvm_autoextend_threshold_ratio", "thinpool_lvm_autoextend_step_ratio",
                            "thinpool_lvm_monitored", "thinpool_lvm_dmeventd_up", "thinpool_data_size_bytes",
                            "thinpool_metadata_size_bytes", "thinpool_lvm_vg_free_bytes"],
}, "thinpool-exporter-fleet": {
    "Pools by time to full": ["thinpool:time_to_full:seconds", "thinpool:data_usage:ratio",
                              "thinpool:metadata_usage:ratio", "thinpool:metadata_needed_over_size:ratio"],
    "Pools by undersized metadata": ["thinpool:metadata_needed_over_size:ratio", "thinpool:time_to_full:seconds"],
    "Exporters by samples per scrape": ["instance:thinpool_scrape_samples:max", "instance:thinpool_thin_volumes:sum",
                                        "instance:thinpool_pools:count", "up"],
}}
# Series names in a query: identifiers followed by a selector or standing alone, not functions, keywords or labels.
SERIES_NAME_RE = re.compile(r"(?<![a-zA-Z0-9_:$\"])([a-zA-Z_:][a-zA-Z0-9_:]*)(?=\s*\{|\s*[)\],]|\s*$|\s+(?:[<>=!]|or|and|unless))")
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "or", "and", "unless", "bool", "offset"}


class Linter:
    def __init__(self, path, recorded_only=False):
        self.path = path
        self.recorded_only = recorded_only
        self.problems = []
        self.checks = 0

    def check(self, ok, message):
        self.checks += 1
        if not ok:
            self.problems.append(message)

    def uses_ds_variable(self, ds):
        if isinstance(ds, dict):
            return ds.get("uid") in DS_VARIABLE_REFS
        return ds in DS_VARIABLE_REFS

    def lint(self, d):
        self.check(UID_RE.match(str(d.get("uid", ""))) is not None, f"uid {d.get('uid')!r} missing or invalid")
        self.check(bool(d.get("title")), "no title")
        self.check(d.get("id") is None, "a fixed numeric dashboard id breaks provisioning and import: leave it out")
        self.check(isinstance(d.get("schemaVersion"), int), "no schemaVersion")
        self.lint_variables(d.get("templating", {}).get("list", []))
        panels = list(self.all_panels(d.get("panels", [])))
        self.check(len(panels) > 0, "no panels")
        ids = [p.get("id") for p in panels]
        self.check(len(ids) == len(set(ids)) and None not in ids, f"panel ids missing or not unique: {ids}")
        self.lint_layout(panels)
        for p in panels:
            if p.get("type") not in PANELS_WITHOUT_DATA:
                self.lint_panel(p)
        by_title = {p.get("title"): p for p in panels}
        for title, series in REQUIRED_SERIES.get(d.get("uid"), {}).items():
            exprs = " ".join(t.get("expr") or "" for t in by_title.get(title, {}).get("targets", []))
            missing = [s for s in series if not re.search(r"(?<![a-zA-Z0-9_:])" + re.escape(s) + r"(?![a-zA-Z0-9_:])", exprs)]
            self.check(title in by_title and not missing, f"panel {title!r}: missing, or does not read {missing}")

        if self.recorded_only:
            self.lint_recorded_only(d, panels)

    def lint_recorded_only(self, d, panels):
        queries = [(f"panel {p.get('title')!r} target {t.get('refId')}", t.get("expr") or "")
                   for p in panels for t in p.get("targets", [])]
        for v in d.get("templating", {}).get("list", []):
            if v.get("type") == "query":
                query = v["query"].get("query") if isinstance(v["query"], dict) else v["query"]
                queries.append((f"variable {v.get('name')}", re.sub(r"^label_values\((.*),\s*\w+\)$", r"\1", query)))
        for where, expr in queries:
            bare = re.sub(r'"[^"]*"', '""', expr)  # no label values
            bare = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", bare)  # no labels
            names = {n for n in SERIES_NAME_RE.findall(bare) if n not in PROMQL_WORDS}
            raw = sorted(n for n in names if ":" not in n and n != "up")
            self.check(not raw, f"{where}: reads {raw}, not a recording rule: the fleet dashboard reads only those and up")

    def all_panels(self, panels):
        for p in panels:
            yield p
            yield from self.all_panels(p.get("panels", []))

    def lint_variables(self, variables):
        by_name = {v.get("name"): v for v in variables}
        ds = by_name.get("datasource")
        self.check(ds is not None and ds.get("type") == "datasource" and ds.get("query") == "prometheus",
                   "no `datasource` variable of type datasource with query prometheus")
        for name in ("job", "instance"):
            v = by_name.get(name)
            self.check(v is not None and v.get("type") == "query", f"no `{name}` query variable")
        for v in variables:
            if v.get("type") != "query":
                continue
            self.check(self.uses_ds_variable(v.get("datasource")),
                       f"variable {v.get('name')}: data source must be the datasource variable")
            query = v.get("query")
            query = query.get("query") if isinstance(query, dict) else query
            self.check(bool(query), f"variable {v.get('name')}: empty query")

    def lint_layout(self, panels):
        cells = {}
        for p in panels:
            g = p.get("gridPos", {})
            if not all(k in g for k in ("x", "y", "w", "h")):
                self.check(False, f"panel {p.get('title')!r}: gridPos incomplete")
                continue
            self.check(0 <= g["x"] and g["x"] + g["w"] <= 24, f"panel {p.get('title')!r}: wider than 24 columns")
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    other = cells.setdefault((x, y), p.get("title"))
                    if other != p.get("title"):
                        self.check(False, f"panels {other!r} and {p.get('title')!r} overlap")
                        return

    def lint_panel(self, p):
        title = p.get("title")
        self.check(bool(title), f"panel {p.get('id')}: no title")
        self.check(bool(p.get("description")), f"panel {title!r}: no description")
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
        self.check(unit in KNOWN_UNITS, f"panel {title!r}: unit {unit!r} missing or unknown")
        if unit == "none":
            mappings = p.get("fieldConfig", {}).get("defaults", {}).get("mappings")
            decimals = p.get("fieldConfig", {}).get("defaults", {}).get("decimals")
            self.check(bool(mappings) or decimals == 0, f"panel {title!r}: unit none without value mappings")
        self.check(self.uses_ds_variable(p.get("datasource")), f"panel {title!r}: data source must be ${{datasource}}")
        targets = p.get("targets", [])
        self.check(len(targets) > 0, f"panel {title!r}: no targets")
        for t in targets:
            self.lint_target(title, t)
        if any(tr.get("id") == "merge" for tr in p.get("transformations", [])):
            self.lint_merged_table(title, targets)

    def lint_merged_table(self, title, targets):
        by = set()
        for t in targets:
            m = AGGREGATION_BY_RE.match(t.get("expr") or "")
            by.add(tuple(sorted(l.strip() for l in m.group(1).split(","))) if m else None)
            self.check(t.get("format") == "table" and t.get("instant") is True,
                       f"panel {title!r} target {t.get('refId')}: a merged table needs instant table queries")
        self.check(len(by) == 1 and None not in by,
                   f"panel {title!r}: merged queries must aggregate by the same labels, not {sorted(by, key=str)}")

    def lint_target(self, title, t):
        where = f"panel {title!r} target {t.get('refId')}"
        expr = (t.get("expr") or "").strip()
        self.check(bool(expr), f"{where}: empty target")
        self.check(self.uses_ds_variable(t.get("datasource")), f"{where}: data source must be ${{datasource}}")
        for m in RATE_RE.finditer(expr):
            self.check(m.group(3) == "$__rate_interval",
                       f"{where}: {m.group(1)}() over [{m.group(3)}]: use [$__rate_interval]")
        for m in SELECTOR_RE.finditer(expr):
            matchers = m.group(2)
            if m.group(1) in ("by", "without", "on", "ignoring", "group_left", "group_right"):
                continue
            self.check('job=~"$job"' in matchers, f"{where}: selector {m.group(0)} lacks job=~\"$job\"")
            self.check('instance=~"$instance"' in matchers, f"{where}: selector {m.group(0)} lacks instance=~\"$instance\"")
        bare = re.findall(r"\b([a-z_]+:[a-z_:]+|thinpool_[a-z_]+|up)(?![a-zA-Z0-9_:]|\s*[{(])", expr)
        self.check(not bare, f"{where}: metric without matchers: {bare}")
        self.check(bool(t.get("legendFormat")) or expr.startswith(("count(", "max(", "min(", "sum(")),
                   f"{where}: no legendFormat")


def first_panel(d, kind):
    return next(p for p in d["panels"] if p.get("type") == kind)


def merged_table(d):
    return next(p for p in d["panels"] if any(t.get("id") == "merge" for t in p.get("transformations", [])))


def panel_titled(d, title):
    return next(p for p in d["panels"] if p.get("title") == title)


def rate_panel(d):
    return next(p for p in d["panels"] if "$__rate_interval" in json.dumps(p.get("targets", [])))


# (what is broken, how): each must make the linter complain.
BREAKAGES = [
    ("no uid", lambda d: d.pop("uid")),
    ("no title", lambda d: d.pop("title")),
    ("fixed dashboard id", lambda d: d.update(id=7)),
    ("no datasource variable", lambda d: d["templating"].update(
        list=[v for v in d["templating"]["list"] if v["type"] != "datasource"])),
    ("no instance variable", lambda d: d["templating"].update(
        list=[v for v in d["templating"]["list"] if v["name"] != "instance"])),
    ("empty target", lambda d: first_panel(d, "timeseries")["targets"][0].update(expr="")),
    ("fixed range instead of $__rate_interval", lambda d: rate_panel(d)["targets"][0].update(
        expr=rate_panel(d)["targets"][0]["expr"].replace("$__rate_interval", "5m"))),
    ("no unit", lambda d: first_panel(d, "timeseries")["fieldConfig"]["defaults"].pop("unit")),
    ("no description", lambda d: first_panel(d, "stat").pop("description")),
    ("hard-coded panel data source", lambda d: first_panel(d, "timeseries").update(
        datasource={"type": "prometheus", "uid": "P1809F7CD0C75ACF3"})),
    ("hard-coded target data source", lambda d: first_panel(d, "stat")["targets"][0].update(datasource="Prometheus")),
    ("selector without $job", lambda d: first_panel(d, "timeseries")["targets"][0].update(
        expr=first_panel(d, "timeseries")["targets"][0]["expr"].replace('job=~"$job",', ""))),
    ("overlapping panels", lambda d: first_panel(d, "timeseries")["gridPos"].update(x=0, y=0)),
    ("merged table query not aggregated", lambda d: merged_table(d)["targets"][-1].update(
        expr=re.sub(r"^max by \([^)]*\) ", "", merged_table(d)["targets"][-1]["expr"]))),
    ("merged table query by other labels", lambda d: merged_table(d)["targets"][0].update(
        expr=re.sub(r"^max by \(([^)]*)\)", r"max by (\1, pool)", merged_table(d)["targets"][0]["expr"]))),
    ("merged table query not instant", lambda d: merged_table(d)["targets"][0].pop("instant")),
    ("metadata sizing without lvm2's estimate", lambda d: panel_titled(d, "Metadata sizing").update(
        targets=[t for t in panel_titled(d, "Metadata sizing")["targets"] if "lvm_estimate" not in t["expr"]])),
    ("no inactive pools table", lambda d: d.update(panels=[p for p in d["panels"] if p["title"] != "Inactive thin pools"])),
    ("autoextend table without dmeventd monitoring", lambda d: panel_titled(d, "Autoextend per pool").update(
        targets=[t for t in panel_titled(d, "Autoextend per pool")["targets"] if "lvm_monitored" not in t["expr"]])),
]


# The fleet dashboard's (--recorded-only): a per-volume series in one of its queries.
RECORDED_ONLY_BREAKAGES = [
    ("no uid", lambda d: d.pop("uid")),
    ("selector without $job", lambda d: first_panel(d, "timeseries")["targets"][0].update(
        expr=first_panel(d, "timeseries")["targets"][0]["expr"].replace('job=~"$job",', ""))),
    ("merged table query not aggregated", lambda d: merged_table(d)["targets"][-1].update(
        expr=re.sub(r"^max by \([^)]*\) ", "", merged_table(d)["targets"][-1]["expr"]))),
    ("per-volume series in a fleet query", lambda d: first_panel(d, "stat")["targets"][0].update(
        expr='count(thinpool_volume_mapped_bytes{job=~"$job",instance=~"$instance"})')),
    ("exporter series in a merged fleet table", lambda d: merged_table(d)["targets"][0].update(
        expr=re.sub(r"\b[a-z_]+:[a-z_]+:[a-z_]+\b", "thinpool_data_used_bytes", merged_table(d)["targets"][0]["expr"]))),
]


def self_test(dashboard, recorded_only=False):
    missed = 0
    for what, breakage in RECORDED_ONLY_BREAKAGES if recorded_only else BREAKAGES:
        broken = copy.deepcopy(dashboard)
        breakage(broken)
        if broken == dashboard:
            print(f"FAIL self-test: {what}: the breakage changed nothing")
            missed += 1
            continue
        linter = Linter(what, recorded_only)
        linter.lint(broken)
        if linter.problems:
            print(f"ok   self-test: {what}: {linter.problems[0]}")
        else:
            print(f"FAIL self-test: {what}: not noticed")
            missed += 1
    return missed


def main():
    failed = 0
    args = sys.argv[1:]
    run_self_test = "--self-test" in args
    recorded_only = "--recorded-only" in args
    for path in [a for a in args if not a.startswith("--")]:
        with open(path) as f:
            dashboard = json.load(f)
        if run_self_test:
            failed += self_test(dashboard, recorded_only)
        linter = Linter(path, recorded_only)
        linter.lint(dashboard)
        for problem in linter.problems:
            print(f"FAIL {path}: {problem}")
        print(f"{path}: {linter.checks - len(linter.problems)} passed, {len(linter.problems)} failed")
        failed += len(linter.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
