"""Scenario: which device-mapper calls block on Linux 6.1, and the exporter answering in every state.

Expected from the 6.1 source and checked here: every call answers while only a device is suspended (the pool, its
_tmeta or _tdata, the PV, the thin volume): with noflush a status does no I/O of its own. With the PV suspended,
writes in flight and a metadata commit waiting for them, the pool's and the volume's status block (both take the
pool metadata's root lock, which the commit holds); table and info (DM_DEV_STATUS) never do."""
from e2e import main

STATES = ["healthy", "tmeta-suspended", "tdata-suspended", "pv-suspended", "pool-suspended", "thin-suspended",
          "pv-stuck-commit", "resumed"]
# The pool's stack counts as suspended when the pool device or one below it is.
STACK_SUSPENDED = {"tmeta-suspended", "tdata-suspended", "pv-suspended", "pool-suspended", "pv-stuck-commit"}


def expected(state, dev, call):
    if state == "pv-stuck-commit" and call == "status":
        return "blocks"
    return "answers"


def check(c):
    probes = {}
    for line in (c.run / "results" / "probes").read_text().splitlines():
        state, dev, call, outcome = line.split()
        probes[(state, dev, call)] = outcome
    want = {(s, d, k): expected(s, d, k) for s in STATES for d in ("vgk-pool-tpool", "vgk-t1")
            for k in ("status", "table", "info")}
    c.eq("which calls answer and which block, per state", probes, want)
    c.remember("the blocked tasks' kernel stacks", (c.run / "results" / "blocked-stacks").read_text())
    stacks = (c.run / "results" / "blocked-stacks").read_text()
    c.true("the pool's status waits for the metadata lock (dm_pool_get_metadata_transaction_id)",
           "dm_pool_get_metadata_transaction_id" in stacks)
    c.true("the volume's status waits for it too (dm_thin_get_mapped_count)", "dm_thin_get_mapped_count" in stacks)
    c.true("behind the commit, which waits for the flush of the data device (pool_message, commit)",
           "pool_message" in stacks and "__commit_transaction" in stacks)
    for state in STATES:
        scrape = c.scrape(state)
        pool = {"vg": "vgk", "lv": "pool"}
        for col in ("thinpool", "thin"):
            c.eq(f"[{state}] collector {col} succeeds", scrape.value("thinpool_scrape_collector_success",
                                                                     collector=col), 1.0)
        c.eq(f"[{state}] thinpool_stack_suspended", scrape.value("thinpool_stack_suspended", **pool),
             1.0 if state in STACK_SUSPENDED else 0.0)
        blocked = state == "pv-stuck-commit"
        c.eq(f"[{state}] thinpool_status_blocked", scrape.value("thinpool_status_blocked", **pool),
             1.0 if blocked else 0.0)
        c.eq(f"[{state}] pool usage reported unless its status blocks",
             scrape.value("thinpool_data_used_bytes", **pool) is not None, not blocked)
        c.eq(f"[{state}] the volume's size (from its table) is always reported",
             scrape.value("thinpool_volume_size_bytes", vg="vgk", lv="t1"), 64.0 * 1024 * 1024)


main(check)
