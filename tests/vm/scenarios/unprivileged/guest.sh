# Scenario 7: the exporter started as an unprivileged user (nobody, no capabilities) still serves, reports collector
# success 0 and logs that it needs CAP_SYS_ADMIN. A pool exists, so there is something it cannot see.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
make_plain_pool plain-pool 4 64
make_plain_thin plain-pool 0 plain-thin 32
chmod 777 "$RESULTS"
start_exporter_as nobody
checkpoint unprivileged
host scrape landing /
host scrape healthy /-/healthy
ps >"$RESULTS/ps.txt"
stop_exporter
