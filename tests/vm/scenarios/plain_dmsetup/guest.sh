# Scenario 2: a pool built with plain dmsetup (no LVM): exported with empty vg/lv, even though its name has dashes.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
make_plain_pool plain-pool 8 256
make_plain_thin plain-pool 0 plain-thin0 128
make_plain_thin plain-pool 7 plain-thin7 64
write_mb "$(dm_node plain-thin0)" 0 24
write_mb "$(dm_node plain-thin7)" 8 4
dmsetup message plain-pool 0 "set_transaction_id 0 2"
start_exporter
checkpoint plain
stop_exporter
