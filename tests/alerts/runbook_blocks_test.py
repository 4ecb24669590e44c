#!/usr/bin/env python3
"""Runs the runbook's marked blocks (docs/runbook.md, `<!-- runbook-test: NAME -->`) verbatim in busybox sh -e,
against stub lvm/dmsetup commands that answer like lvm2 2.03.16 and record what they were asked.

This is the fast, no-kernel half: it proves the blocks parse and run in busybox ash, compute what they should
(sizes, transaction ids, the one metadata line to edit) and call lvm with the right arguments, in the right order.
The VM end-to-end test (tests/vm) runs the same blocks on a real kernel and a real lvm2.

Usage: runbook_blocks_test.py REPO_ROOT
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_coverage import runbook_blocks  # noqa: E402

VG = "cinder-volumes"
POOL = "cinder-volumes-pool"
DM_POOL = "cinder--volumes-cinder--volumes--pool-tpool"

# Each stub logs "name args..." to $STUB_LOG and answers from $STUB_* variables.
STUBS = {
    "dmsetup": r"""
case "$*" in
  "status --noflush --target thin-pool")
    echo "$STUB_DM_POOL: 0 2097152 thin-pool $STUB_KERNEL_TID $STUB_META 2918/16384 - $STUB_MODE discard_passdown queue_if_no_space - 256 " ;;
  "status --noflush $STUB_DM_POOL")
    echo "0 2097152 thin-pool $STUB_KERNEL_TID $STUB_META 2918/16384 - $STUB_MODE discard_passdown queue_if_no_space - 256 " ;;
  status*) echo "Device does not exist." >&2; exit 1 ;;
esac
""",
    "lvs": r"""
case "$*" in
  *"-o lv_size,chunk_size,lv_metadata_size $VG/$POOL") echo "  $STUB_DATA_B $STUB_CHUNK_B $STUB_META_B" ;;
  *"-o lv_active $VG/$POOL") echo "  $STUB_ACTIVE" ;;
  *"-o lv_active $VG/${POOL}_tmeta") echo "  $STUB_TMETA_ACTIVE" ;;
  *"-o lv_active $VG/${POOL}_tdata") echo "  " ;;
  *"-o lv_attr $VG/$POOL") echo "  $STUB_ATTR" ;;
  *"-o lv_autoactivation $VG/$POOL") echo "  $STUB_AUTO" ;;
  *"-o transaction_id $VG/$POOL") echo "    $STUB_LVM_TID" ;;
  *"-o lv_metadata_size $VG/$POOL") echo "    $STUB_META_MIB" ;;
  *"-o lv_name -S pool_lv=$POOL $VG") for lv in $STUB_THINS; do echo "  $lv"; done ;;
  *) echo "  LV   VG   Attr  LSize" ;;
esac
""",
    "vgs": r"""
case "$*" in
  *"--units b --nosuffix -o vg_free $VG") echo "    $STUB_VG_FREE_B" ;;
  *"-o vg_autoactivation $VG") echo "  $STUB_VG_AUTO" ;;
  *"-o vg_missing_pv_count $VG") echo "    $STUB_MISSING" ;;
  *"-o vg_free $VG") echo "    $STUB_VG_FREE_MIB" ;;
  *) echo "  VG   #PV #LV VSize VFree" ;;
esac
""",
    "vgcfgbackup": r"""
[ "$1" = -f ] && cp "$STUB_VG_FILE" "$2"
""",
    "vgcfgrestore": r"""
answer=$(cat)
[ "$answer" = y ] || { echo "vgcfgrestore: no confirmation" >&2; exit 5; }
[ "$1 $2" = "--force -f" ] && cp "$3" "$STUB_DIR/restored.vg"
""",
    "dmesg": r"""
echo "[  12.345678] device-mapper: thin: 254:2: growing the metadata device from 1024 to 2048 blocks"
""",
    "lvextend": "",
    "lvchange": r"""
if [ "$*" = "-ay $VG/$POOL" ] && [ -n "$STUB_LVCHANGE_OUT" ]; then echo "$STUB_LVCHANGE_OUT" >&2; exit "$STUB_LVCHANGE_RC"; fi
""",
    "lvconvert": "",
    "lvm": r"""
case "$*" in
  "config --typeconfig current activation/volume_list") [ -n "$STUB_VOLUME_LIST" ] || exit 5; echo "$STUB_VOLUME_LIST" ;;
  "config --typeconfig current activation/auto_activation_volume_list") [ -n "$STUB_AUTO_LIST" ] || exit 5; echo "$STUB_AUTO_LIST" ;;
esac
""",
}


BUSYBOX_APPLETS = ["awk", "sed", "grep", "tr", "diff", "cat", "cp", "tail", "head", "echo", "printf", "rm", "mkdir",
                   "ps", "test", "["]


class Runner:
    def __init__(self, blocks):
        self.blocks = dict(blocks)
        self.dir = tempfile.mkdtemp(prefix="runbook-blocks-")
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        # The guest has busybox's applets, not GNU's tools: run the blocks with those.
        for applet in BUSYBOX_APPLETS:
            os.symlink(shutil.which("busybox"), os.path.join(self.bin, applet))
        for name, body in STUBS.items():
            path = os.path.join(self.bin, name)
            with open(path, "w") as f:
                f.write('#!/bin/sh\necho "%s $*" >>"$STUB_LOG"\n%s' % (name, body))
            os.chmod(path, 0o755)
        self.failures = []
        self.passed = 0

    def run(self, name, **stub):
        env = {
            "PATH": self.bin + ":" + os.environ["PATH"], "VG": VG, "POOL": POOL, "TMPDIR": self.dir,
            "STUB_DIR": self.dir, "STUB_LOG": os.path.join(self.dir, "log"), "STUB_DM_POOL": DM_POOL,
            "STUB_KERNEL_TID": "91", "STUB_LVM_TID": "92", "STUB_META": "1024/1024", "STUB_MODE": "ro",
            "STUB_META_MIB": "4.00", "STUB_VG_FREE_MIB": "100.00", "STUB_THINS": "",
            "STUB_DATA_B": "4294967296", "STUB_CHUNK_B": "65536", "STUB_META_B": "2097152",
            "STUB_VG_FREE_B": "104857600", "STUB_ACTIVE": "", "STUB_TMETA_ACTIVE": "", "STUB_ATTR": "twi---tz--",
            "STUB_AUTO": "enabled", "STUB_VG_AUTO": "enabled", "STUB_MISSING": "0", "STUB_LVCHANGE_OUT": "",
            "STUB_LVCHANGE_RC": "0", "STUB_VOLUME_LIST": "", "STUB_AUTO_LIST": "",
            "STUB_VG_FILE": os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "cinder-volumes.vg"),
        }
        env.update({"STUB_" + k.upper(): v for k, v in stub.items()})
        for leftover in ("log", "restored.vg"):
            if os.path.exists(os.path.join(self.dir, leftover)):
                os.remove(os.path.join(self.dir, leftover))
        r = subprocess.run(["busybox", "sh", "-e", "-c", self.blocks[name]], env=env, capture_output=True,
                           text=True, timeout=30)
        log = open(env["STUB_LOG"]).read().splitlines() if os.path.exists(env["STUB_LOG"]) else []
        return r, log, env

    def expect(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failures.append(what)
            print(f"FAIL {what}\n{detail}")


def main():
    with open(os.path.join(sys.argv[1], "docs", "runbook.md")) as f:
        blocks, errors = runbook_blocks(f.read())
    if errors:
        print("\n".join(errors))
        return 1
    t = Runner(blocks)
    show = lambda r, log: f"rc={r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}\ncalls:\n" + "\n".join(log)

    r, log, _ = t.run("diagnose")
    t.expect("diagnose runs and asks lvs, vgs, dmsetup", r.returncode == 0 and
             any(c.startswith("dmsetup status --noflush --target thin-pool") for c in log), show(r, log))

    # grow-metadata: 4 MiB of metadata, 100 MiB free: grows by 4 MiB.
    r, log, _ = t.run("grow-metadata")
    t.expect("grow-metadata doubles the metadata", r.returncode == 0 and
             f"lvextend --poolmetadatasize +4m {VG}/{POOL}" in log, show(r, log))
    r, log, _ = t.run("grow-metadata", vg_free_mib="3.00")
    t.expect("grow-metadata refuses when the VG lacks the space", r.returncode != 0 and
             not any(c.startswith("lvextend") for c in log) and "not enough free space" in r.stderr, show(r, log))

    r, log, _ = t.run("grow-data")
    t.expect("grow-data grows by 10% of the LV", r.returncode == 0 and
             f"lvextend -l +10%LV {VG}/{POOL}" in log, show(r, log))

    # repair-pool: thin volumes off, pool off, repair, grow, pool on, thin volumes on, in that order.
    r, log, _ = t.run("repair-pool", thins="vol1 vol2")
    calls = [c for c in log if c.split()[0] in ("lvchange", "lvconvert", "lvextend")]
    want = [f"lvchange -an {VG}/vol1", f"lvchange -an {VG}/vol2", f"lvchange -an {VG}/{POOL}",
            f"lvconvert --repair {VG}/{POOL}", f"lvextend --poolmetadatasize +4m {VG}/{POOL}",
            f"lvchange -ay {VG}/{POOL}", f"lvchange -ay {VG}/vol1", f"lvchange -ay {VG}/vol2"]
    t.expect("repair-pool deactivates, repairs, grows, reactivates in order", r.returncode == 0 and calls == want,
             show(r, log) + "\nwanted:\n" + "\n".join(want))

    # fix-transaction-id: kernel 91, LVM 92 (the seed): only the pool segment's line changes, to 91.
    r, log, env = t.run("fix-transaction-id")
    restored = os.path.join(t.dir, "restored.vg")
    ok = r.returncode == 0 and os.path.exists(restored)
    if ok:
        before = open(env["STUB_VG_FILE"]).read().splitlines()
        after = open(restored).read().splitlines()
        diff = [(a, b) for a, b in zip(before, after) if a != b]
        ok = len(before) == len(after) and diff == [("\t\t\t\ttransaction_id = 92", "\t\t\t\ttransaction_id = 91")]
        # The thin volume that also says transaction_id = 92 is untouched.
        ok = ok and after.count("\t\t\t\ttransaction_id = 92") == 1
    t.expect("fix-transaction-id restores metadata with only the pool's transaction_id changed 92 -> 91", ok,
             show(r, log))
    r, log, _ = t.run("fix-transaction-id", lvm_tid="91")
    t.expect("fix-transaction-id does nothing when the ids agree", r.returncode == 0 and
             not any(c.startswith(("vgcfgbackup", "vgcfgrestore")) for c in log) and "nothing to fix" in r.stdout,
             show(r, log))
    # A fresh pool without thin volumes holds the thin-pool target in VG-POOL itself (no -tpool device).
    r, log, _ = t.run("fix-transaction-id", dm_pool="cinder--volumes-cinder--volumes--pool")
    t.expect("fix-transaction-id finds a pool without a -tpool device", r.returncode == 0 and
             os.path.exists(restored), show(r, log))
    # An id that is not in the pool segment (LVM says 93): nothing matches, nothing is restored.
    r, log, _ = t.run("fix-transaction-id", lvm_tid="93")
    t.expect("fix-transaction-id refuses when it cannot find the line to change", r.returncode != 0 and
             not os.path.exists(restored), show(r, log))

    # grow-metadata-to-estimate: 64 bytes per chunk, clamped to 2 MiB .. 15.81 GiB, only upwards, only with room.
    for what, stub, want in [
        ("4 GiB of 64 KiB chunks with 2 MiB: grows to 4 MiB", {}, "4194304b"),
        ("1 PiB of 64 KiB chunks with 1 GiB: grows to lvm2's largest, 15.81 GiB",
         {"data_b": str(1 << 50), "meta_b": str(1 << 30), "vg_free_b": str(20 << 30)}, "16978542592b"),
        ("1 GiB of 64 KiB chunks (1 MiB by the formula) with 1 MiB: grows to the 2 MiB floor",
         {"data_b": str(1 << 30), "meta_b": str(1 << 20)}, "2097152b"),
    ]:
        r, log, _ = t.run("grow-metadata-to-estimate", **stub)
        t.expect(f"grow-metadata-to-estimate: {what}", r.returncode == 0 and
                 [c for c in log if c.startswith("lvextend")] == [f"lvextend --poolmetadatasize {want} {VG}/{POOL}"],
                 show(r, log))
    r, log, _ = t.run("grow-metadata-to-estimate", data_b=str(1 << 30), meta_b=str(2 << 20))
    t.expect("grow-metadata-to-estimate does nothing for metadata already at the estimate", r.returncode == 0 and
             not any(c.startswith("lvextend") for c in log) and "nothing to do" in r.stdout, show(r, log))
    r, log, _ = t.run("grow-metadata-to-estimate", vg_free_b="1048576")
    t.expect("grow-metadata-to-estimate refuses when the VG lacks the space", r.returncode != 0 and
             not any(c.startswith("lvextend") for c in log) and "not enough free space" in r.stderr, show(r, log))

    # activate-pool: lvm2's refusals are named; a silent skip is caught; success activates the thin volumes.
    for what, stub, want in [
        ("thin_check failed", {"lvchange_out": "bad checksum in btree node (block 35)\n  Check of pool vg/pool failed "
                                               "(status:1). Manual repair required!", "lvchange_rc": "5"}, "repair-pool"),
        ("the _tmeta is active on its own", {"lvchange_out": "  Activation of logical volume vg/pool is prohibited "
                                             "while logical volume vg/pool_tmeta is active.", "lvchange_rc": "5"},
         "sub-LV is active on its own"),
        ("a PV is missing", {"lvchange_out": "  Refusing activation of partial LV vg/pool.  Use '--activationmode "
                                             "partial' to override.", "lvchange_rc": "5"}, "ThinPoolLvmPvMissing"),
        ("lvm2 skipped it silently", {}, "activation/volume_list"),
    ]:
        r, log, _ = t.run("activate-pool", thins="vol1", **stub)
        t.expect(f"activate-pool fails and says why: {what}", r.returncode != 0 and want in r.stderr and
                 f"lvchange -ay {VG}/vol1" not in log, show(r, log))
    r, log, _ = t.run("activate-pool", thins="vol1 vol2", active="active")
    t.expect("activate-pool activates the thin volumes once the pool is active", r.returncode == 0 and
             [c for c in log if c.startswith("lvchange")] ==
             [f"lvchange -ay {VG}/{POOL}", f"lvchange -ay {VG}/vol1", f"lvchange -ay {VG}/vol2"], show(r, log))

    # inactive-pool: each mark a deliberate deactivation or a failure leaves is named; none of them: say so.
    for what, stub, want in [
        ("the activation skip flag", {"attr": "twi---tz-k"}, "activation skip flag is set"),
        ("autoactivation disabled on the LV", {"auto": ""}, "autoactivation is disabled for the LV"),
        ("autoactivation disabled on the VG", {"vg_auto": ""}, "autoactivation is disabled for the VG"),
        ("volume_list without the VG", {"volume_list": 'volume_list="other-vg"'}, "volume_list does not name"),
        ("auto_activation_volume_list without the pool", {"auto_list": 'auto_activation_volume_list=["x/y"]'},
         "auto_activation_volume_list does not name"),
        ("a missing PV", {"missing": "1"}, "misses 1 PV(s)"),
        ("the _tmeta active on its own", {"tmeta_active": "active"}, f"{POOL}_tmeta is active on its own"),
        ("nothing", {}, "nothing marks it as inactive on purpose"),
    ]:
        r, log, _ = t.run("inactive-pool", **stub)
        t.expect(f"inactive-pool names {what}", r.returncode == 0 and want in r.stdout, show(r, log))
    r, log, _ = t.run("inactive-pool", volume_list=f'volume_list=["{VG}/{POOL}"]')
    t.expect("inactive-pool: a volume_list that names the pool is no reason", r.returncode == 0 and
             "does not name" not in r.stdout and "nothing marks it" in r.stdout, show(r, log))
    t.expect("inactive-pool changes nothing", not any(c.split()[0] in ("lvchange", "lvconvert", "lvextend") for c in log),
             show(r, log))

    shutil.rmtree(t.dir)
    print(f"{t.passed} passed, {len(t.failures)} failed")
    return 1 if t.failures else 0


if __name__ == "__main__":
    sys.exit(main())
