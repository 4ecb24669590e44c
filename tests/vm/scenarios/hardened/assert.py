"""The hardened exporter (capabilities dropped to CAP_SYS_ADMIN, no_new_privs, seccomp) reads the real kernel."""
from e2e import main

CAP_SYS_ADMIN = 1 << 21


def check(c):
    for cp in ("hardened", "late-volume"):
        state, scrape = c.check_checkpoint(cp)
        c.check_lvs(cp, state, scrape)
    status = dict(line.split(":\t", 1) for line in (c.run / "results" / "proc-status.txt").read_text().splitlines())
    c.remember("/proc/PID/status of the exporter", str(status))
    c.eq("effective capabilities (CapEff)", int(status.get("CapEff", "0"), 16), CAP_SYS_ADMIN)
    c.eq("NoNewPrivs", status.get("NoNewPrivs", "").strip(), "1")
    c.eq("Seccomp mode (2 = filter)", status.get("Seccomp", "").strip(), "2")


main(check)
