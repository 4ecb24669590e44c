"""Scenario 3: thinpool_mode and thinpool_error_if_no_space follow the kernel through data exhaustion."""
from e2e import main, parse_pool_status


def mode_is(c, cp, scrape, pool, mode, eins):
    c.eq(f"[{cp}] thinpool_mode{{pool={pool},mode={mode}}}", scrape.value("thinpool_mode", pool=pool, mode=mode), 1.0)
    c.eq(f"[{cp}] thinpool_error_if_no_space{{pool={pool}}}", scrape.value("thinpool_error_if_no_space", pool=pool),
         float(eins))


def kernel_mode(state, pool):
    return parse_pool_status(state.devices[pool].status[0][3])["mode"]


def check(c):
    expect = {
        "empty": {"queue-pool": ("rw", 0), "error-pool": ("rw", 1)},
        "full": {"queue-pool": ("out_of_data_space", 0), "error-pool": ("out_of_data_space", 1)},
        "switched": {"queue-pool": ("out_of_data_space", 1), "error-pool": ("out_of_data_space", 1)},
        "grown": {"queue-pool": ("rw", 1), "error-pool": ("out_of_data_space", 1)},
    }
    for cp, pools in expect.items():
        state, scrape = c.check_checkpoint(cp)
        for pool, (mode, eins) in pools.items():
            # The scenario itself must have produced the state it is about.
            c.true(f"[{cp}] the kernel reports {pool} in mode {mode}", kernel_mode(state, pool) == mode,
                   f"kernel says {kernel_mode(state, pool)}")
            mode_is(c, cp, scrape, pool, mode, eins)
    full = c.scrape("full")
    c.eq("[full] queue-pool data used == size",
         full.value("thinpool_data_used_bytes", pool="queue-pool"), full.value("thinpool_data_size_bytes", pool="queue-pool"))


main(check)
