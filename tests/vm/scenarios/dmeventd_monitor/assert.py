"""thinpool_dmeventd_query (dm/dmeventd_client) against Debian 12's real dmeventd: in every state it says what
`lvs -o seg_monitor` says for each pool; with dmeventd killed it says "not up" and starts no dmeventd (lvs does)."""
import json

from e2e import main

# What lvs must say in each state (so that agreeing with lvs proves something in both directions).
EXPECTED = {
    "monitored": {"watched": "monitored", "unwatched": "not monitored"},
    "unmonitored": {"watched": "not monitored", "unwatched": "not monitored"},
    "remonitored": {"watched": "monitored", "unwatched": "not monitored"},
}
CAP_SYS_ADMIN_ONLY = "0000000000200000"


def read(c, path):
    return (c.run / "results" / path).read_text()


def query_result(c, state, name="query"):
    """(dmeventd line, {dm uuid: state}) from the query's tab-separated output."""
    lines = read(c, f"{state}/{name}.txt").splitlines()
    c.remember(f"{state}/{name}.txt", "\n".join(lines) + "\n" + read(c, f"{state}/{name}.err"))
    c.eq(f"[{state}] {name} exit status", read(c, f"{state}/{name}.rc").strip(), "0")
    pools = {}
    for line in lines[1:]:
        fields = line.split("\t")
        c.true(f"[{state}] {name}: a pool line", len(fields) == 5 and fields[0] == "pool", repr(line))
        if len(fields) == 5:
            pools[fields[2]] = fields[3] if fields[3] != "error" else f"error: {fields[4]}"
    return (lines[0] if lines else ""), pools


def lvs_pools(c, state):
    """{lv name: (dm uuid of its thin-pool target, seg_monitor)} for the thin-pool LVs lvs reports."""
    text = read(c, f"{state}/lvs.json")
    c.remember(f"{state}/lvs.json", text)
    pools = {}
    for lv in json.loads(text)["report"][0]["lv"]:
        if lv["segtype"] == "thin-pool":
            uuid = "LVM-" + lv["vg_uuid"].replace("-", "") + lv["lv_uuid"].replace("-", "") + "-tpool"
            pools[lv["lv_name"]] = (uuid, lv["seg_monitor"])
    return pools


def check_state(c, state):
    daemon, queried = query_result(c, state)
    c.eq(f"[{state}] dmeventd", daemon, "dmeventd\tup")
    lvs = lvs_pools(c, state)
    c.eq(f"[{state}] lvs's pools", sorted(lvs), sorted(EXPECTED[state]))
    c.eq(f"[{state}] the query's pools are lvs's", sorted(queried), sorted(uuid for uuid, _ in lvs.values()))
    for name, (uuid, seg_monitor) in sorted(lvs.items()):
        c.eq(f"[{state}] lvs seg_monitor of vg0/{name}", seg_monitor, EXPECTED[state][name])
        c.eq(f"[{state}] the query for vg0/{name} ({uuid}) agrees with lvs", queried.get(uuid), seg_monitor)
    return queried


def check_seccomp(c, state, want_stdout):
    got = read(c, f"{state}/query-seccomp.txt")
    err = read(c, f"{state}/query-seccomp.err")
    c.remember(f"{state}/query-seccomp.err", err)
    c.eq(f"[{state}] query-seccomp exit status", read(c, f"{state}/query-seccomp.rc").strip(), "0")
    c.eq(f"[{state}] under the exporter's seccomp filter the query says the same", got, want_stdout)
    status = dict(line.split(":\t", 1) for line in err.splitlines() if ":\t" in line)
    c.eq(f"[{state}] query-seccomp: Seccomp mode (2 = filter)", status.get("Seccomp", "").strip(), "2")
    c.eq(f"[{state}] query-seccomp: CapEff (cap_sys_admin only)", status.get("CapEff", "").strip(),
         CAP_SYS_ADMIN_ONLY)


def dmeventd_processes(c, path):
    text = read(c, path)
    c.remember(path, text)
    return [line for line in text.splitlines() if "dmeventd" in line]


def check_down(c):
    c.eq("[down] query says dmeventd is not up", read(c, "down/query.txt"), "dmeventd\tnot up\n")
    c.eq("[down] query exit status", read(c, "down/query.rc").strip(), "0")
    check_seccomp(c, "down", "dmeventd\tnot up\n")
    run_files = read(c, "down/run-files.txt")
    c.remember("down/run-files.txt", run_files)
    c.true("[down] the killed dmeventd left its pid file and FIFOs behind (what the query must not trust)",
           "No such file" not in run_files and run_files.count("/run/dmeventd") == 3, run_files)
    c.eq("[down] no dmeventd before the query", dmeventd_processes(c, "down/ps-before.txt"), [])
    c.eq("[down] no dmeventd after the query: it started none", dmeventd_processes(c, "down/ps-after-query.txt"), [])
    c.true("[down] by contrast, lvs -o seg_monitor started a dmeventd",
           dmeventd_processes(c, "down/ps-after-lvs.txt") != [], read(c, "down/ps-after-lvs.txt"))


def check(c):
    for state in EXPECTED:
        check_state(c, state)
    check_seccomp(c, "remonitored", read(c, "remonitored/query.txt"))
    check_down(c)


main(check)
