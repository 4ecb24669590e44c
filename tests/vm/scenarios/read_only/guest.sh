# Scenario 4: pools the kernel will not write to. ro-pool loaded with the read_only feature reports mode ro and,
# reloaded without it, rw again. Also two more ways a pool stops being writable: nc-pool's metadata carries the
# needs_check flag (the kernel keeps it ro "until repaired"), and fail-pool loses its metadata device (the kernel
# puts it in Fail mode, whose status line has no numbers at all, and whose thins show Fail even in their table).
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
make_plain_pool ro-pool 4 64
make_plain_thin ro-pool 0 ro-thin 32
write_mb "$(dm_node ro-thin)" 0 8
start_exporter
checkpoint rw
reload_pool_features ro-pool read_only
checkpoint ro
reload_pool_features ro-pool
checkpoint rw-again
make_needs_check_pool nc-pool
dmsetup create nc-thin --table "0 204800 thin $(devnum nc-pool) 1"
make_plain_pool fail-pool 4 64
make_plain_thin fail-pool 0 fail-thin 32
write_mb "$(dm_node fail-thin)" 0 1
# Seen once while healthy: a failed pool's thins answer Fail even for their table, so the exporter can only
# attribute fail-thin to fail-pool from what it saw before.
checkpoint before-fail
fail_pool fail-pool fail-thin
checkpoint needs-check-and-fail
stop_exporter
