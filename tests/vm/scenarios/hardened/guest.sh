# The exporter with its hardening on (--security.drop-privileges: only CAP_SYS_ADMIN left, no_new_privs;
# --security.seccomp) still reads a real kernel's pools and volumes, LVM and plain, and the kernel's view of the
# process shows it: only CAP_SYS_ADMIN effective, NoNewPrivs 1, Seccomp 2 (filter).
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
lvm_pv_on_vda 256
vgcreate -q vg0 /dev/vda >/dev/null
lvcreate -q -L 128m --poolmetadatasize 2m -c 64k --thinpool pool vg0 >/dev/null
lvcreate -q -V 256m --thin -n volume-1 vg0/pool >/dev/null
write_mb /dev/vg0/volume-1 0 8
make_plain_pool plain-pool 4 64
make_plain_thin plain-pool 3 plain-thin 32
write_mb "$(dm_node plain-thin)" 0 2
start_exporter --security.drop-privileges --security.seccomp
checkpoint hardened
grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):' "/proc/$EXPORTER_PID/status" >"$RESULTS/proc-status.txt"
# A volume created after start-up: the hardened process must see it on the next scrape.
make_plain_thin plain-pool 4 plain-thin-late 16
checkpoint late-volume
stop_exporter
