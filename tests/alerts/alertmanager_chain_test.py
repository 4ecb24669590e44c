#!/usr/bin/env python3
"""The whole chain on 127.0.0.1: real exporter -> real Prometheus with our rules -> real Alertmanager with
alerts/alertmanager.example.yml -> webhook receivers served by this test.

The rules are rendered from the mixin with every `for` overridden to 0s, the way alerts/README.md tells users to
override thresholds (jsonnet -J vendor with an imported mixin): it proves the override works, and the alerts fire
within seconds. The Alertmanager configuration is the example with its webhook URLs pointed at this test and its
group_wait shortened; routes and inhibitions are the example's own.

Scenario: the seed incident (metadata 100%, data 17.81%, ro) and a pool whose metadata grows to 97% (exporter
restarted on more used blocks), plus a target nobody listens on. Checks:
  - the pager receiver gets the critical ThinPoolMetadataAlmostFull of the seed pool with pool, vg, lv, instance
    labels, its runbook_url (the seed exporter's /runbook) and a description quoting 100% and 17.81%;
  - the warning ThinPoolMetadataAlmostFull of the same pool is inhibited (critical inhibits warning) and is not
    delivered; ThinPoolMetadataFillingUp of the growing pool is inhibited by its ThinPoolMetadataAlmostFull;
  - warnings (ThinPoolExporterDown) reach the tickets receiver, not the pager.

Usage: alertmanager_chain_test.py EXPORTER_BINARY REPO_ROOT
"""
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_prometheus  # noqa: E402 - processes, HTTP and Prometheus
import promql_live_test as live  # noqa: E402 - the live test's checks and growth helpers

FOR_KEYS = ["metadataAlmostFullFor", "dataAlmostFullFor", "fillingUpWarningFor", "fillingUpCriticalFor",
            "notWritableFor", "needsCheckFor", "metadataSnapshotHeldFor", "transactionIdMismatchFor",
            "metadataCannotGrowFor", "collectorFailingFor", "exporterDownFor", "exporterAbsentFor"]


class Webhooks:
    """Collects Alertmanager webhook posts per path (/page, /ticket)."""

    def __init__(self):
        self.received = {}
        hooks = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hooks.received.setdefault(self.path, []).extend(body["alerts"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, path):
        return [a for a in self.received.get(path, []) if a["status"] == "firing"]


def render_rules(repo, tmp):
    vendor = os.path.join(tmp, "vendor")
    os.makedirs(vendor)
    os.symlink(repo, os.path.join(vendor, "thinpool_exporter"))
    overrides = ",\n    ".join(f"{k}: '0s'" for k in FOR_KEYS)
    source = os.path.join(tmp, "my-thinpool.jsonnet")
    with open(source, "w") as f:
        f.write(f"""local mixin = (import 'thinpool_exporter/alerts/mixin/mixin.libsonnet') + {{
  _config+:: {{
    {overrides},
  }},
}};
{{
  'thinpool_rules.json': mixin.prometheusRules,
  'thinpool_alerts.json': mixin.prometheusAlerts,
}}
""")
    out = os.path.join(tmp, "rules")
    os.makedirs(out)
    subprocess.run(["jsonnet", "-J", vendor, "-m", out, source], check=True, capture_output=True,
                   timeout=live_prometheus.remaining())
    return [os.path.join(out, "thinpool_rules.json"), os.path.join(out, "thinpool_alerts.json")]


def alertmanager_config(repo, tmp, hooks):
    with open(os.path.join(repo, "alerts", "alertmanager.example.yml")) as f:
        config = yaml.safe_load(f)
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = re.sub(r"^http://[^/]+", f"http://127.0.0.1:{hooks.port}", hook["url"])
    for route in [config["route"]] + config["route"].get("routes", []):
        if "group_wait" in route:
            route["group_wait"] = "1s"
    config["route"]["group_interval"] = "1s"
    path = os.path.join(tmp, "alertmanager.yml")
    with open(path, "w") as f:
        yaml.safe_dump(config, f)
    return path


def main():
    exporter, repo = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    tmp = tempfile.mkdtemp(prefix="am-chain-")
    procs = live_prometheus.Processes(tmp)
    checks = live.Checks()
    hooks = Webhooks()
    try:
        ports = {n: live_prometheus.free_port() for n in ("growing", "seed", "down", "alertmanager")}
        fixtures = {"growing": os.path.join(tmp, "growing"), "seed": os.path.join(repo, "tests/fixtures/seed-incident")}
        shutil.copytree(os.path.join(repo, "tests/fixtures/lvm-healthy"), fixtures["growing"])

        def start_exporter(name):
            proc, log = procs.start(name, [exporter, f"--web.listen-address=127.0.0.1:{ports[name]}",
                                           f"--devmapper.fixtures={fixtures[name]}", "--log.level=warn"])
            live_prometheus.wait_http(f"http://127.0.0.1:{ports[name]}/metrics", f"exporter {name}", proc, log)

        for name in ("growing", "seed"):
            start_exporter(name)

        am_proc, am_log = procs.start("alertmanager", [
            "prometheus-alertmanager", f"--config.file={alertmanager_config(repo, tmp, hooks)}",
            f"--storage.path={os.path.join(tmp, 'am')}", f"--web.listen-address=127.0.0.1:{ports['alertmanager']}",
            "--cluster.listen-address=", "--log.level=warn"])
        am = f"http://127.0.0.1:{ports['alertmanager']}"
        live_prometheus.wait_http(am + "/-/ready", "alertmanager", am_proc, am_log)

        live_prometheus.start_prometheus(procs, "prometheus", {
            "global": {"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
            "rule_files": render_rules(repo, tmp),
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{ports['alertmanager']}"]}]}]},
            "scrape_configs": [{"job_name": "thinpool", "static_configs": [
                {"targets": [f"127.0.0.1:{ports[n]}" for n in ("growing", "seed", "down")]}]}],
        }, ["--rules.alert.resend-delay=1s"])

        time.sleep(1.5)
        for step in range(1, live.GROWTH_STEPS + 1):
            live.grow(fixtures["growing"], step)
            procs.stop("growing")
            start_exporter("growing")
            time.sleep(1.0)

        # Wait until the pager has the seed's critical alert (or the deadline passes).
        def seed_paged():
            return [a for a in hooks.alerts("/page") if a["labels"].get("alertname") == "ThinPoolMetadataAlmostFull"
                    and a["labels"].get("pool") == live.SEED_POOL and a["labels"].get("instance") == f"127.0.0.1:{ports['seed']}"]
        while not seed_paged() or not hooks.alerts("/ticket"):
            live_prometheus.remaining()
            time.sleep(0.5)
        time.sleep(3)  # let inhibitions settle and late notifications arrive

        paged = seed_paged()[0]
        labels_ok = all(paged["labels"].get(k) for k in ("pool", "vg", "lv", "instance", "severity"))
        desc = paged["annotations"].get("description", "")
        if paged["labels"]["severity"] == "critical" and labels_ok and "100%" in desc and "17.81%" in desc \
                and paged["annotations"].get("runbook_url") == \
                f"http://{paged['labels'].get('instance')}/runbook#thinpoolmetadataalmostfull":
            checks.ok("pager got the seed's critical ThinPoolMetadataAlmostFull with labels, description, runbook_url")
        else:
            checks.fail(f"pager got the seed alert but not as expected: {paged}")

        am_alerts = json.loads(live_prometheus.http_get(am + "/api/v2/alerts"))

        def am_find(alertname, severity, instance_port):
            return [a for a in am_alerts if a["labels"].get("alertname") == alertname
                    and a["labels"].get("severity") == severity
                    and a["labels"].get("instance") == f"127.0.0.1:{ports[instance_port]}"]

        warning = am_find("ThinPoolMetadataAlmostFull", "warning", "seed")
        if warning and warning[0]["status"]["state"] == "suppressed" and warning[0]["status"]["inhibitedBy"]:
            checks.ok("the seed's warning ThinPoolMetadataAlmostFull is inhibited by its critical one")
        else:
            checks.fail(f"the seed's warning ThinPoolMetadataAlmostFull is not inhibited: {warning}")
        filling = [a for s in ("warning", "critical") for a in am_find("ThinPoolMetadataFillingUp", s, "growing")]
        if filling and all(a["status"]["state"] == "suppressed" for a in filling):
            checks.ok(f"ThinPoolMetadataFillingUp of the growing pool is inhibited by ThinPoolMetadataAlmostFull "
                      f"({len(filling)} alerts)")
        else:
            checks.fail(f"ThinPoolMetadataFillingUp not (all) inhibited: {[(a['labels'], a['status']) for a in filling]}")

        # (The growing pool's filling-up alerts were rightly delivered before its metadata reached 75%.)
        delivered = hooks.alerts("/page") + hooks.alerts("/ticket")
        leaked = [a["labels"] for a in delivered if
                  a["labels"]["alertname"] == "ThinPoolMetadataAlmostFull" and a["labels"]["severity"] == "warning"
                  and a["labels"].get("instance") == f"127.0.0.1:{ports['seed']}"]
        if leaked:
            checks.fail(f"the inhibited seed warning was delivered: {leaked}")
        else:
            checks.ok("the inhibited seed warning was never delivered")
        wrong_pager = [a["labels"] for a in hooks.alerts("/page") if a["labels"].get("severity") != "critical"]
        wrong_ticket = [a["labels"] for a in hooks.alerts("/ticket") if a["labels"].get("severity") != "warning"]
        tickets = {a["labels"]["alertname"] for a in hooks.alerts("/ticket")}
        if not wrong_pager and not wrong_ticket and "ThinPoolExporterDown" in tickets:
            checks.ok(f"critical alerts paged, warnings ticketed (tickets: {sorted(tickets)})")
        else:
            checks.fail(f"routing: pager got {wrong_pager}, tickets got {wrong_ticket}, ticket names {tickets}")
    except Exception as e:  # noqa: BLE001
        checks.fail(f"{type(e).__name__}: {e}")
        for name in ("prometheus", "alertmanager", "growing", "seed"):
            log = os.path.join(tmp, name + ".log")
            if os.path.exists(log):
                print(f"--- {name}.log (tail)\n{open(log).read()[-1500:]}")
        print("--- webhooks received:", json.dumps(
            {k: [a["labels"] for a in v] for k, v in hooks.received.items()})[:3000])
    finally:
        procs.stop_all()
        hooks.server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{checks.passed} passed, {len(checks.failed)} failed ({time.monotonic() - live_prometheus.started:.1f} s)")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
