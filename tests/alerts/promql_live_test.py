#!/usr/bin/env python3
"""Every PromQL expression of the rules and the dashboard returns data from a real Prometheus that scraped the real
exporter.

Starts, on 127.0.0.1 and free ports, four thinpool_exporter processes serving fixtures, one target nobody listens
on, and Debian's Prometheus (temporary storage, 1 s scrape and evaluation interval) with our rule files loaded:
  growing   tests/fixtures/lvm-healthy, restarted every 1.5 s with more data and metadata used each time (the
            exporter reads its fixtures once), so time to full and the filling-up alerts have real growth;
  faults    tests/fixtures/faults: out_of_data_space, ro + needs_check, held metadata snapshot, Fail, Error,
            unparsable lines (parse errors grow with every scrape);
  seed      tests/fixtures/seed-incident: data 17.81%, metadata 100%, ro, transaction id 91; with the seed's LVM
            metadata (tests/alerts/fixtures/cinder-volumes.vg: LVM expects 92, 1012 MiB free) and Debian 12's lvm.conf
            (tests/alerts/fixtures/lvm.conf.debian12), where autoextend is disabled, as it was in the incident;
  lvm       tests/fixtures/captured/lvm-cinder-volumes with the LVM backup captured beside it (real lvm2 2.03.16),
            edited into the seed's other half: LVM expects transaction id 6 where the kernel has 5, metadata 88%
            used, 4 MiB free in the VG (the PV's extent count cut to one past the last allocated extent); and a
            second PV, flagged MISSING, holding a second thin pool with one thin volume that the kernel does not
            have (it could not be activated); its lvm.conf turns autoextend on at 70% by 20%, more than the 4 MiB
            free can give;
  down      a port with no listener (up == 0).
Then checks:
  - every rule evaluates without error (/api/v1/rules health "ok");
  - every recording rule has series;
  - every alert expression returns series (or, for a constant threshold, the compared series exist); absent(X)
    returns none while X has series;
  - the alerts that this scenario must raise are pending or firing, with annotations rendered from real data
    (the seed pool's description says 17.81% and 100%);
  - every dashboard variable query returns values, and every panel query, with the variables substituted as
    Grafana would ($__rate_interval as well), returns series.
An expression without series passes only if every series it reads that has none here comes from a PV's metadata
area (ONLY_FROM_A_PV), from the host's dmeventd (ONLY_WITH_DMEVENTD), or exists only while a device hangs;
tests/grafana/dashboard_pv_series_test.py and dashboard_dmeventd_series_test.py feed the first two to the
dashboard's queries.

Usage: promql_live_test.py EXPORTER_BINARY REPO_ROOT
Bounded: gives up after DEADLINE seconds; every process it started is stopped on the way out.
"""
import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import live_prometheus  # noqa: E402
from live_prometheus import Processes, free_port, start_prometheus, wait_http  # noqa: E402

DEADLINE = 120  # seconds, for the whole test
live_prometheus.DEADLINE = DEADLINE
GROWTH_STEPS = 8
GROWTH_PERIOD = 1.5
# Alerts the scenario must raise (pending, as most have a `for`, or firing).
EXPECTED_ACTIVE = {
    "ThinPoolMetadataAlmostFull", "ThinPoolMetadataFillingUp", "ThinPoolDataAlmostFull", "ThinPoolDataFillingUp",
    "ThinPoolNotWritable", "ThinPoolNeedsCheck", "ThinPoolMetadataSnapshotHeld", "ThinPoolParseErrors",
    "ThinPoolExporterDown", "ThinPoolTransactionIdMismatch", "ThinPoolMetadataCannotGrow", "ThinPoolMetadataUndersized",
    "ThinPoolInactive", "ThinPoolLvmPvMissing", "ThinPoolAutoextendDisabled", "ThinPoolAutoextendNoSpace",
}
# Series that exist only while a device hangs, which fixtures cannot do: the VM scenario named here makes them.
ONLY_WHILE_A_DEVICE_HANGS = {
    "thinpool_lvm_pv_read_stuck_seconds": "tests/vm/scenarios/stuck_pv (a PV suspended on a real kernel)",
}
# Series the exporter reads from a PV's LVM metadata area header, which this test's LVM exporter, reading a backup,
# does not have: the VM scenario named here checks them against lvm2 on a real PV.
ONLY_FROM_A_PV = dict.fromkeys(
    ("thinpool_lvm_metadata_area_size_bytes", "thinpool_lvm_metadata_area_used_bytes"),
    "tests/vm/scenarios/lvm_scan and runbook_activation (against vgs -o vg_mda_size,vg_mda_free on a real PV)")
# Series the exporter has only from a running dmeventd on the host it watches, which fixture runs have not: the VM
# scenario named here checks them against lvs -o seg_monitor with a real dmeventd.
ONLY_WITH_DMEVENTD = dict.fromkeys(
    ("thinpool_lvm_monitored", "thinpool_lvm_dmeventd_up"),
    "tests/vm/scenarios/dmeventd_monitor (against lvs -o seg_monitor and a real dmeventd)")
# Series -> (where only it comes from, the VM scenario that checks it).
EXEMPT = dict({n: ("a PV's metadata area, which a backup has not", v) for n, v in ONLY_FROM_A_PV.items()},
              **{n: ("the host's dmeventd, which fixture runs have not", v) for n, v in ONLY_WITH_DMEVENTD.items()})
EXPORTERS = ("growing", "faults", "seed", "lvm")
# lvm.conf of the lvm exporter: autoextend on, as the runbook's enable-autoextend-host block writes it.
AUTOEXTEND_LVM_CONF = "activation {\n\tthin_pool_autoextend_threshold = 70\n\tthin_pool_autoextend_percent = 20\n" \
                      "\tmonitoring = 1\n}\n"
SEED_POOL = "cinder--volumes-cinder--volumes--pool-tpool"
LVM_POOL_LINE = re.compile(r"^(cinder--volumes-cinder--volumes--pool-tpool: 0 1048576 thin-pool 5) 123/1024 ", re.M)
GROWING_LINE = re.compile(r"^(cinder--volumes-cinder--volumes--pool-tpool: 0 2097152 thin-pool) 3 398/1024 2918/16384 ",
                          re.M)

def strip_constant_comparison(expr):
    """`X == 0` -> `X`: the series an alert compares against a constant threshold."""
    stripped = re.sub(r"\s*(==|!=|>=|<=|>|<)\s*(bool\s+)?[0-9.eE+-]+\s*$", "", expr)
    return stripped if stripped != expr else None


class Checks:
    def __init__(self):
        self.passed, self.failed = 0, []

    def ok(self, what):
        self.passed += 1
        print(f"ok   {what}")

    def fail(self, what):
        self.failed.append(what)
        print(f"FAIL {what}")


def grow(fixture_dir, step):
    """Rewrites the growing pool's status line: +75 metadata blocks and +1650 data blocks per step."""
    path = os.path.join(fixture_dir, "status")
    with open(path) as f:
        text = f.read()
    line = f"\\1 3 {398 + 75 * step}/1024 {2918 + 1650 * step}/16384 "
    text, n = GROWING_LINE.subn(line, text) if step == 1 else (text, 1)
    if step > 1:
        text, n = re.subn(r"^(cinder--volumes-cinder--volumes--pool-tpool: 0 2097152 thin-pool) 3 \d+/1024 \d+/16384 ",
                          line, text, flags=re.M)
    if n != 1:
        raise RuntimeError(f"growing pool line not found in {path}")
    with open(path, "w") as f:
        f.write(text)


def edit(path, pattern, replacement, flags=0):
    with open(path) as f:
        text = f.read()
    text, n = re.subn(pattern, replacement, text, count=1, flags=flags)
    if n != 1:
        raise RuntimeError(f"{pattern!r} not found in {path}")
    with open(path, "w") as f:
        f.write(text)


def make_lvm_fixture(repo, tmp):
    """The captured LVM Cinder host, edited as described at the top; returns (fixture dir, backup dir)."""
    fixture, backups = os.path.join(tmp, "lvm"), os.path.join(tmp, "lvm-backup")
    shutil.copytree(os.path.join(repo, "tests/fixtures/captured/lvm-cinder-volumes"), fixture)
    os.makedirs(backups)
    backup = os.path.join(backups, "cinder-volumes")
    shutil.copy(os.path.join(repo, "tests/fixtures/captured/lvm/backup/cinder-volumes"), backup)
    edit(os.path.join(fixture, "status"), LVM_POOL_LINE, r"\1 900/1024 ")
    edit(backup, r'(type = "thin-pool"[^}]*?transaction_id = )5\b', r"\g<1>6")
    edit(backup, r"pe_count = 191\b", "pe_count = 131")  # extents 0..129 are allocated
    # A second PV, missing (flagged as lvm2 2.03.16 writes it after a command ran without the PV), all of it taken by
    # a pool that is therefore not active (so 4 MiB stay free).
    edit(backup, r"(\n\t\t\}\n)(\t\}\n\n\tlogical_volumes \{\n)", r"\1" + MISSING_PV.replace("\\", "\\\\") + r"\2")
    edit(backup, r"(\n\t\}\n\n\}\n)", COLD_POOL.replace("\\", "\\\\") + r"\1")
    return fixture, backups


MISSING_PV = """
\t\tpv1 {
\t\t\tid = "Mzz8dG-3kQq-cC1v-Tn2L-vX0R-Wd9e-Fh4Pq1"
\t\t\tdevice = "[unknown]"\t# Hint only

\t\t\tstatus = ["ALLOCATABLE"]
\t\t\tflags = ["MISSING"]
\t\t\tdev_size = 131072\t# 64 Megabytes
\t\t\tpe_start = 2048
\t\t\tpe_count = 15\t# 60 Megabytes
\t\t}
"""
COLD_POOL = "".join(f"""
\t\t{name} {{
\t\t\tid = "{lv_id}"
\t\t\tstatus = {status}
\t\t\tflags = []
\t\t\tcreation_time = 1795481940
\t\t\tcreation_host = "(none)"
\t\t\tsegment_count = 1

\t\t\tsegment1 {{
\t\t\t\tstart_extent = 0
\t\t\t\textent_count = {extents}

{segment}
\t\t\t}}
\t\t}}
""" for name, lv_id, status, extents, segment in [
    ("cinder-volumes-cold", "pQ1lX9-aR2s-Bt3u-Cv4w-Dx5y-Ez6A-Fb7Cd8", '["READ", "WRITE", "VISIBLE"]', 14,
     '\t\t\t\ttype = "thin-pool"\n\t\t\t\tmetadata = "cinder-volumes-cold_tmeta"\n'
     '\t\t\t\tpool = "cinder-volumes-cold_tdata"\n\t\t\t\ttransaction_id = 1\n\t\t\t\tchunk_size = 128\n'
     '\t\t\t\tdiscards = "passdown"\n\t\t\t\tzero_new_blocks = 1'),
    ("volume-cold-1", "gH8iJ9-kL0m-Nn1o-Pp2q-Rr3s-Tt4u-Vv5wXy", '["READ", "WRITE", "VISIBLE"]', 256,
     '\t\t\t\ttype = "thin"\n\t\t\t\tthin_pool = "cinder-volumes-cold"\n\t\t\t\ttransaction_id = 0\n'
     '\t\t\t\tdevice_id = 1'),
    ("cinder-volumes-cold_tmeta", "zA1bC2-dE3f-Gh4i-Jk5l-Mn6o-Pq7r-St8uVw", '["READ", "WRITE"]', 1,
     '\t\t\t\ttype = "striped"\n\t\t\t\tstripe_count = 1\n\n\t\t\t\tstripes = [\n\t\t\t\t\t"pv1", 0\n'
     '\t\t\t\t]'),
    ("cinder-volumes-cold_tdata", "xY9wV8-uT7s-Rq6p-On5m-Lk4j-Ih3g-Fe2dCb", '["READ", "WRITE"]', 14,
     '\t\t\t\ttype = "striped"\n\t\t\t\tstripe_count = 1\n\n\t\t\t\tstripes = [\n\t\t\t\t\t"pv1", 1\n'
     '\t\t\t\t]'),
])


def main():
    exporter, repo = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    tmp = tempfile.mkdtemp(prefix="promql-live-")
    procs = Processes(tmp)
    checks = Checks()
    try:
        ports = {name: free_port() for name in EXPORTERS + ("down",)}
        fixtures = {"growing": os.path.join(tmp, "growing"), "faults": os.path.join(repo, "tests/fixtures/faults"),
                    "seed": os.path.join(repo, "tests/fixtures/seed-incident")}
        shutil.copytree(os.path.join(repo, "tests/fixtures/lvm-healthy"), fixtures["growing"])
        # Only the lvm exporter reads LVM backups; the others read none (never the host's /etc/lvm/backup).
        backup_dirs = dict.fromkeys(EXPORTERS, "")
        fixtures["lvm"], backup_dirs["lvm"] = make_lvm_fixture(repo, tmp)
        backup_dirs["seed"] = os.path.join(tmp, "seed-backup")
        os.makedirs(backup_dirs["seed"])
        shutil.copy(os.path.join(repo, "tests/alerts/fixtures/cinder-volumes.vg"),
                    os.path.join(backup_dirs["seed"], "cinder-volumes"))
        # Only these two read an lvm.conf (fixture runs read none unless asked: never the host's).
        config_dirs = {"seed": os.path.join(tmp, "seed-etc-lvm"), "lvm": os.path.join(tmp, "lvm-etc-lvm")}
        for name, text in (("seed", open(os.path.join(repo, "tests/alerts/fixtures/lvm.conf.debian12")).read()),
                           ("lvm", AUTOEXTEND_LVM_CONF)):
            os.makedirs(config_dirs[name])
            with open(os.path.join(config_dirs[name], "lvm.conf"), "w") as f:
                f.write(text)

        def start_exporter(name):
            config = [f"--collector.lvm.config-dir={config_dirs[name]}"] if name in config_dirs else []
            proc, log = procs.start(name, [exporter, f"--web.listen-address=127.0.0.1:{ports[name]}",
                                           f"--devmapper.fixtures={fixtures[name]}",
                                           f"--collector.lvm.backup-dir={backup_dirs[name]}", "--log.level=warn"]
                                    + config)
            wait_http(f"http://127.0.0.1:{ports[name]}/metrics", f"exporter {name}", proc, log)

        for name in EXPORTERS:
            start_exporter(name)

        prom = start_prometheus(procs, "prometheus", {
            "global": {"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
            "rule_files": [os.path.join(repo, "alerts", f) for f in ("thinpool_rules.yml", "thinpool_alerts.yml")],
            "scrape_configs": [{"job_name": "thinpool", "static_configs": [
                {"targets": [f"127.0.0.1:{ports[n]}" for n in EXPORTERS + ("down",)]}]}],
        }, ["--storage.tsdb.retention.time=1h"])

        # Growth: the exporter reads its fixtures once, so each step restarts it on the same port.
        time.sleep(GROWTH_PERIOD)
        for step in range(1, GROWTH_STEPS + 1):
            grow(fixtures["growing"], step)
            procs.stop("growing")
            start_exporter("growing")
            time.sleep(GROWTH_PERIOD)
        time.sleep(3)  # scrapes and rule evaluations of the final state
        prom.check_running()

        check_rules(prom, checks)
        check_alerts(prom, checks)
        check_dashboard(prom, checks, os.path.join(repo, "grafana", "dashboards", "thinpool.json"))
    except Exception as e:  # noqa: BLE001 - report any setup failure as a test failure, with logs
        checks.fail(f"{type(e).__name__}: {e}")
        for name in ("prometheus",) + EXPORTERS:
            log = os.path.join(tmp, name + ".log")
            if os.path.exists(log):
                print(f"--- {name}.log (tail)\n{open(log).read()[-1500:]}")
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{checks.passed} passed, {len(checks.failed)} failed ({time.monotonic() - live_prometheus.started:.1f} s)")
    return 1 if checks.failed else 0


def check_expr(prom, checks, what, expr):
    try:
        result = prom.query(expr)
    except Exception as e:  # noqa: BLE001
        checks.fail(f"{what}: query error: {e}")
        return
    absent = re.fullmatch(r"absent\((.*)\)", expr.strip())
    if absent:
        inner = prom.query(absent.group(1))
        if result or not inner:
            checks.fail(f"{what}: {expr} returned {len(result)} series while {absent.group(1)} has {len(inner)}")
        else:
            checks.ok(f"{what}: absent() empty while {absent.group(1)} has {len(inner)} series")
        return
    if result:
        checks.ok(f"{what}: {len(result)} series")
    else:
        base = strip_constant_comparison(expr)
        base_result = prom.query(base) if base else []
        hanging = [m for m in ONLY_WHILE_A_DEVICE_HANGS if base and re.fullmatch(m + r"(\{[^}]*\})?", base)]
        # Every series the expression reads that has none here must be one the LVM exporter cannot have from a
        # backup; then the expression is checked on a real PV (the VM scenario named).
        names = sorted(set(re.findall(r"\b(thinpool_[a-z0-9_]+)", base or expr)))
        absent = [n for n in names if not prom.query(f"count({n})")]
        if base_result:
            checks.ok(f"{what}: below its threshold here; {base} has {len(base_result)} series")
        elif absent and all(n in EXEMPT for n in absent):
            checks.ok(f"{what}: " + "; ".join(f"{n} comes from {EXEMPT[n][0]}" for n in absent) + "; "
                      + "; ".join(sorted({EXEMPT[n][1] for n in absent})) + " checks them")
        elif hanging:
            checks.ok(f"{what}: {base} exists only while a device hangs; {ONLY_WHILE_A_DEVICE_HANGS[hanging[0]]} "
                      "checks it")
        else:
            checks.fail(f"{what}: no series for {expr}")


def check_rules(prom, checks):
    groups = prom.api("/api/v1/rules")["groups"]
    rules = [r for g in groups for r in g["rules"]]
    if len(rules) < 10:
        checks.fail(f"only {len(rules)} rules loaded")
    for r in rules:
        name = r["name"]
        if r.get("health") != "ok" or r.get("lastError"):
            checks.fail(f"rule {name}: health {r.get('health')} {r.get('lastError', '')}")
        if r["type"] == "recording":
            check_expr(prom, checks, f"recording rule {name}", name)
        else:
            check_expr(prom, checks, f"alert {name} ({r['labels'].get('severity')}) expr", r["query"])


def check_alerts(prom, checks):
    alerts = prom.api("/api/v1/alerts")["alerts"]
    active = {a["labels"]["alertname"] for a in alerts if a["state"] in ("pending", "firing")}
    for name in sorted(EXPECTED_ACTIVE):
        if name in active:
            checks.ok(f"alert {name} is active in Prometheus")
        else:
            checks.fail(f"alert {name} is not active (active: {sorted(active)})")
    for a in alerts:
        desc = a["annotations"].get("description", "")
        if "<no value>" in desc or "error expanding" in desc or not a["annotations"].get("runbook_url"):
            checks.fail(f"alert {a['labels']['alertname']}: annotations not rendered: {a['annotations']}")
    seed = [a for a in alerts if a["labels"]["alertname"] == "ThinPoolMetadataAlmostFull"
            and a["labels"].get("pool") == SEED_POOL and a["labels"].get("severity") == "critical"]
    if any("has used 100% of its metadata" in a["annotations"]["description"]
           and "Data 17.81% used" in a["annotations"]["description"] for a in seed):
        checks.ok("seed incident: critical metadata alert says 100% metadata, 17.81% data")
    else:
        checks.fail(f"seed incident: no critical metadata alert with the seed's numbers: {seed}")
    mismatch = [a for a in alerts if a["labels"]["alertname"] == "ThinPoolTransactionIdMismatch"]
    if any("has kernel transaction id 5 but LVM metadata of VG cinder-volumes expects 6" in a["annotations"]["description"]
           for a in mismatch):
        checks.ok("transaction id mismatch: the description gives the kernel's 5 and LVM's 6")
    else:
        checks.fail(f"transaction id mismatch: no alert naming kernel 5 and LVM 6: {mismatch}")
    cannot_grow = [a for a in alerts if a["labels"]["alertname"] == "ThinPoolMetadataCannotGrow"]
    if any("has only 4MiB free" in a["annotations"]["description"] for a in cannot_grow):
        checks.ok("metadata cannot grow: the description gives the VG's 4 MiB free")
    else:
        checks.fail(f"metadata cannot grow: no alert naming 4 MiB free: {cannot_grow}")
    inactive = [a for a in alerts if a["labels"]["alertname"] == "ThinPoolInactive"]
    if [(a["labels"].get("vg"), a["labels"].get("lv"), a["labels"].get("pool")) for a in inactive] == \
            [("cinder-volumes", "cinder-volumes-cold", None)] and \
            "so its 1 thin volume(s) (1GiB provisioned) cannot be used" in inactive[0]["annotations"]["description"]:
        checks.ok("inactive pool: only the pool on the missing PV, with its thin volume and size from LVM")
    else:
        checks.fail(f"inactive pool: expected one alert for cinder-volumes/cinder-volumes-cold: {inactive}")
    disabled = [a for a in alerts if a["labels"]["alertname"] == "ThinPoolAutoextendDisabled"]
    if [a["labels"].get("pool") for a in disabled] == [SEED_POOL] and all(
            s in disabled[0]["annotations"]["description"] for s in (
                "has used 100% of its data or metadata space", "Volume group cinder-volumes has 1012MiB free",
                "Data 17.81% used, metadata 100% used")):
        checks.ok("autoextend disabled: only the seed's pool (Debian's lvm.conf), at 100% metadata, 1012 MiB free")
    else:
        checks.fail(f"autoextend disabled: expected one alert for the seed's pool with its numbers: {disabled}")
    no_space = [a for a in alerts if a["labels"]["alertname"] == "ThinPoolAutoextendNoSpace"]
    if [a["labels"].get("lv") for a in no_space] == ["cinder-volumes-pool"] and all(
            s in no_space[0]["annotations"]["description"] for s in (
                "is to be extended by 20% of its size whenever its data or metadata usage passes 70%",
                "has only 4MiB free: the next extension needs 102.4MiB for data (of 512MiB) and 819.2kiB for "
                "metadata (of 4MiB")):
        checks.ok("autoextend without room: the lvm pool, its 20% steps against the VG's 4 MiB free")
    else:
        checks.fail(f"autoextend without room: expected one alert for the lvm pool with its numbers: {no_space}")
    growing = [a for a in alerts if a["labels"]["alertname"] == "ThinPoolMetadataFillingUp"]
    if any(re.search(r"metadata [0-9.]+(ms|s|m|h|d)\b", a["annotations"]["description"]) for a in growing):
        checks.ok("filling up: description gives a time to full from real growth")
    else:
        checks.fail(f"filling up: no time to full in {[a['annotations']['description'] for a in growing]}")


def label_values(prom, query):
    m = re.fullmatch(r"label_values\((?:(.*),\s*)?([a-zA-Z_]+)\)", query.strip())
    if not m:
        raise ValueError(f"unsupported variable query {query}")
    params = {"match[]": m.group(1)} if m.group(1) else {}
    return prom.api(f"/api/v1/label/{m.group(2)}/values", **params)


def check_dashboard(prom, checks, path):
    with open(path) as f:
        dashboard = json.load(f)
    values = {}

    def substitute(text):
        text = text.replace("$__rate_interval", "1m").replace("$__interval", "15s").replace("$__range", "5m")
        for name, value in values.items():
            text = text.replace("${" + name + "}", value).replace("$" + name, value)
        return text

    for v in dashboard["templating"]["list"]:
        if v["type"] != "query":
            continue
        query = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        found = label_values(prom, substitute(query))
        if not found:
            checks.fail(f"dashboard variable {v['name']}: {substitute(query)} has no values")
            values[v["name"]] = "no-value"
            continue
        checks.ok(f"dashboard variable {v['name']}: {len(found)} values ({', '.join(found[:4])})")
        # As Grafana: "All" (allValue) where offered, else the first value.
        values[v["name"]] = v.get("allValue") or re.escape(found[0]) if v.get("includeAll") else re.escape(found[0])
    for p in dashboard["panels"]:
        for t in p.get("targets", []):
            check_expr(prom, checks, f"panel {p['title']!r} {t['refId']}", substitute(t["expr"]))


if __name__ == "__main__":
    sys.exit(main())
