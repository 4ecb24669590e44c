# The benchmarks' thin pool (sourced by scenarios/benchmark and scenarios/side_by_side): one LVM VG on /dev/vda named
# as OpenStack Cinder names it, a pool with room for 10,000 thin volumes, and grow_to to add volumes fast.
VG=cinder-volumes
POOL=cinder-volumes-pool
TPOOL=cinder--volumes-cinder--volumes--pool-tpool

volume_name() { printf 'volume-%08x-1111-4222-8333-%012x' "$1" "$1"; }

# grow_to N: N thin volumes in the pool. lvcreate costs about a second per volume under TCG, and a dmsetup process
# or vgchange's activation tens of milliseconds per volume, so the LVs are added to the VG metadata in one
# vgcfgrestore, then the thin devices created (pool messages) and activated as LVM would (LVM's dm name and uuid,
# the thin table) by one create_thin_volumes process (bench/create_thin_volumes.cc, built by prepare): the same
# kernel and lvm2 state as N lvcreates (the pool's transaction id aside).
HAVE=0
grow_to() {
	local want=$1 vg_uuid extent_sectors
	[ "$want" -gt "$HAVE" ] || return 0
	say "adding thin volumes $((HAVE + 1))..$want"
	vgcfgbackup -q -f /tmp/vg.cfg "$VG" >/dev/null
	awk -v from=$((HAVE + 1)) -v to="$want" -v pool="$POOL" '
		{ print }
		/^[ \t]*logical_volumes \{/ {
			for (i = from; i <= to; i++) {
				printf "\t\tvolume-%08x-1111-4222-8333-%012x {\n", i, i
				printf "\t\t\tid = \"bench0-%04d-%04d-0000-0000-0000-%06d\"\n", int(i / 10000), i % 10000, i
				printf "\t\t\tstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\n\t\t\tflags = []\n"
				printf "\t\t\tcreation_time = 1700000000\n\t\t\tcreation_host = \"bench\"\n"
				printf "\t\t\tsegment_count = 1\n\t\t\tsegment1 {\n\t\t\t\tstart_extent = 0\n"
				printf "\t\t\t\textent_count = 256\n\t\t\t\ttype = \"thin\"\n"
				printf "\t\t\t\tthin_pool = \"%s\"\n\t\t\t\ttransaction_id = 1\n", pool
				printf "\t\t\t\tdevice_id = %d\n\t\t\t}\n\t\t}\n", i
			}
		}' /tmp/vg.cfg >/tmp/vg-new.cfg
	echo y | vgcfgrestore -q --force -f /tmp/vg-new.cfg "$VG" >/dev/null 2>&1 || {
		echo y | vgcfgrestore --force -f /tmp/vg-new.cfg "$VG"
		return 1
	}
	rm -f /tmp/vg.cfg /tmp/vg-new.cfg
	say "VG metadata: $(vgs --noheadings -o lv_count "$VG" | tr -d ' ') LVs"
	vg_uuid=$(vgs --noheadings -o vg_uuid "$VG" | tr -d ' ')
	extent_sectors=$(vgs --noheadings --units s --nosuffix -o vg_extent_size "$VG" | tr -d ' ')
	/scenario/create_thin_volumes "$TPOOL" "$VG" "$vg_uuid" $((HAVE + 1)) "$want" $((extent_sectors * 256))
	HAVE=$want
	say "$(dmsetup status --target thin | wc -l) thin volumes active; pool: $(dmsetup status --noflush "$TPOOL")"
}

# cpu_ticks PID: utime + stime of the process (all its threads), in clock ticks.
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# proc_kib PID FIELD: a "VmHWM:"-style line of /proc/PID/status, in KiB.
proc_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# build_pool: the VG, the pool and its first thin volume (through lvcreate, 8 MiB written).
build_pool() {
	say "building the pool"
	pvcreate -q --metadatasize 32m /dev/vda >/dev/null
	vgcreate -q "$VG" /dev/vda >/dev/null
	# 10,000 thin devices take about a metadata block each in the pool (an empty mapping tree): 256 MiB is 65,536.
	lvcreate -q -L 2g --poolmetadatasize 256m -c 64k -Zn --thinpool "$POOL" "$VG" >/dev/null
	# The first volume through lvcreate: the -tpool device appears, the kernel and lvm2 agree on transaction id 1.
	lvcreate -q -V 1g --thin -n "$(volume_name 1)" "$VG/$POOL" >/dev/null 2>&1
	HAVE=1
	write_mb "/dev/$VG/$(volume_name 1)" 0 8
}
