"""Prevention made visible, with Debian 12's real dmeventd and the exporter as start_exporter runs it (privileges
dropped, seccomp filter): lvm.conf's autoextend policy (70%, +20%) and dmeventd's monitoring as the exporter
reports them, against lvs at every checkpoint; dmeventd extending one pool itself once its data passes 70%, another
once its metadata does, and the next scrape's sizes equal to lvs's; ThinPoolAutoextendNotMonitored's expression (promtool, as shipped) selecting
the pool exactly while it is not monitored, and the runbook's monitor-pool block registering it again; dmeventd
killed: reported down and not monitored, ThinPoolDmeventdDown's expression selecting the host, and no dmeventd
started by the scrapes."""
import json
from pathlib import Path

import yaml

from e2e import main, promtool_series, run_promtool_test

REPO = Path(__file__).resolve().parents[4]
VG, POOL = "vg0", "pool"
MIB = 1024 * 1024
ALERT = "ThinPoolAutoextendNotMonitored"


def read(c, name):
    return (c.run / "results" / name).read_text()


def pool_labels(c, checkpoint, scrape, lv=POOL):
    found = scrape.series("thinpool_info", vg=VG, lv=lv)
    c.eq(f"[{checkpoint}] one thinpool_info for {VG}/{lv}", len(found), 1)
    return {"pool": found[0][0]["pool"] if found else "?", "vg": VG, "lv": lv}


def check_policy(c, checkpoint, scrape, labels, monitored, up=1.0):
    """The lvm collector's view of autoextend and monitoring for the pool."""
    c.eq(f'[{checkpoint}] thinpool_scrape_collector_success{{collector="lvm"}}',
         scrape.value("thinpool_scrape_collector_success", collector="lvm"), 1.0)
    c.eq(f"[{checkpoint}] thinpool_lvm_config_read_success", scrape.value("thinpool_lvm_config_read_success"), 1.0)
    c.eq(f"[{checkpoint}] thinpool_lvm_autoextend_threshold_ratio (lvm.conf: 70)",
         scrape.value("thinpool_lvm_autoextend_threshold_ratio", **labels), 0.7)
    c.eq(f"[{checkpoint}] thinpool_lvm_autoextend_step_ratio (lvm.conf: 20)",
         scrape.value("thinpool_lvm_autoextend_step_ratio", **labels), 0.2)
    c.eq(f"[{checkpoint}] thinpool_lvm_dmeventd_up", scrape.value("thinpool_lvm_dmeventd_up"), up)
    c.eq(f"[{checkpoint}] thinpool_lvm_monitored", scrape.value("thinpool_lvm_monitored", **labels), monitored)


def check_seg_monitor(c, checkpoint, want):
    got = read(c, f"{checkpoint}.seg_monitor").strip()
    c.eq(f"[{checkpoint}] lvs seg_monitor of {VG}/{POOL}", got, want)


def lvs_size(c, checkpoint, state, lv=POOL, field="lv_size"):
    row = state.lv(VG, lv)
    c.true(f"[{checkpoint}] lvs reports {VG}/{lv}", row is not None, ", ".join(x["lv_name"] for x in state.lvs))
    return float(row[field]) if row else None


def check_alert_expr(c, checkpoint, scrape, labels, selected, alert=ALERT, series="thinpool_lvm_monitored"):
    """The alert's expression as shipped, by promtool on this scrape's series: it selects the one sample of
    `series` with `labels` (value 0) and nothing else if `selected`, nothing otherwise."""
    alerts = yaml.safe_load((REPO / "alerts" / "thinpool_alerts.yml").read_text())
    expr = next((r["expr"] for g in alerts["groups"] for r in g["rules"] if r.get("alert") == alert), None)
    if not c.true(f"{alert} is in alerts/thinpool_alerts.yml", expr is not None):
        return
    text = ",".join(f'{k}="{v}"' for k, v in dict(job="thinpool", instance="vm:9966", **labels).items())
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": promtool_series(scrape, prefix="thinpool_", minutes=20),
            "promql_expr_test": [{
                "expr": expr, "eval_time": "10m",
                "exp_samples": [{"labels": f"{series}{{{text}}}", "value": 0}] if selected else [],
            }],
        }],
    }
    run = run_promtool_test(test, f"{alert}_{checkpoint}")
    c.remember(f"promtool on {alert}'s expression at '{checkpoint}'", run.stdout + run.stderr)
    c.eq(f"[{checkpoint}] {alert}'s expression selects {'it' if selected else 'nothing'} (promtool exit code)",
         run.returncode, 0)


def check_alert_fires(c, checkpoint, scrape, alert, firing, **labels):
    """The alert as Prometheus's rule engine runs it (promtool, with the shipped rule files loaded): this scrape's
    series held for 25 minutes, past every `for`; at 20 minutes ALERTS has the alert firing for `labels` if
    `firing`, else not at all."""
    selector = ",".join([f'alertname="{alert}"', 'alertstate="firing"'] + [f'{k}="{v}"' for k, v in labels.items()])
    test = {
        "rule_files": [str(REPO / "alerts" / "thinpool_rules.yml"), str(REPO / "alerts" / "thinpool_alerts.yml")],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": promtool_series(scrape, prefix="thinpool_", minutes=25),
            "promql_expr_test": [{
                "expr": f"count(ALERTS{{{selector}}})", "eval_time": "20m",
                "exp_samples": [{"labels": "{}", "value": 1}] if firing else [],
            }],
        }],
    }
    run = run_promtool_test(test, f"{alert}_fires_{checkpoint}")
    c.remember(f"promtool: {alert} firing at '{checkpoint}'", run.stdout + run.stderr)
    c.eq(f"[{checkpoint}] {alert} {'fires' if firing else 'does not fire'} ({labels}; promtool exit code)",
         run.returncode, 0)


def dmeventd_processes(c, name):
    text = read(c, name)
    c.remember(name, text)
    return [line for line in text.splitlines() if "dmeventd" in line]


def check(c):
    c.remember("the runbook's enable-autoextend-host block", read(c, "enable-autoextend-host.out"))
    c.eq("the runbook's enable-autoextend-host block, verbatim, succeeds",
         read(c, "enable-autoextend-host.rc").strip(), "0")
    c.remember("the runbook's enable-autoextend block on meta", read(c, "enable-autoextend-meta.out"))
    c.eq("the runbook's enable-autoextend block, verbatim, on meta succeeds",
         read(c, "enable-autoextend-meta.rc").strip(), "0")
    c.eq("meta has the block's profile (lvs lv_profile)", read(c, "meta-profile.txt").strip(),
         "thin-autoextend-70-20")
    conf = read(c, "lvm-config.txt")
    c.remember("lvm config in the guest", conf)
    c.true("the guest's lvm.conf after the block: monitoring 1, threshold 70, percent 20",
           all(f"{k}={v}" in conf.replace(" ", "") for k, v in
               (("monitoring", 1), ("thin_pool_autoextend_threshold", 70), ("thin_pool_autoextend_percent", 20))),
           conf)

    # The exporter as start_exporter runs it: the kernel shows the seccomp filter, its log the hardening and no
    # trouble with lvm.conf or dmeventd.
    for name in ("proc-status.txt", "proc-status-end.txt"):
        status = dict(line.split(":", 1) for line in read(c, name).splitlines() if ":" in line)
        c.eq(f"{name}: Seccomp (2 = filter)", status.get("Seccomp", "").strip(), "2")
        c.eq(f"{name}: NoNewPrivs", status.get("NoNewPrivs", "").strip(), "1")
        c.eq(f"{name}: CapEff (cap_sys_admin only)", status.get("CapEff", "").strip(), "0000000000200000")
    log = read(c, "exporter.log")
    c.remember("exporter.log", log)
    c.true("exporter.log: seccomp filter installed", "seccomp: filter installed" in log)
    c.true("exporter.log: capabilities dropped to cap_sys_admin", "capabilities: keeping cap_sys_admin" in log)
    bad = [l for l in log.splitlines() if "level=warn" in l or "level=error" in l]
    c.eq("exporter.log: no warning or error lines", bad, [])

    # 1. Monitored, with autoextend configured; nothing written.
    state, scrape = c.check_checkpoint("monitored")
    c.check_lvs("monitored", state, scrape)
    labels = pool_labels(c, "monitored", scrape)
    check_policy(c, "monitored", scrape, labels, monitored=1.0)
    check_policy(c, "monitored", scrape, pool_labels(c, "monitored", scrape, "meta"), monitored=1.0)
    check_seg_monitor(c, "monitored", "monitored")
    c.eq("[monitored] lvs: the pool starts at 64 MiB", lvs_size(c, "monitored", state), float(64 * MIB))
    check_alert_expr(c, "monitored", scrape, labels, selected=False)
    c.eq("autoextend-status on the monitored pool succeeds", read(c, "autoextend-status-monitored.rc").strip(), "0")
    c.true("autoextend-status says protected at 70%",
           "protected: lvm2 extends the pool when its data or metadata usage passes 70%"
           in read(c, "autoextend-status-monitored.out"), read(c, "autoextend-status-monitored.out"))

    # 2. 40 MiB written, 62.5%: below the threshold, the pool keeps its size.
    state, scrape = c.check_checkpoint("below")
    c.check_lvs("below", state, scrape)
    labels = pool_labels(c, "below", scrape)
    check_policy(c, "below", scrape, labels, monitored=1.0)
    c.eq("[below] lvs: still 64 MiB", lvs_size(c, "below", state), float(64 * MIB))
    c.eq("[below] thinpool_data_used_bytes: 40 MiB", scrape.value("thinpool_data_used_bytes", **labels),
         float(40 * MIB))

    # 8 MiB more, 75% of 64 MiB: dmeventd extended the pool by 20% in whole extents, and the scrape right after has
    # the size lvs has.
    state, scrape = c.check_checkpoint("extended")
    c.check_lvs("extended", state, scrape)
    labels = pool_labels(c, "extended", scrape)
    check_policy(c, "extended", scrape, labels, monitored=1.0)
    size = lvs_size(c, "extended", state)
    c.eq("[extended] lvs: dmeventd extended the pool from 64 MiB by 20% in whole 1 MiB extents (77 MiB)", size,
         float(77 * MIB))
    c.eq("[extended] thinpool_data_size_bytes equals lvs's new size",
         scrape.value("thinpool_data_size_bytes", **labels), size)
    used = scrape.value("thinpool_data_used_bytes", **labels)
    c.eq("[extended] thinpool_data_used_bytes: 48 MiB", used, float(48 * MIB))
    c.true("[extended] the data passed 70% of the old size and is below 70% of the new one",
           used is not None and used / (64 * MIB) > 0.7 and used / size < 0.7, f"{used} of {size}")
    kernel = read(c, "thin-kernel-messages.txt")
    c.remember("kernel messages (device-mapper: thin)", kernel)
    c.true("the kernel sent the low water mark event and grew the data device from 1024 to 1232 blocks of 64 KiB",
           "reached low water mark for data device: sending event" in kernel
           and "growing the data device from 1024 to 1232 blocks" in kernel, kernel)
    dmeventd_log = read(c, "dmeventd.log")
    resized = [l for l in dmeventd_log.splitlines() if "Size of logical volume" in l]
    c.remember("dmeventd.log: resizes", "\n".join(resized))
    c.eq("dmeventd itself (its lvm thread) extended the pool's data once and meta's metadata once",
         [l.split("lvm", 1)[-1].strip() for l in resized],
         ["Size of logical volume vg0/pool_tdata changed from 64.00 MiB (64 extents) to 77.00 MiB (77 extents).",
          "Size of logical volume vg0/meta_tmeta changed from 2.00 MiB (2 extents) to 3.00 MiB (3 extents)."])

    # meta's metadata past 70% of its 2 MiB: dmeventd extended it, and the scrape right after has lvs's size.
    rounds = read(c, "meta-rounds.txt")
    c.remember("meta: round, metadata blocks used, of", rounds)
    c.remember("meta: metadata blocks used, of, when the rounds stopped", read(c, "meta-passed.status"))
    c.true("the kernel grew meta's metadata device from 512 to 768 blocks of 4 KiB",
           "growing the metadata device from 512 to 768 blocks" in kernel, kernel)
    state, scrape = c.check_checkpoint("meta-extended")
    c.check_lvs("meta-extended", state, scrape)
    for lv in (POOL, "meta"):
        check_policy(c, "meta-extended", scrape, pool_labels(c, "meta-extended", scrape, lv), monitored=1.0)
    meta = pool_labels(c, "meta-extended", scrape, "meta")
    msize = lvs_size(c, "meta-extended", state, "meta", "lv_metadata_size")
    c.eq("[meta-extended] lvs: dmeventd extended meta's metadata from 2 MiB by 20% in whole extents (3 MiB)", msize,
         float(3 * MIB))
    c.eq("[meta-extended] thinpool_metadata_size_bytes of meta equals lvs's new lv_metadata_size",
         scrape.value("thinpool_metadata_size_bytes", **meta), msize)
    mused = scrape.value("thinpool_metadata_used_bytes", **meta)
    c.true("[meta-extended] meta's metadata passed 70% of the old size and is below 70% of the new one",
           mused is not None and mused / (2 * MIB) > 0.7 and mused / msize < 0.7, f"{mused} of {msize}")
    c.eq("[meta-extended] meta's data size unchanged (1 GiB, below the threshold)",
         scrape.value("thinpool_data_size_bytes", **meta), float(1024 * MIB))

    # 3. Not monitored: the alert's expression selects the pool; monitor-pool registers it again.
    state, scrape = c.check_checkpoint("unmonitored")
    c.check_lvs("unmonitored", state, scrape)
    labels = pool_labels(c, "unmonitored", scrape)
    check_policy(c, "unmonitored", scrape, labels, monitored=0.0)
    check_policy(c, "unmonitored", scrape, pool_labels(c, "unmonitored", scrape, "meta"), monitored=1.0)
    check_seg_monitor(c, "unmonitored", "not monitored")
    check_alert_expr(c, "unmonitored", scrape, labels, selected=True)
    check_alert_fires(c, "unmonitored", scrape, ALERT, True, vg="vg0", lv=POOL)
    check_alert_fires(c, "unmonitored", scrape, ALERT, False, vg="vg0", lv="meta")
    c.true("autoextend-status on the unmonitored pool fails and sends to monitor-pool",
           read(c, "autoextend-status-unmonitored.rc").strip() != "0" and "dmeventd does not monitor the pool "
           "(monitor-pool)" in read(c, "autoextend-status-unmonitored.out"),
           read(c, "autoextend-status-unmonitored.out"))
    c.eq("monitor-pool succeeds", read(c, "monitor-pool.rc").strip(), "0")
    c.remember("monitor-pool said", read(c, "monitor-pool.out"))
    state, scrape = c.check_checkpoint("remonitored")
    c.check_lvs("remonitored", state, scrape)
    labels = pool_labels(c, "remonitored", scrape)
    check_policy(c, "remonitored", scrape, labels, monitored=1.0)
    check_seg_monitor(c, "remonitored", "monitored")
    check_alert_expr(c, "remonitored", scrape, labels, selected=False)
    check_alert_fires(c, "remonitored", scrape, ALERT, False)
    check_alert_expr(c, "remonitored", scrape, {}, selected=False, alert="ThinPoolDmeventdDown",
                     series="thinpool_lvm_dmeventd_up")

    # 4. dmeventd killed, its pid file and FIFOs left behind.
    run_files = read(c, "down-run-files.txt")
    c.remember("down-run-files.txt", run_files)
    c.true("[down] the killed dmeventd left its pid file and FIFOs behind",
           "No such file" not in run_files and run_files.count("/run/dmeventd") == 3, run_files)
    c.eq("[down] no dmeventd before the scrapes", dmeventd_processes(c, "down-ps-before.txt"), [])
    for name in ("down-1", "down-2"):
        scrape = c.scrape(name)
        c.remember(f"scrape '{name}' (thinpool_lvm_* lines)",
                   "\n".join(l for l in scrape.thinpool_lines() if l.startswith("thinpool_lvm_")))
        check_policy(c, name, scrape, labels, monitored=0.0, up=0.0)
        check_policy(c, name, scrape, meta, monitored=0.0, up=0.0)
        c.eq(f"[{name}] thinpool_data_size_bytes still lvs's last size",
             scrape.value("thinpool_data_size_bytes", **labels), size)
        # Both pools have autoextend configured and nothing watches them: ThinPoolDmeventdDown selects the host.
        check_alert_expr(c, name, scrape, {}, selected=True, alert="ThinPoolDmeventdDown",
                         series="thinpool_lvm_dmeventd_up")
        check_alert_fires(c, name, scrape, "ThinPoolDmeventdDown", True)
    c.eq("[down] no dmeventd after two scrapes: the exporter started none",
         dmeventd_processes(c, "down-ps-after.txt"), [])


main(check)
