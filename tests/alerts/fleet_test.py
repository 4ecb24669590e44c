#!/usr/bin/env python3
"""The mixin across a fleet: Prometheus in agent mode on each host, remote-writing to one central Prometheus that
evaluates the shipped rules and alerts.

Starts, on 127.0.0.1, three thinpool_exporter processes (port 0: each one's port is read from its log line
`listening on X at ADDR (port N)`), a Prometheus in agent mode per exporter (`--enable-feature=agent`, scraping it
every second, with `cluster` in its external_labels) and one central Prometheus with the remote-write receiver on
(`--web.enable-remote-write-receiver`) that loads alerts/thinpool_rules.yml and alerts/thinpool_alerts.yml and
evaluates them every second:
  east/seed     tests/fixtures/seed-incident: metadata 100%, mode ro;
  east/faults   tests/fixtures/faults: out_of_data_space, needs_check, held snapshot, parse errors;
  west/growing  tests/fixtures/lvm-healthy, restarted on its port with more data and metadata used each time
                (the exporter reads its fixtures once), so that time to full has real growth.
Then checks over the central Prometheus's HTTP API:
  - every recording rule has series, and those of each exporter carry its instance and its agent's cluster; the
    per-exporter rules have exactly one series per exporter;
  - ThinPoolMetadataAlmostFull (critical) is active for the seed's pool with cluster east and the seed's instance,
    its description rendered from the central store's data and its runbook_url the seed exporter's /runbook
    (which answers, with the alert's anchor);
  - every variable and panel query of the fleet dashboard returns data, as shipped (grafana/dashboards/
    thinpool-fleet.json) and rendered with showMultiCluster (a Cluster variable: both clusters, every query
    narrowed by it), and the pool tables list every pool of every host.

Usage: fleet_test.py EXPORTER_BINARY REPO_ROOT
Bounded: gives up after DEADLINE seconds; every process it started is stopped on the way out.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_prometheus  # noqa: E402 - processes, HTTP and Prometheus
import promql_live_test as live  # noqa: E402 - the live test's checks and growth helpers

DEADLINE = 240  # seconds, for the whole test
live_prometheus.DEADLINE = DEADLINE
HOSTS = {"seed": "east", "faults": "east", "growing": "west"}  # exporter -> its agent's cluster
SEED_POOL = live.SEED_POOL
GROWTH_STEPS = 6
GROWTH_PERIOD = 1.5
LISTENING = re.compile(r"listening on .*? \(port (\d+)\)")


def exporter_port(proc, log):
    """The port from the exporter's `listening on` log line."""
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"exporter exited with {proc.returncode}: {open(log).read()[-2000:]}")
        m = LISTENING.search(open(log).read())
        if m:
            return int(m.group(1))
        live_prometheus.remaining()
        time.sleep(0.05)


def render_multi_cluster(repo, tmp):
    """The fleet dashboard as a user with several clusters renders it (showMultiCluster: true)."""
    source = os.path.join(tmp, "fleet.jsonnet")
    with open(source, "w") as f:
        f.write("((import '%s/alerts/mixin/mixin.libsonnet') + { _config+:: { showMultiCluster: true } })"
                ".grafanaDashboards['thinpool-fleet.json']\n" % repo)
    run = subprocess.run(["jsonnet", source], check=True, capture_output=True, text=True, timeout=60)
    return json.loads(run.stdout)


def check_recording_rules(prom, checks, repo, instances):
    """Every recording rule has series; each series' instance is one of ours, with its agent's cluster."""
    with open(os.path.join(repo, "alerts", "thinpool_rules.yml")) as f:
        records = [r["record"] for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
    for record in records:
        result = prom.query(record)
        wrong = [s["metric"] for s in result
                 if instances.get(s["metric"].get("instance")) != s["metric"].get("cluster")]
        seen = {s["metric"].get("instance") for s in result}
        if not result:
            checks.fail(f"recording rule {record}: no series in the central Prometheus")
        elif wrong:
            checks.fail(f"recording rule {record}: series without their exporter's instance and cluster: {wrong[:3]}")
        elif record.startswith("instance:") and (len(result) != len(instances) or seen != set(instances)):
            checks.fail(f"recording rule {record}: expected one series per exporter {sorted(instances)}, got "
                        f"{[s['metric'] for s in result]}")
        else:
            pairs = sorted({(s["metric"]["cluster"], s["metric"]["instance"]) for s in result})
            checks.ok(f"recording rule {record}: {len(result)} series from {pairs}")


def check_seed_alert(prom, checks, seed_instance):
    alerts = prom.api("/api/v1/alerts")["alerts"]
    seed = [a for a in alerts if a["labels"].get("alertname") == "ThinPoolMetadataAlmostFull"
            and a["labels"].get("severity") == "critical" and a["state"] in ("pending", "firing")]
    want = {"cluster": "east", "instance": seed_instance, "job": "thinpool", "pool": SEED_POOL}
    match = [a for a in seed if all(a["labels"].get(k) == v for k, v in want.items())]
    if len(match) != 1:
        checks.fail(f"ThinPoolMetadataAlmostFull critical: expected one, for {want}: {seed}")
        return
    alert = match[0]
    checks.ok(f"ThinPoolMetadataAlmostFull critical is {alert['state']} centrally with {want}")
    description = alert["annotations"]["description"]
    if f"on {seed_instance} has used 100% of its metadata space" in description and "Data 17.81% used" in description:
        checks.ok("its description is rendered from the central store: 100% metadata, 17.81% data")
    else:
        checks.fail(f"its description lacks the seed's numbers: {description}")
    url = alert["annotations"].get("runbook_url", "")
    expected = f"http://{seed_instance}/runbook#thinpoolmetadataalmostfull"
    if url != expected:
        checks.fail(f"runbook_url {url!r}, expected {expected!r}")
        return
    try:
        with urllib.request.urlopen(url.partition("#")[0], timeout=5) as r:
            page = r.read().decode()
    except OSError as e:
        checks.fail(f"runbook_url {url}: {e}")
        return
    if 'id="thinpoolmetadataalmostfull"' in page:
        checks.ok(f"runbook_url {url}: the exporter serves the page, with the alert's anchor")
    else:
        checks.fail(f"runbook_url {url}: the page has no id=\"thinpoolmetadataalmostfull\"")


def check_fleet_dashboard(prom, checks, dashboard, what, instances):
    values = {}

    def substitute(text):
        text = text.replace("$__rate_interval", "1m").replace("$__interval", "15s").replace("$__range", "5m")
        for name, value in values.items():
            text = text.replace("${" + name + "}", value).replace("$" + name, value)
        return text

    for v in dashboard["templating"]["list"]:
        if v["type"] != "query":
            continue
        found = live.label_values(prom, substitute(v["query"]["query"]))
        if v["name"] == "cluster" and sorted(found) != ["east", "west"]:
            checks.fail(f"{what} variable cluster: {found}, expected east and west")
        elif not found:
            checks.fail(f"{what} variable {v['name']}: no values")
        else:
            checks.ok(f"{what} variable {v['name']}: {found}")
        values[v["name"]] = (v.get("allValue") or ".+") if v.get("includeAll") else re.escape(found[0] if found else "")
    for p in dashboard["panels"]:
        for t in p.get("targets", []):
            expr = substitute(t["expr"])
            result = prom.query(expr)
            if not result:
                checks.fail(f"{what} panel {p['title']!r} {t['refId']}: no data for {expr}")
                continue
            checks.ok(f"{what} panel {p['title']!r} {t['refId']}: {len(result)} series")
            if p["type"] == "table" and t["refId"] == "B":  # usage or pools, which every pool or exporter has
                hosts = {s["metric"].get("instance") for s in result}
                if hosts != set(instances):
                    checks.fail(f"{what} panel {p['title']!r}: rows for {sorted(hosts)}, not every exporter")


def main():
    exporter, repo = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    tmp = tempfile.mkdtemp(prefix="fleet-")
    procs = live_prometheus.Processes(tmp)
    checks = live.Checks()
    ports = {}
    try:
        fixtures = {"seed": os.path.join(repo, "tests/fixtures/seed-incident"),
                    "faults": os.path.join(repo, "tests/fixtures/faults"),
                    "growing": os.path.join(tmp, "growing")}
        shutil.copytree(os.path.join(repo, "tests/fixtures/lvm-healthy"), fixtures["growing"])
        no_backups = os.path.join(tmp, "no-lvm-backups")
        os.makedirs(no_backups)

        def start_exporter(name, port=0):
            proc, log = procs.start(name, [exporter, f"--web.listen-address=127.0.0.1:{port}",
                                           f"--devmapper.fixtures={fixtures[name]}",
                                           f"--collector.lvm.backup-dir={no_backups}",  # never the host's
                                           "--log.level=info"])
            ports[name] = exporter_port(proc, log)
            live_prometheus.wait_http(f"http://127.0.0.1:{ports[name]}/metrics", f"exporter {name}", proc, log)

        for name in HOSTS:
            start_exporter(name)
        instances = {f"127.0.0.1:{ports[name]}": cluster for name, cluster in HOSTS.items()}

        prom = live_prometheus.start_prometheus(procs, "central", {
            "global": {"evaluation_interval": "1s"},
            "rule_files": [os.path.join(repo, "alerts", f) for f in ("thinpool_rules.yml", "thinpool_alerts.yml")],
        }, ["--web.enable-remote-write-receiver", "--storage.tsdb.retention.time=1h"], what="central prometheus")
        agents = [live_prometheus.start_prometheus(procs, f"agent-{name}", {
            "global": {"scrape_interval": "1s", "scrape_timeout": "900ms", "external_labels": {"cluster": cluster}},
            "scrape_configs": [{"job_name": "thinpool", "static_configs": [{"targets": [f"127.0.0.1:{ports[name]}"]}]}],
            "remote_write": [{"url": f"{prom.base}/api/v1/write",
                              "queue_config": {"batch_send_deadline": "200ms", "min_backoff": "50ms",
                                               "max_backoff": "500ms"}}],
        }, agent=True, what=f"agent {name}") for name, cluster in HOSTS.items()]

        # Growth: the exporter reads its fixtures once, so each step restarts it on the same port.
        time.sleep(GROWTH_PERIOD)
        for step in range(1, GROWTH_STEPS + 1):
            live.grow(fixtures["growing"], step)
            procs.stop("growing")
            start_exporter("growing", ports["growing"])
            time.sleep(GROWTH_PERIOD)
        # Remote write batches and the central rule evaluations of the final state.
        while not prom.query('thinpool:time_to_full:seconds{cluster="west"}') \
                or len(prom.query("instance:thinpool_scrape_samples:max")) < len(HOSTS):
            live_prometheus.remaining()
            time.sleep(0.5)
        time.sleep(2)
        for p in [prom] + agents:
            p.check_running()

        check_recording_rules(prom, checks, repo, instances)
        check_seed_alert(prom, checks, f"127.0.0.1:{ports['seed']}")
        with open(os.path.join(repo, "grafana", "dashboards", "thinpool-fleet.json")) as f:
            check_fleet_dashboard(prom, checks, json.load(f), "fleet", instances)
        check_fleet_dashboard(prom, checks, render_multi_cluster(repo, tmp), "fleet (showMultiCluster)", instances)
    except Exception as e:  # noqa: BLE001 - report any setup failure as a test failure, with logs
        checks.fail(f"{type(e).__name__}: {e}")
        for name in list(procs.procs):
            log = os.path.join(tmp, name + ".log")
            if os.path.exists(log):
                print(f"--- {name}.log (tail)\n{open(log).read()[-1500:]}")
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{checks.passed} passed, {len(checks.failed)} failed ({time.monotonic() - live_prometheus.started:.1f} s)")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
