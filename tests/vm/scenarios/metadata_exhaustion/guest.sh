# Scenario 5: the kernel runs out of metadata space by itself (512 KiB metadata, snapshots and scattered writes),
# then the metadata device is grown and the kernel puts the pool back to rw.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
make_plain_pool meta-pool 512k 512
make_plain_thin meta-pool 0 meta-thin 256
write_mb "$(dm_node meta-thin)" 0 64
start_exporter
checkpoint before
say "exhausting metadata"
exhaust_metadata meta-pool meta-thin
checkpoint exhausted
say "growing the metadata device by 8 MiB"
scratch_grow meta-pool-meta 8
dmsetup suspend meta-pool
dmsetup resume meta-pool
checkpoint grown
dmesg | grep 'device-mapper: thin' >"$RESULTS/thin-kernel-messages.txt" || true
stop_exporter
