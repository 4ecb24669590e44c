# Scenario: LVM's whole picture from the PVs' labels (issue "See the cause weeks ahead"), on real lvm2. Besides a
# VG with an active pool and an inactive thin snapshot, four VGs on loop devices that no active pool leads to:
# `vgidle` (a pool, deactivated: nothing of it is active, as after a failed activation at boot), `vgmiss` (two
# PVs, one detached while the exporter runs), `vgsmall` (a PV made with a small metadata area, filled with LVs
# until lvm2 refuses to commit) and `vgfilt` (put behind lvm.conf's global_filter while the exporter runs: lvm2
# and the exporter both stop seeing it). Then metadata profiles for one pool and one VG override lvm.conf's
# autoextend threshold of 100; a PV on an LV with devices/scan_lvs; and at the end a devices file listing two PVs.
# The host compares the exporter with lvs/vgs/pvs at each checkpoint.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh

# report NAME: what lvm2 says about every VG and PV, in bytes.
report() {
	vgs --reportformat json --units b --nosuffix \
		-o vg_name,vg_uuid,pv_count,vg_missing_pv_count,vg_mda_size,vg_mda_free,vg_mda_count,vg_size,vg_free,lv_count \
		>"$RESULTS/$1-vgs.json" 2>"$RESULTS/$1-vgs.err" || true
	pvs --reportformat json --units b --nosuffix -o pv_name,pv_uuid,vg_name,pv_mda_size,pv_mda_free,pv_missing \
		>"$RESULTS/$1-pvs.json" 2>"$RESULTS/$1-pvs.err" || true
	lvs -a --reportformat json --units b --nosuffix -o vg_name,lv_name,lv_attr,pool_lv,origin,lv_size,lv_time \
		>"$RESULTS/$1-lvs.json" 2>"$RESULTS/$1-lvs.err" || true
}

# devices/scan_lvs = 1 and a filter that accepts one LV: a PV on an LV (vgnested on vga/nested) is seen by lvm2,
# and must be by the exporter (which otherwise skips LVs).
awk '/^\tfilter = / { print "\tscan_lvs = 1"; print "\tfilter = [ \"a|^/dev/vd|\", \"a|^/dev/loop|\", \"a|^/dev/mapper/vga-nested$|\", \"r|.*|\" ]"; next } { print }' \
	/etc/lvm/lvm.conf >/tmp/lvm.conf
cat /tmp/lvm.conf >/etc/lvm/lvm.conf

lvm_pv_on_vda 1024
vgcreate -q vga /dev/vda >/dev/null
lvcreate -q -L 64m -n nested vga >/dev/null
pvcreate -q /dev/mapper/vga-nested >/dev/null
vgcreate -q vgnested /dev/mapper/vga-nested >/dev/null
lvcreate -q -L 256m -c 64k --thinpool pool vga >/dev/null
lvcreate -q -V 1g --thin -n vol vga/pool >/dev/null
write_mb /dev/vga/vol 0 8
lvcreate -q -s -n snap vga/vol >/dev/null # a thin snapshot: lvm2 leaves it inactive

idle=$(loop_pv idle 512M)
vgcreate -q vgidle "$idle" >/dev/null
lvcreate -q -L 128m --thinpool pool vgidle >/dev/null
lvcreate -q -V 1g --thin -n vol vgidle/pool >/dev/null
lvcreate -q -s -n snap vgidle/vol >/dev/null
vgchange -q -an vgidle >/dev/null

miss0=$(loop_pv miss0 64M)
miss1=$(loop_pv miss1 64M)
vgcreate -q vgmiss "$miss0" "$miss1" >/dev/null
lvcreate -q -an -Zn -L 16m -n on0 vgmiss "$miss0" >/dev/null
lvcreate -q -an -Zn -L 16m -n on1 vgmiss "$miss1" >/dev/null

# lvm2 grows a metadata area up to the data alignment: 64 KiB asked, 124 KiB made with 128 KiB alignment.
small=$(loop_pv small 512M --metadatasize 64k --dataalignment 128k)
vgcreate -q -s 1m vgsmall "$small" >/dev/null

filt=$(loop_pv filt 64M)
vgcreate -q vgfilt "$filt" >/dev/null
echo "$idle $miss0 $miss1 $small $filt" >"$RESULTS/loop-devices"

start_exporter
report scanned
checkpoint scanned

say "autoextend: a profile for vga/pool, another for the whole of vgidle (lvm.conf keeps threshold 100)"
mkdir -p /etc/lvm/profile
printf 'activation {\n\tthin_pool_autoextend_threshold = 70\n\tthin_pool_autoextend_percent = 20\n}\n' \
	>/etc/lvm/profile/thin-fast.profile
printf 'activation {\n\tthin_pool_autoextend_threshold = 40\n\tthin_pool_autoextend_percent = 5\n}\n' \
	>/etc/lvm/profile/thin-slow.profile
lvchange -q --metadataprofile thin-fast vga/pool
vgchange -q --metadataprofile thin-slow vgidle >/dev/null
lvs -o vg_name,lv_name,lv_profile,vg_profile vga/pool vgidle/pool >"$RESULTS/profiles.txt" 2>&1
lvmconfig --profile thin-slow activation/thin_pool_autoextend_threshold >>"$RESULTS/profiles.txt" 2>&1 || true

say "detaching $miss1 (a PV of vgmiss) and hiding $filt behind global_filter"
losetup -d "$miss1"
awk -v dev="$filt" '{ print } /^devices \{/ { printf "\tglobal_filter = [ \"r|^%s$|\" ]\n", dev }' \
	/etc/lvm/lvm.conf >/tmp/lvm.conf
cat /tmp/lvm.conf >/etc/lvm/lvm.conf
grep -n global_filter /etc/lvm/lvm.conf
report changed
checkpoint changed

say "filling vgsmall's small metadata area with LVs (each with a 900-character tag) until lvm2 refuses"
tag=t$(printf '%0900d' 0)
n=0
while [ "$n" -lt 400 ]; do
	if ! lvcreate -q -an -Zn -l 1 --addtag "$tag" -n "lv$n" vgsmall >"$RESULTS/lvcreate-small.out" 2>&1; then
		break
	fi
	n=$((n + 1))
	# The state one LV before the refusal is scraped below; keep the last accepted count.
	echo "$n" >"$RESULTS/small-lvs"
done
cat "$RESULTS/lvcreate-small.out"
report full
checkpoint full

say "devices file: only /dev/vda and $idle listed (lvm lvmdevices), use_devicesfile = 1"
awk '/^\tuse_devicesfile = / { print "\tuse_devicesfile = 1"; next } { print }' /etc/lvm/lvm.conf >/tmp/lvm.conf
cat /tmp/lvm.conf >/etc/lvm/lvm.conf
mkdir -p /etc/lvm/devices
lvm lvmdevices -q --adddev /dev/vda >"$RESULTS/lvmdevices.out" 2>&1
lvm lvmdevices -q --adddev "$idle" >>"$RESULTS/lvmdevices.out" 2>&1
cat /etc/lvm/devices/system.devices >>"$RESULTS/lvmdevices.out"
report devices
checkpoint devices
stop_exporter
