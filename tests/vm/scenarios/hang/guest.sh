# The harness's own check, by hand: tests/vm/run-scenario hang
# A buffered write and fsync to a suspended dm device wait in the kernel (uninterruptible) until the device
# resumes, which never happens here: within 20 s (see below) the kernel reports the hung task, init's watchdog prints @@HUNG
# with the stacks and ships /results, and run-scenario boots the scenario a second time, which hangs too and
# fails the run. (Direct I/O would not do: the block layer waits for it in slices that the hung-task detector
# never sees; init's deadline ends such a run instead.)
. /scenario/lib/guest-lib.sh
# The kernel's hung-task detector looks every timeout: 10 s instead of 120 s keeps this check short.
echo 10 >/proc/sys/kernel/hung_task_timeout_secs
scratch_dev stuck 8
dmsetup suspend stuck
say "writing to the suspended device 'stuck' (never returns)"
dd if=/dev/zero of="$(dm_node stuck)" bs=4k count=1 conv=fsync
say "the write returned: the device was not suspended?"
exit 1
