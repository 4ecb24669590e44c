#!/usr/bin/env python3
"""The mixin's opt-outs for pools that are inactive on purpose work as alerts/README.md tells users to use them.

Renders the mixin the way a user's configuration repository does (vendor alerts/mixin alone, as jsonnet-bundler
does, import it, override `_config`; its dashboards render from the vendored copy too) with
`poolInactiveSelector: 'vg!~"archive.*",thinpool_inactive_ok!="true"'` (a per-VG opt-out and a label attached by
relabeling) and `poolInactiveSeverity: 'critical'`, then runs promtool on the rendered rules: of four pools that stay
inactive, the one in VG `archive-2023` and the one labelled `thinpool_inactive_ok="true"` stay silent, the other two
fire as critical. The same input against the shipped rule file fires for all four, as warnings: the test fails if the
override does nothing. The same rendering sets `autoextendDisabledSelector: 'vg!~"fixed-.*"'`: of two pools at 60%
with autoextend disabled, the one in VG `fixed-1` stays silent; the shipped rules fire ThinPoolAutoextendDisabled
for both.

Usage: mixin_overrides_test.py REPO_ROOT
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

MIXIN = "example.com/storage/thinpool_exporter/alerts/mixin"  # where jsonnet-bundler would vendor it
SERIES = [  # (vg, lv, extra labels) of pools that are inactive for the whole test
    ("vg0", "cold", {}),
    ("vg1", "data", {}),
    ("archive-2023", "pool", {}),
    ("vg2", "spare", {"thinpool_inactive_ok": "true"}),
]


def render(repo, tmp):
    # Vendored as `jb install <host>/<owner>/thinpool_exporter/alerts/mixin` does: that folder alone, with its
    # jsonnetfile.json, so the mixin must import nothing outside it.
    with open(os.path.join(repo, "alerts", "mixin", "jsonnetfile.json")) as f:
        if json.load(f).get("version") != 1:
            raise RuntimeError("alerts/mixin/jsonnetfile.json: not a jsonnet-bundler file of version 1")
    vendor = os.path.join(tmp, "vendor")
    shutil.copytree(os.path.join(repo, "alerts", "mixin"), os.path.join(vendor, MIXIN))
    source = os.path.join(tmp, "my-thinpool.jsonnet")
    with open(source, "w") as f:
        f.write("""local mixin = (import '""" + MIXIN + """/mixin.libsonnet') + {
  _config+:: {
    poolInactiveSelector: 'vg!~"archive.*",thinpool_inactive_ok!="true"',
    poolInactiveSeverity: 'critical',
    autoextendDisabledSelector: 'vg!~"fixed-.*"',
  },
};
{
  'thinpool_rules.json': mixin.prometheusRules,
  'thinpool_alerts.json': mixin.prometheusAlerts,
} + mixin.grafanaDashboards
""")
    out = os.path.join(tmp, "rules")
    os.makedirs(out)
    subprocess.run(["jsonnet", "-J", vendor, "-m", out, source], check=True, capture_output=True, timeout=60)
    for dashboard in ("thinpool.json", "thinpool-fleet.json"):
        if not os.path.exists(os.path.join(out, dashboard)):
            raise RuntimeError(f"the vendored mixin did not render {dashboard}")
    return [os.path.join(out, "thinpool_rules.json"), os.path.join(out, "thinpool_alerts.json")]


def labels(vg, lv, extra):
    return dict({"job": "thinpool", "instance": "host1:9966", "vg": vg, "lv": lv}, **extra)


def promtool_test(rule_files, firing, severity, tmp, name):
    """A promtool test of the four inactive pools expecting exactly FIRING (vg names) at SEVERITY."""
    def selector(l):
        return "{" + ",".join(f"{k}={json.dumps(v)}" for k, v in l.items()) + "}"
    inputs = [{"series": "thinpool_lvm_pool_active" + selector(labels(vg, lv, extra)), "values": "0x40"}
              for vg, lv, extra in SERIES]
    # ALERTS rather than alert_rule_test: it carries the labels (what the override changes), not the annotations.
    expected = [{"labels": "ALERTS" + selector(dict(labels(vg, lv, extra), alertname="ThinPoolInactive",
                                                    alertstate="firing", severity=severity)), "value": 1}
                for vg, lv, extra in SERIES if vg in firing]
    test = {
        "rule_files": rule_files,
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": inputs,
            "promql_expr_test": [
                {"expr": 'ALERTS{alertname="ThinPoolInactive",alertstate="firing"}', "eval_time": "30m",
                 "exp_samples": expected},
            ],
        }],
    }
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        json.dump(test, f)  # JSON is YAML
    return subprocess.run(["promtool", "test", "rules", path], capture_output=True, text=True, timeout=60)


AUTOEXTEND_VGS = ("vg0", "fixed-1")  # a pool each, 60% data used, autoextend disabled


def promtool_autoextend_test(rule_files, firing, tmp, name):
    """A promtool test of the two pools expecting ThinPoolAutoextendDisabled for exactly FIRING (vg names)."""
    def selector(l):
        return "{" + ",".join(f"{k}={json.dumps(v)}" for k, v in l.items()) + "}"
    inputs = []
    for vg in AUTOEXTEND_VGS:
        pool = dict(labels(vg, "pool", {}), pool=f"{vg.replace('-', '--')}-pool-tpool")
        inputs += [{"series": "thinpool_data_used_bytes" + selector(pool), "values": "644245094x120"},
                   {"series": "thinpool_data_size_bytes" + selector(pool), "values": "1073741824x120"},
                   {"series": "thinpool_metadata_used_bytes" + selector(pool), "values": "419430x120"},
                   {"series": "thinpool_metadata_size_bytes" + selector(pool), "values": "4194304x120"},
                   {"series": "thinpool_lvm_autoextend_step_ratio" + selector(pool), "values": "0x120"}]
    expected = [{"labels": "ALERTS" + selector(dict(labels(vg, "pool", {}), pool=f"{vg.replace('-', '--')}-pool-tpool",
                                                    alertname="ThinPoolAutoextendDisabled", alertstate="firing",
                                                    severity="warning")), "value": 1}
                for vg in AUTOEXTEND_VGS if vg in firing]
    test = {"rule_files": rule_files, "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": inputs,
        "promql_expr_test": [{"expr": 'ALERTS{alertname="ThinPoolAutoextendDisabled",alertstate="firing"}',
                              "eval_time": "90m", "exp_samples": expected}],
    }]}
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        json.dump(test, f)  # JSON is YAML
    return subprocess.run(["promtool", "test", "rules", path], capture_output=True, text=True, timeout=60)


def main():
    repo = os.path.abspath(sys.argv[1])
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        rendered = render(repo, tmp)
        with open(rendered[1]) as f:
            rule = next(r for g in json.load(f)["groups"] for r in g["rules"] if r.get("alert") == "ThinPoolInactive")
        want = 'thinpool_lvm_pool_active{job="thinpool",vg!~"archive.*",thinpool_inactive_ok!="true"} == 0'
        if rule["expr"] == want:
            print(f"ok   the override's expression: {rule['expr']}")
        else:
            print(f"FAIL the override's expression is {rule['expr']!r}, expected {want!r}")
            failures += 1
        cases = [
            ("with the override, two pools are silent and the others fire as critical", rendered,
             {"vg0", "vg1"}, "critical", "override_test.json"),
            ("the shipped rules fire for all four, as warnings", [os.path.join(repo, "alerts", "thinpool_rules.yml"),
                                                                 os.path.join(repo, "alerts", "thinpool_alerts.yml")],
             {vg for vg, _, _ in SERIES}, "warning", "shipped_test.json"),
        ]
        for what, rule_files, firing, severity, name in cases:
            r = promtool_test(rule_files, firing, severity, tmp, name)
            if r.returncode == 0:
                print(f"ok   {what}")
            else:
                print(f"FAIL {what}:\n{r.stdout}{r.stderr}")
                failures += 1
        shipped = [os.path.join(repo, "alerts", "thinpool_rules.yml"), os.path.join(repo, "alerts", "thinpool_alerts.yml")]
        autoextend_cases = [
            ("with autoextendDisabledSelector, the pool in VG fixed-1 is silent", rendered, {"vg0"},
             "autoextend_override_test.json"),
            ("the shipped rules fire ThinPoolAutoextendDisabled for both", shipped, set(AUTOEXTEND_VGS),
             "autoextend_shipped_test.json"),
        ]
        for what, rule_files, firing, name in autoextend_cases:
            r = promtool_autoextend_test(rule_files, firing, tmp, name)
            if r.returncode == 0:
                print(f"ok   {what}")
            else:
                print(f"FAIL {what}:\n{r.stdout}{r.stderr}")
                failures += 1
    print(f"{len(cases) + len(autoextend_cases) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
