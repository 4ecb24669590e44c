# shellcheck shell=bash disable=SC2034  # HOST_REPLY, EXPORTER_PID... are read by the sourcing scenario
# Helpers for guest scenario scripts (bash, run as root inside the e2e VM). Source it first:
#   . /scenario/lib/guest-lib.sh
# A scenario builds some dm-thin state, then calls `checkpoint NAME`: the guest saves dmsetup/lvs output, the host
# scrapes the exporter through the port forward, and the guest saves the same output again, so the host can check
# that nothing moved while it scraped. Everything under /results comes back to the host as a tar.
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
# lvm2 complains about every inherited descriptor (the control channel); they are ours on purpose.
export LVM_SUPPRESS_FD_WARNINGS=1

EXPORTER=/usr/bin/thinpool_exporter
EXPORTER_PORT=9966
RESULTS=/results
LVS_FIELDS=transaction_id,data_percent,metadata_percent,lv_metadata_size,chunk_size
# The same report in bytes, for value-by-value comparison on the host.
LVS_BYTES_FIELDS=vg_name,lv_name,lv_attr,segtype,pool_lv,lv_size,data_percent,metadata_percent,transaction_id
LVS_BYTES_FIELDS=$LVS_BYTES_FIELDS,lv_metadata_size,chunk_size,thin_id,lv_dm_path,lv_uuid,vg_uuid

# The control channel: one request line out, one reply line back (see run-scenario).
exec 7<>/dev/ttyS1
stty raw -echo <&7

say() { echo "== [$(cut -d" " -f1 /proc/uptime)s] $*"; }

# host REQUEST...: asks the host to do something and waits for its answer; HOST_REPLY holds what followed @@OK.
# Requests: scrape NAME [PATH], scrape_loop_start NAME [INTERVAL_MS TIMEOUT_S], scrape_loop_count NAME, scrape_loop_stop NAME,
# notify TEXT (printed on the host; @PORT@ becomes the forwarded port). Fails unless the host answers @@OK.
host() {
	local reply
	printf '@@HOST %s\n' "$*" >&7
	IFS= read -r reply <&7
	reply=${reply%$'\r'}
	case $reply in
	"@@OK") HOST_REPLY="" ;;
	"@@OK "*) HOST_REPLY=${reply#@@OK } ;;
	*)
		echo "host request '$*' failed: $reply"
		return 1
		;;
	esac
}

# capture DIR: what the kernel and lvm2 say right now, in the forms the fixtures use.
capture() {
	local dir=$1
	mkdir -p "$dir"
	dmsetup info -c --noheadings --separator ' ' -o name,major,minor,uuid >"$dir/info" 2>&1 || true
	dmsetup table >"$dir/table" 2>&1 || true
	dmsetup status --noflush >"$dir/status" 2>&1 || true
	if [ -n "$(vgs --noheadings -o vg_name 2>/dev/null)" ]; then
		lvs -a --reportformat json -o+$LVS_FIELDS >"$dir/lvs.json" 2>"$dir/lvs.err" || true
		lvs -a --reportformat json --units b --nosuffix -o $LVS_BYTES_FIELDS >"$dir/lvs-bytes.json" 2>>"$dir/lvs.err" || true
	fi
}

# settle: waits (at most 10 s) until dmsetup status stays the same for half a second. A pool commits its
# metadata about once a second, and a failed write (error_if_no_space) settles its numbers after the fact.
settle() {
	local before now
	before=$(dmsetup status --noflush 2>&1)
	for _ in $(seq 20); do
		sleep 0.5
		now=$(dmsetup status --noflush 2>&1)
		[ "$now" != "$before" ] || return 0
		before=$now
	done
	echo "settle: dmsetup status still changing after 10 s"
}

# checkpoint NAME: state before, a host scrape of /metrics, state after. The host asserts on results/NAME, and that
# the state after equals the state before. When the kernel's state moved during the scrape anyway (a metadata
# commit that settle's half second of quiet did not wait for, on a slow host), the checkpoint is taken again, at
# most three times; the host then checks the last one.
checkpoint() {
	local name=$1 try
	say "checkpoint $name"
	for try in 1 2 3; do
		# No sync here: with I/O queued in a full pool it would wait for the no_space_timeout.
		settle
		rm -rf "${RESULTS:?}/$name"
		capture "$RESULTS/$name"
		host scrape "$name"
		capture "$RESULTS/$name/after"
		if cmp -s "$RESULTS/$name/status" "$RESULTS/$name/after/status" &&
			cmp -s "$RESULTS/$name/table" "$RESULTS/$name/after/table" &&
			cmp -s "$RESULTS/$name/info" "$RESULTS/$name/after/info"; then
			return 0
		fi
		say "checkpoint $name: dmsetup moved during the scrape (try $try of 3)"
	done
	return 0
}

# start_exporter [FLAGS...]: runs the exporter as root in the background and waits until it serves.
start_exporter() {
	"$EXPORTER" --web.listen-address=:$EXPORTER_PORT --log.level=debug "$@" >>"$RESULTS/exporter.log" 2>&1 &
	EXPORTER_PID=$!
	wait_exporter
}

# start_exporter_as USER [FLAGS...]: the same as an unprivileged user.
start_exporter_as() {
	local user=$1
	shift
	# util-linux setpriv: leaving uid 0 (without keep-caps) drops every capability.
	setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --clear-groups \
		"$EXPORTER" --web.listen-address=:$EXPORTER_PORT --log.level=debug "$@" >>"$RESULTS/exporter.log" 2>&1 &
	EXPORTER_PID=$!
	wait_exporter
}

wait_exporter() {
	local i
	for i in $(seq 100); do
		if wget -q -O /dev/null "http://127.0.0.1:$EXPORTER_PORT/-/healthy" 2>/dev/null; then
			say "exporter up (pid $EXPORTER_PID) after $i tries"
			return 0
		fi
		kill -0 "$EXPORTER_PID" 2>/dev/null || {
			echo "exporter exited before serving; its log:"
			cat "$RESULTS/exporter.log"
			return 1
		}
		sleep 0.2
	done
	echo "exporter did not answer on :$EXPORTER_PORT within 20 s"
	return 1
}

# stop_exporter: fails if the exporter died on its own before (a crash is a test failure).
stop_exporter() {
	kill -0 "$EXPORTER_PID" 2>/dev/null || {
		echo "exporter (pid $EXPORTER_PID) is not running any more; its log:"
		cat "$RESULTS/exporter.log"
		return 1
	}
	kill "$EXPORTER_PID"
	wait "$EXPORTER_PID" || true
}

# to_sectors SIZE: SIZE in MiB ("8") or KiB ("512k") as 512-byte sectors.
to_sectors() {
	case $1 in
	*k) echo $((${1%k} * 2)) ;;
	*) echo $(($1 * 2048)) ;;
	esac
}

# scratch_dev NAME SIZE: a dm linear device carved from the scratch disk /dev/vda (a sparse file on the host).
# SIZE as for to_sectors. Plain-dmsetup scenarios use these instead of loop devices; refer to them by
# major:minor in tables.
SCRATCH_NEXT=0 # next free sector on /dev/vda
scratch_dev() {
	local name=$1 sectors
	sectors=$(to_sectors "$2")
	dmsetup create "$name" --table "0 $sectors linear /dev/vda $SCRATCH_NEXT"
	SCRATCH_NEXT=$((SCRATCH_NEXT + sectors))
}

# scratch_grow NAME SIZE: adds SIZE to a scratch device (one more linear segment) and resumes it.
scratch_grow() {
	local name=$1 add table len
	add=$(to_sectors "$2")
	table=$(dmsetup table "$name")
	len=$(dmsetup table "$name" | awk '{ n = $1 + $2 } END { print n }')
	printf '%s\n%s\n' "$table" "$len $add linear /dev/vda $SCRATCH_NEXT" | dmsetup reload "$name"
	dmsetup resume "$name"
	SCRATCH_NEXT=$((SCRATCH_NEXT + add))
}

# loop_pv NAME SIZE [PVCREATE_ARGS...]: a loop device over a sparse file of SIZE in the guest's RAM, made a PV;
# prints the device.
loop_pv() {
	local file=/tmp/$1.img dev
	truncate -s "$2" "$file"
	dev=$(losetup -f)
	losetup "$dev" "$file"
	shift 2
	pvcreate -q "$@" "$dev" >/dev/null
	echo "$dev"
}

# load_module NAME...: loads modules the image keeps for the scenarios that need them (build-image's `ondemand`),
# each after what it needs; one already loaded, or one init tried at boot (crc32c-intel fails under TCG, where
# crc32c_generic stands in for it), is skipped. Fails when one cannot be loaded.
load_module() {
	local m ko
	for m in "$@"; do
		[ -f "/lib/modules/$m.deps" ] || { echo "load_module: $m is not in the image"; return 1; }
		while read -r ko; do
			grep -qx "$ko" /lib/modules/load-order && continue
			grep -q "^$(echo "${ko%.ko}" | tr - _) " /proc/modules && continue
			insmod "/lib/modules/$ko" || { echo "load_module: insmod $ko failed"; return 1; }
		done <"/lib/modules/$m.deps"
	done
}

# fds PID: how many descriptors PID has open (a glob: ls would stat entries that close meanwhile).
fds() { set -- "/proc/$1/fd/"*; echo $#; }

# devnum NAME: major:minor of a dm device, for use in tables.
devnum() { dmsetup info -c --noheadings -o major,minor --separator : "$1"; }

# sectors NAME: size of a dm device in 512-byte sectors.
sectors() { dmsetup table "$1" | awk '{ n = $1 + $2 } END { print n }'; }

# write_mb DEV OFFSET_MB COUNT_MB: writes COUNT_MB MiB at OFFSET_MB. dm-thin allocates a block for every write,
# zeros included, and /dev/zero is by far the cheapest source under TCG.
write_mb() {
	dd if=/dev/zero of="$1" bs=1M seek="$2" count="$3" conv=notrunc,fsync 2>/dev/null
}

# dm_node NAME: /dev path of a dm device (plain dmsetup makes no /dev/mapper nodes without udev).
dm_node() {
	dmsetup mknodes "$1" >/dev/null 2>&1 || true
	echo "/dev/mapper/$1"
}

# start_dmeventd: turns monitoring on in lvm.conf (the shared one has it off), tells lvm where dmeventd is, and
# runs Debian's dmeventd in the foreground as a child of the scenario (reaped once killed), logging with debug to
# $RESULTS/dmeventd.log; waits for its pid file and FIFOs. Sets DMEVENTD_PID.
start_dmeventd() {
	sed -i 's/^\([[:space:]]*\)monitoring = 0/\1monitoring = 1/' /etc/lvm/lvm.conf
	grep -q 'monitoring = 1' /etc/lvm/lvm.conf
	printf 'dmeventd {\n\texecutable = "/sbin/dmeventd"\n}\n' >>/etc/lvm/lvm.conf
	/sbin/dmeventd -f -l -ddd >"$RESULTS/dmeventd.log" 2>&1 &
	DMEVENTD_PID=$!
	for _ in $(seq 100); do
		[ -s /run/dmeventd.pid ] && [ -p /run/dmeventd-client ] && [ -p /run/dmeventd-server ] && break
		sleep 0.1
	done
	say "dmeventd pid $DMEVENTD_PID, pid file says $(cat /run/dmeventd.pid)"
	[ "$(cat /run/dmeventd.pid)" = "$DMEVENTD_PID" ]
}
