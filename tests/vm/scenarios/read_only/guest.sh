# Scenario 4: a pool loaded with the read_only feature reports mode ro; reloaded without it, rw again.
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
stop_exporter
