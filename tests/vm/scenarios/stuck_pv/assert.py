"""Scenario: a PV that stops answering, a PV whose reads fail, a pool whose status blocks: every scrape answers
within the scrape timeout with the kernel figures of the healthy pool and the healthy VG's LVM view, the stuck VG is
marked unread with its stuck PV, threads and descriptors stay bounded, and everything is read again after resume."""
from e2e import Scrape, main

TIMEOUT = 2.0  # X-Prometheus-Scrape-Timeout-Seconds the host sent
EXTRA_THREADS = 6  # a blocked pool task, a stuck PV read, and idle workers


def value(scrape, name, **labels):
    return scrape.value(name, **labels)


def check(c):
    loop = c.run / "scrapes" / "episode"
    codes = [line.split() for line in (loop / "codes").read_text().splitlines()]
    start = int((c.run / "results" / "scrapes-before-episode").read_text())
    suspended = int((c.run / "results" / "scrapes-at-suspend").read_text())
    resume = int((c.run / "results" / "scrapes-before-resume").read_text())
    c.true("scrapes before, during and after the episode", 0 < start <= suspended < resume < len(codes),
           f"{start} / {suspended} / {resume} / {len(codes)}")
    c.eq("scrapes that failed (non-200)", [x for x in codes if x[1] != "200"][:10], [])
    late = [x for x in codes if float(x[2]) > TIMEOUT]
    c.eq(f"scrapes slower than the {TIMEOUT} s scrape timeout", late[:10], [])

    scrapes = [Scrape(loop / f"{n}.prom") for n, *_ in codes]
    # Once both devices have gone away (the scrape in flight when the guest asked may have begun
    # before), until the stuck PV is resumed.
    episode = scrapes[suspended + 1:resume]
    problems = []
    blocked_seen = stuck_seen = 0
    for i, s in enumerate(episode, suspended + 2):
        for col in ("thinpool", "thin", "lvm"):
            if value(s, "thinpool_scrape_collector_success", collector=col) != 1.0:
                problems.append(f"scrape {i}: collector {col} failed")
        if value(s, "thinpool_data_used_bytes", vg="vgok", lv="pool") is None:
            problems.append(f"scrape {i}: no kernel figures for vgok's pool")
        if value(s, "thinpool_lvm_vg_read_success", vg="vgok") != 1.0:
            problems.append(f"scrape {i}: vgok's LVM view not read")
        if value(s, "thinpool_lvm_vg_read_success", vg="vgerr") != 0.0:
            problems.append(f"scrape {i}: vgerr read although its PV fails every read")
        if value(s, "thinpool_stack_suspended", vg="vgstuck", lv="pool") != 1.0:
            problems.append(f"scrape {i}: vgstuck's pool not reported with a suspended device under it")
        if value(s, "thinpool_stack_suspended", vg="vgok", lv="pool") != 0.0:
            problems.append(f"scrape {i}: vgok's pool reported suspended")
        blocked = value(s, "thinpool_status_blocked", vg="vgstuck", lv="pool")
        if blocked == 1.0:
            blocked_seen += 1
            if value(s, "thinpool_data_used_bytes", vg="vgstuck", lv="pool") is not None:
                problems.append(f"scrape {i}: figures for vgstuck's pool although its status is blocked")
        elif value(s, "thinpool_data_used_bytes", vg="vgstuck", lv="pool") is None:
            problems.append(f"scrape {i}: vgstuck's pool has neither figures nor status_blocked")
        if value(s, "thinpool_lvm_pv_read_stuck_seconds", vg="vgstuck", device="/dev/mapper/pvvgstuck") is not None:
            stuck_seen += 1
            if value(s, "thinpool_lvm_vg_read_success", vg="vgstuck") != 0.0:
                problems.append(f"scrape {i}: vgstuck marked read although its PV is stuck")
    c.eq("scrapes during the episode that miss something", problems[:15], [])
    c.true("the pool's status blocked (a commit held its metadata lock) and was reported",
           blocked_seen > 0, f"in {blocked_seen} of {len(episode)} scrapes")
    c.true("the stuck PV was reported", stuck_seen > len(episode) // 2, f"in {stuck_seen} of {len(episode)} scrapes")

    # The scrapes that began after the resume had returned: the one in flight then may have begun before.
    resumed = int((c.run / "results" / "scrapes-after-resume").read_text()) + 1
    after = scrapes[resumed:]
    vg_back = next((k for k, s in enumerate(after)
                    if value(s, "thinpool_lvm_vg_read_success", vg="vgstuck") == 1.0), None)
    c.true("the stuck VG is read again within two scrapes of the resume", vg_back is not None and vg_back < 2,
           f"in scrape {vg_back} after it" if vg_back is not None else "never")
    # The pool's blocked status returns once the stuck writes and the commit behind them are done.
    recovered = next((k for k, s in enumerate(after)
                      if value(s, "thinpool_status_blocked", vg="vgstuck", lv="pool") == 0.0
                      and value(s, "thinpool_data_used_bytes", vg="vgstuck", lv="pool") is not None), None)
    c.true("after resume the pool's status is read again", recovered is not None,
           f"in scrape {recovered} after it" if recovered is not None else "never")
    final = after[-1]
    c.eq("no stuck read left at the end",
         final.series("thinpool_lvm_pv_read_stuck_seconds"), [])

    samples = [line.split() for line in (c.run / "results" / "threads").read_text().splitlines()]
    threads = [int(x[1]) for x in samples if len(x) == 3]
    fds = [int(x[2]) for x in samples if len(x) == 3]
    c.true(f"threads stay bounded (at most {EXTRA_THREADS} more than at the start)",
           threads and max(threads) <= threads[0] + EXTRA_THREADS,
           f"{threads[0] if threads else '?'} at the start, max {max(threads or [0])}")
    c.true("descriptors stay bounded (at most 10 more than at the start)", fds and max(fds) <= fds[0] + 10,
           f"{fds[0] if fds else '?'} at the start, max {max(fds or [0])}")
    # A read that waits on a device keeps a device-read thread of its own, in D state; no other thread waits there
    # (a thread seen in D once may be taking a kernel lock for a moment: only one in D in every sample counts).
    rows = [line.split() for line in (c.run / "results" / "threads-while-stuck").read_text().splitlines()]
    samples = sorted({sample for sample, *_ in rows})
    calls_waiting = [sum(1 for s, _, name, state in rows if s == sample and name == "thinpool-call" and state == "D")
                     for sample in samples]
    c.true("while stuck: the PV read and the pool's status each wait in a thinpool-call thread (D state)",
           len(samples) == 3 and min(calls_waiting) >= 2, f"per sample {calls_waiting}: {rows}")
    waiting = [{(tid, name) for s, tid, name, state in rows if s == sample and state == "D"} for sample in samples]
    waiting_always = set.intersection(*waiting) if waiting else set()
    c.eq("while stuck: other threads waiting in D state in every sample",
         sorted(t for t in waiting_always if t[1] != "thinpool-call"), [])
    log = (c.run / "results" / "exporter.log").read_text()
    # Each condition is logged at warn once when it begins (debug while it lasts) and once when it ends.
    warnings = [line for line in log.splitlines() if "level=warn" in line or "level=info" in line]
    c.eq("warnings about the stuck PV (once, not per scrape)",
         sum("lvm: a read of /dev/mapper/pvvgstuck has not returned" in line for line in warnings), 1)
    c.eq("warnings that vgstuck cannot be read (once, not per scrape)",
         sum("cannot read the metadata of volume group vgstuck" in line for line in warnings), 1)
    c.eq("warnings that vgerr cannot be read (once, not per scrape)",
         sum("cannot read the metadata of volume group vgerr" in line for line in warnings), 1)
    c.true("the log says when it answers again",
           any("lvm: /dev/mapper/pvvgstuck answers again" in line for line in warnings))
    durations = sorted(float(x[2]) for x in codes)
    print(f"stuck_pv: {len(codes)} scrapes, {len(episode)} during the episode, the pool's status blocked in "
          f"{blocked_seen}; scrape time median {durations[len(durations) // 2]:.3f}s max {durations[-1]:.3f}s; "
          f"threads max {max(threads)}; recovered {recovered} scrape(s) after resume")


main(check)
