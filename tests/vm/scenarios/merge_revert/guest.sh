# Scenario: a thin volume reverted to its snapshot while the exporter runs (issue "Never go dark, never go
# stale"). `lvconvert --merge` of a thin snapshot into an active origin that nobody holds open merges at once: the
# origin's table now names the snapshot's thin id, and nothing that the device's own event counter or its uuid
# and length show has changed. Then the same with plain dmsetup: a thin volume reloaded to another thin id of the
# same length; then a rename, a create, a remove and a deferred remove. The exporter runs all along; each
# checkpoint's scrape must show the kernel's devices and tables as they are now.
. /scenario/lib/guest-lib.sh
. /scenario/lib/states.sh
lvm_pv_on_vda 256
vgcreate -q vgm /dev/vda >/dev/null
lvcreate -q -L 128m --poolmetadatasize 4m -c 64k --thinpool pool vgm >/dev/null
lvcreate -q -V 64m --thin -n origin vgm/pool >/dev/null
write_mb /dev/vgm/origin 0 4
# Two snapshots, as Cinder keeps one per backup: the second stays after the merge of the first.
lvcreate -q -kn -s -n snap vgm/origin >/dev/null
lvcreate -q -kn -s -n keep vgm/origin >/dev/null
write_mb /dev/vgm/snap 8 2
make_plain_pool plainpool 4 64
make_plain_thin plainpool 1 plainthin 32
dmsetup message plainpool 0 "create_thin 2"
write_mb "$(dm_node plainthin)" 0 2
start_exporter
host scrape_loop_start background 250 5
checkpoint before
say "revert vgm/origin to vgm/snap (lvconvert --merge)"
lvconvert --merge vgm/snap
lvs -a -o lv_name,thin_id,lv_attr,origin vgm >"$RESULTS/lvs-after-merge"
checkpoint merged
say "plainthin reloaded to thin id 2, same length"
dmsetup suspend plainthin
dmsetup reload plainthin --table "0 $((32 * 2048)) thin $(devnum plainpool) 2"
dmsetup resume plainthin
checkpoint reloaded
say "plainthin renamed (a rename moves the global event counter too)"
dmsetup rename plainthin plainthin-renamed
checkpoint renamed
# The device list, too, is taken again only when that counter moved: a device created, one removed, and one
# removed deferred (while open: it stays listed until it is closed) each show at the next scrape.
say "plainnew created (dmsetup create)"
make_plain_thin plainpool 3 plainnew 16
checkpoint created
say "plainthin-renamed removed"
dmsetup remove plainthin-renamed
checkpoint removed
say "plainnew removed deferred while held open, then closed"
exec 8<"$(dm_node plainnew)"
dmsetup remove --deferred plainnew
checkpoint deferred
exec 8<&-
checkpoint closed
host scrape_loop_stop background
stop_exporter
