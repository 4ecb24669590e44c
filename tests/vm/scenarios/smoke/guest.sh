# Smoke test of the harness itself: dm-thin works and the control channel answers.
. /scenario/lib/guest-lib.sh
say "kernel $(uname -r)"
dmsetup version
lsmod | head -30
scratch_dev meta 8
scratch_dev data 256
dmsetup create pool --table "0 524288 thin-pool $(devnum meta) $(devnum data) 128 0"
dmsetup message pool 0 "create_thin 0"
dmsetup create thin0 --table "0 204800 thin $(devnum pool) 0"
write_mb "$(dm_node thin0)" 0 10
capture /results/state
cat /results/state/status
