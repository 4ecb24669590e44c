# Scenario 1: the seed's layout (VG cinder-volumes, pool cinder-volumes-pool with 2 MiB metadata, Cinder-named
# thin volumes and a snapshot). The host compares every value with dmsetup and lvs taken at the same moment.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
say "building the seed layout"
make_seed_layout
start_exporter
checkpoint seed
say "writing more and adding a volume: the numbers must follow"
write_mb "/dev/$SEED_VG/${SEED_VOLUMES%% *}" 64 24
lvcreate -q -V 512m --thin -n volume-11111111-2222-4333-8444-555555555555 "$SEED_VG/$SEED_POOL" >/dev/null
write_mb "/dev/$SEED_VG/volume-11111111-2222-4333-8444-555555555555" 0 8
checkpoint seed-moved
stop_exporter
