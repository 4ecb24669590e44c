#!/usr/bin/env python3
"""The provisioning examples are valid Grafana provisioning files (apiVersion 1, a file provider whose
options.path exists in the README's install command, a Prometheus data source), and every dashboard JSON under
grafana/dashboards parses and has a uid unique among them.
Usage: check_provisioning.py GRAFANA_DIR"""
import glob
import json
import os
import sys

import yaml

root = sys.argv[1]
problems = []
dash = yaml.safe_load(open(os.path.join(root, "provisioning", "dashboards", "thinpool.yml")))
providers = dash.get("providers", [])
if dash.get("apiVersion") != 1 or len(providers) != 1:
    problems.append("dashboards provisioning: apiVersion 1 with one provider expected")
else:
    p = providers[0]
    if p.get("type") != "file" or not p.get("options", {}).get("path", "").startswith("/"):
        problems.append("dashboards provisioning: provider must be type file with an absolute options.path")
    readme = open(os.path.join(root, "README.md")).read()
    if p.get("options", {}).get("path", "") not in readme:
        problems.append("dashboards provisioning: README does not install the dashboard into options.path")
ds = yaml.safe_load(open(os.path.join(root, "provisioning", "datasources", "prometheus.yml")))
if ds.get("apiVersion") != 1 or not any(d.get("type") == "prometheus" for d in ds.get("datasources", [])):
    problems.append("datasources provisioning: apiVersion 1 with a prometheus data source expected")
uids = []
for path in glob.glob(os.path.join(root, "dashboards", "*.json")):
    uids.append(json.load(open(path)).get("uid"))
if not uids or len(uids) != len(set(uids)):
    problems.append(f"dashboard uids missing or not unique: {uids}")
for p in problems:
    print("FAIL", p)
print(f"{4 - len(problems)} passed, {len(problems)} failed")
sys.exit(1 if problems else 0)
