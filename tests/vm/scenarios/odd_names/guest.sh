# Scenario: device-mapper names that libdevmapper will not list unmangled (issue "Never go dark, never go stale").
# Thin pools and thin volumes named with a quote, backslashes, UTF-8, a Latin-1 byte, invalid UTF-8, blanks, a
# newline, 127 bytes, and text that looks like the exporter's own escape, made with `dmsetup --manglename none`
# (how any program calling the library can name a device), beside an ordinary LVM pool. A real Prometheus on the
# host (host-driver) scrapes the exporter all along; the guest waits until it has ingested every pool and volume.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
. /scenario/odd.env
dmn() { dmsetup --manglename none "$@"; }
# unhex HEX: the bytes HEX spells (the format is built from the hex digits only: no % or \ of the name gets in).
# shellcheck disable=SC2059
unhex() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }

lvm_pv_on_vda 128
vgcreate -q vgo /dev/vda >/dev/null
lvcreate -q -L 64m --poolmetadatasize 4m -c 64k --thinpool pool vgo >/dev/null
lvcreate -q -V 32m --thin -n t1 vgo/pool >/dev/null
write_mb /dev/vgo/t1 0 2

i=0
while read -r pool_hex volume_hex; do
	i=$((i + 1))
	pool=$(unhex "$pool_hex")
	volume=$(unhex "$volume_hex")
	scratch_dev "odd$i-meta" 4
	scratch_dev "odd$i-data" 32
	dd if=/dev/zero of="$(dm_node "odd$i-meta")" bs=4k count=1 conv=fsync 2>/dev/null
	dmn create "$pool" --table "0 $((32 * 2048)) thin-pool $(devnum "odd$i-meta") $(devnum "odd$i-data") 128 0 0"
	dmn message "$pool" 0 "create_thin 1"
	dmn create "$volume" --table "0 $((16 * 2048)) thin $(dmn info -c --noheadings -o major,minor --separator : "$pool") 1"
done </scenario/odd-names.hex
say "$i odd pools made"
# The kernel's names, byte for byte (sysfs adds a newline), for the assertions.
for f in /sys/block/dm-*/dm/name; do od -An -tx1 -v "$f" | tr -d ' \n'; echo; done >"$RESULTS/kernel-names.hex"
# What libdevmapper's users see by default (its mangled forms), for the record.
dmsetup ls >"$RESULTS/dmsetup-ls.txt" 2>&1 || true

start_exporter
host scrape odd
say "waiting for Prometheus to ingest every pool and volume"
ingested=no
for n in $(seq 120); do
	if [ "$(wget -q -O - "http://10.0.2.2:$HOOK_PORT/ingested" 2>/dev/null)" = yes ]; then
		ingested=yes
		say "Prometheus has them all after $n polls"
		break
	fi
	sleep 1
done
echo "$ingested" >"$RESULTS/ingested"
sleep 8 # a few more of Prometheus's scrapes
host scrape odd-after
stop_exporter
