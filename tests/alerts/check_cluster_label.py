#!/usr/bin/env python3
"""Every rule, alert and dashboard query of the mixin keeps the cluster label, as alerts/mixin/config.libsonnet says.

Checks the generated files (alerts/thinpool_rules.yml, alerts/thinpool_alerts.yml, grafana/dashboards/*.json) and the
mixin rendered as a user with several clusters would (`clusterLabel: 'k8s_cluster'`, `showMultiCluster: true`):
  - every `by (...)` and `on (...)` clause of a rule, an alert (its query and the queries in its description) and a
    dashboard query names the cluster label: an aggregation keeps it, a match stays within one cluster;
  - every query in an alert's description that selects by job and instance selects by the cluster too;
  - with showMultiCluster, each dashboard has a `cluster` variable reading the cluster label, every selector of its
    panels carries `<label>=~"$cluster"`, and its tables show the cluster.

Usage: check_cluster_label.py REPO_ROOT
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

CLAUSE_RE = re.compile(r"\b(by|on)\s*\(([^)]*)\)")
TEMPLATE_SELECTOR_RE = re.compile(r"\{[^{}]*job=%q[^{}]*\}")
SELECTOR_RE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\{([^}]*)\}")


def clauses(expr, label, where, failed):
    for m in CLAUSE_RE.finditer(expr):
        labels = [l.strip() for l in m.group(2).split(",")]
        if label not in labels:
            failed.append(f"{where}: {m.group(0)} lacks {label}")


def check_rules(groups, label, where, failed):
    count = 0
    for group in groups:
        for rule in group["rules"]:
            name = rule.get("record") or rule.get("alert")
            clauses(rule["expr"], label, f"{where} {name}", failed)
            for text in rule.get("annotations", {}).values():
                clauses(text, label, f"{where} {name} annotation", failed)
                for m in TEMPLATE_SELECTOR_RE.finditer(text):
                    if f"{label}=%q" not in m.group(0):
                        failed.append(f"{where} {name}: description query {m.group(0)} lacks {label}")
            count += 1
    return count


def check_dashboard(dashboard, label, multi, where, failed):
    count = 0
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    if multi:
        query = variables.get("cluster", {}).get("definition", "")
        if not query.endswith(f", {label})"):
            failed.append(f"{where}: no cluster variable reading {label}: {query!r}")
    elif "cluster" in variables:
        failed.append(f"{where}: a cluster variable without showMultiCluster")
    for panel in dashboard["panels"]:
        for t in panel.get("targets", []):
            expr = t["expr"]
            count += 1
            clauses(expr, label, f"{where} {panel['title']!r} {t['refId']}", failed)
            if multi:
                for m in SELECTOR_RE.finditer(expr):
                    if m.group(1) in ("by", "without", "on", "ignoring", "group_left", "group_right"):
                        continue
                    if f'{label}=~"$cluster"' not in m.group(2):
                        failed.append(f"{where} {panel['title']!r} {t['refId']}: {m.group(0)} lacks the cluster")
        if multi and panel["type"] == "table":
            renames = panel["transformations"][-1]["options"]["renameByName"]
            if renames.get(label) != "Cluster":
                failed.append(f"{where} {panel['title']!r}: no Cluster column")
    return count


def render(repo, tmp):
    source = os.path.join(tmp, "multi.jsonnet")
    with open(source, "w") as f:
        f.write("local mixin = (import '%s/alerts/mixin/mixin.libsonnet') + {\n"
                "  _config+:: { clusterLabel: 'k8s_cluster', showMultiCluster: true },\n};\n"
                "{ 'rules.json': mixin.prometheusRules, 'alerts.json': mixin.prometheusAlerts }\n"
                "+ { [name]: mixin.grafanaDashboards[name] for name in std.objectFields(mixin.grafanaDashboards) }\n"
                % repo)
    subprocess.run(["jsonnet", "-m", tmp, source], check=True, capture_output=True, timeout=60)
    return {name: json.load(open(os.path.join(tmp, name)))
            for name in os.listdir(tmp) if name.endswith(".json")}


def main():
    repo = os.path.abspath(sys.argv[1])
    failed, checked = [], 0
    for name in ("thinpool_rules.yml", "thinpool_alerts.yml"):
        with open(os.path.join(repo, "alerts", name)) as f:
            checked += check_rules(yaml.safe_load(f)["groups"], "cluster", name, failed)
    for path in sorted(glob.glob(os.path.join(repo, "grafana", "dashboards", "*.json"))):
        with open(path) as f:
            checked += check_dashboard(json.load(f), "cluster", False, os.path.basename(path), failed)
    with tempfile.TemporaryDirectory(prefix="cluster-label-") as tmp:
        rendered = render(repo, tmp)
    for name, value in sorted(rendered.items()):
        if "groups" in value:
            checked += check_rules(value["groups"], "k8s_cluster", f"k8s_cluster {name}", failed)
        else:
            checked += check_dashboard(value, "k8s_cluster", True, f"k8s_cluster {name}", failed)
    if len(rendered) < 4:
        failed.append(f"rendered only {sorted(rendered)}")
    for problem in failed:
        print(f"FAIL {problem}")
    print(f"{checked} rules, alerts and queries checked, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
