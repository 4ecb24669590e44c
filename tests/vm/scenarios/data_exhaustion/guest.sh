# Scenario 3: data exhaustion. queue-pool (queue_if_no_space) is filled until the kernel reports
# out_of_data_space while the writer's I/O stays queued; then switched to error_if_no_space; then its data device
# is grown and the kernel puts it back to rw. error-pool is made with error_if_no_space and filled: writes fail.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
make_plain_pool queue-pool 4 32
make_plain_thin queue-pool 0 queue-thin 64
make_plain_pool error-pool 4 32 error_if_no_space
make_plain_thin error-pool 0 error-thin 64
start_exporter
checkpoint empty
say "filling queue-pool (its writer blocks: I/O queued)"
fill_until_out_of_data queue-pool queue-thin
say "filling error-pool (writes fail with ENOSPC)"
write_mb "$(dm_node error-thin)" 0 64 && { echo "writing 64 MiB into a 32 MiB error_if_no_space pool succeeded"; exit 1; }
checkpoint full
say "switching queue-pool to error_if_no_space: the queued writes fail"
reload_pool_features queue-pool error_if_no_space
wait "$FILL_PID" || true
checkpoint switched
say "growing queue-pool's data device: back to rw"
scratch_grow queue-pool-data 32
t=$(dmsetup table queue-pool | awk '{ $2 = 65536 * 2; print }')
dmsetup suspend queue-pool
dmsetup reload queue-pool --table "$t"
dmsetup resume queue-pool
checkpoint grown
stop_exporter
