# The seed incident's state on real LVM: the kernel runs a pool's 2 MiB metadata full (lvs: Meta% 100.00, pool
# read-only), the exporter must agree with lvs and dmsetup; then lvextend --poolmetadatasize grows it and the pool
# is writable again.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
say "running vg0/pool's metadata full"
make_lvm_metadata_full vg0 pool
start_exporter
checkpoint full
lvextend -q --poolmetadatasize +4m vg0/pool >/dev/null
checkpoint grown
dmesg | grep 'device-mapper: thin' >"$RESULTS/thin-kernel-messages.txt" || true
stop_exporter
