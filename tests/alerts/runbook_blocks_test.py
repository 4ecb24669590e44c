#!/usr/bin/env python3
"""Runs the runbook's marked blocks (docs/runbook.md, `<!-- runbook-test: NAME -->`) verbatim in busybox sh -e,
against stub lvm/dmsetup commands that answer like lvm2 2.03.16 and record what they were asked.

This is the fast, no-kernel half: it proves the blocks parse and run in busybox ash, compute what they should
(sizes, transaction ids, the one metadata line to edit) and call lvm with the right arguments, in the right order.
The VM end-to-end test (tests/vm) runs the same blocks on a real kernel and a real lvm2.

Usage: runbook_blocks_test.py REPO_ROOT
"""
import difflib
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
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
# Debian 12's lvm.conf, where the autoextend settings and monitoring are only comments (lvm2's defaults: threshold
# 100, percent 20, monitoring 1).
with open(os.path.join(FIXTURES, "lvm.conf.debian12")) as _f:
    DEBIAN_LVM_CONF = _f.read()
# An lvm.conf edited by hand, as the e2e guest's: monitoring off, the threshold set to 100, no percent, and a filter
# whose regex has braces and a '#' in quotes, which must not end a section or start a comment.
HAND_LVM_CONF = """devices {
\tfilter = [ "a|^/dev/vd[a-z]{1}#?|", "r|.*|" ]
}
activation {
\tudev_sync = 0
\tmonitoring = 0
\tthin_pool_autoextend_threshold = 100
}
global {
\tuse_lvmlockd = 0
}
"""
DEFAULT_LVM_CONF = DEBIAN_LVM_CONF

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
  *"-o lv_profile $VG/$POOL")
    if [ -f "$STUB_DIR/lv_profile" ]; then echo "  $(cat "$STUB_DIR/lv_profile")"; else echo "  $STUB_LV_PROFILE"; fi ;;
  *"-o seg_monitor $VG/$POOL")
    # After --monitor y, "pending" for as many reads as STUB_PENDING_READS says, then "monitored".
    if [ -f "$STUB_DIR/monitored" ]; then
      n=$(cat "$STUB_DIR/pending" 2>/dev/null || echo 0)
      if [ "$n" -gt 0 ]; then echo $((n - 1)) >"$STUB_DIR/pending"; echo "  pending"; else echo "  monitored"; fi
    else
      echo "  $STUB_SEG_MONITOR"
    fi ;;
  *"--units b --nosuffix -o lv_size,lv_metadata_size $VG/$POOL") echo "  $STUB_DATA_B $STUB_META_B" ;;
  *) echo "  LV   VG   Attr  LSize" ;;
esac
""",
    "vgs": r"""
case "$*" in
  *"--units b --nosuffix -o vg_free $VG") echo "    $STUB_VG_FREE_B" ;;
  *"-o vg_autoactivation $VG") echo "  $STUB_VG_AUTO" ;;
  *"-o vg_missing_pv_count $VG") echo "    $STUB_MISSING" ;;
  *"-o vg_profile $VG") echo "  $STUB_VG_PROFILE" ;;
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
# As lvm2: a profile must exist in the profile folder before an LV can have it; --monitor y registers the pool
# when dmeventd takes it.
if [ "$1" = --metadataprofile ]; then
  [ -f "$LVM_SYSTEM_DIR/profile/$2.profile" ] || { echo "  Failed to load metadata profile $2." >&2; exit 5; }
  echo "$2" >"$STUB_DIR/lv_profile"
fi
if [ "$1 $2" = "--monitor y" ] && [ "$STUB_MONITOR_WORKS" = 1 ]; then
  : >"$STUB_DIR/monitored"
  echo "$STUB_PENDING_READS" >"$STUB_DIR/pending"
fi
""",
    "lvconvert": "",
    "lvm": r"""
case "$*" in
  "config --typeconfig current activation/volume_list") [ -n "$STUB_VOLUME_LIST" ] || exit 5; echo "$STUB_VOLUME_LIST" ;;
  "config --typeconfig current activation/auto_activation_volume_list") [ -n "$STUB_AUTO_LIST" ] || exit 5; echo "$STUB_AUTO_LIST" ;;
  "config --typeconfig full "*)
    # As lvm2 reads them: the metadata profile (with --mergedconfig), then lvmlocal.conf, then lvm.conf (the first
    # uncommented setting of its activation section), then lvm2's default.
    shift 3
    files="$LVM_SYSTEM_DIR/lvmlocal.conf $LVM_SYSTEM_DIR/lvm.conf"
    if [ "$1" = --mergedconfig ]; then shift; fi
    if [ "$1" = --metadataprofile ]; then files="$LVM_SYSTEM_DIR/profile/$2.profile $files"; shift 2; fi
    for node in "$@"; do
      name=${node#activation/}
      value=""
      for f in $files; do
        [ -f "$f" ] || continue
        value=$(awk -v name="$name" '/^[ 	]*activation[ 	]*\{/ { a = 1; next } a && /^[ 	]*\}/ { a = 0 }
          a && $0 ~ "^[ 	]*" name "[ 	]*=" { sub(/^[^=]*=[ 	]*/, ""); print; exit }' "$f")
        [ -z "$value" ] || break
      done
      case "$name" in
        thin_pool_autoextend_threshold) echo "$name=${value:-100}" ;;
        thin_pool_autoextend_percent) echo "$name=${value:-20}" ;;
        monitoring) echo "$name=${value:-1}" ;;
      esac
    done ;;
esac
""",
}


BUSYBOX_APPLETS = ["awk", "sed", "grep", "tr", "diff", "cat", "cp", "tail", "head", "echo", "printf", "rm", "mkdir", "sleep",
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

    def run(self, name, files=None, dmeventd_pid=None, environ=None, **stub):
        """Runs block NAME; FILES: {path under LVM_SYSTEM_DIR: text} (lvm.conf, profiles), written afresh for each run;
        DMEVENTD_PID: what dmeventd's pid file says (no file without it); ENVIRON: more variables (THRESHOLD)."""
        lvm_dir = os.path.join(self.dir, "etc-lvm")
        shutil.rmtree(lvm_dir, ignore_errors=True)
        for path, text in dict({"lvm.conf": DEFAULT_LVM_CONF}, **(files or {})).items():
            os.makedirs(os.path.dirname(os.path.join(lvm_dir, path)), exist_ok=True)
            with open(os.path.join(lvm_dir, path), "w") as f:
                f.write(text)
        pid_file = os.path.join(self.dir, "dmeventd.pid")
        if os.path.exists(pid_file):
            os.remove(pid_file)
        if dmeventd_pid is not None:
            with open(pid_file, "w") as f:
                f.write(f"{dmeventd_pid}\n")
        env = {
            "PATH": self.bin + ":" + os.environ["PATH"], "VG": VG, "POOL": POOL, "TMPDIR": self.dir,
            "LVM_SYSTEM_DIR": lvm_dir, "DMEVENTD_PIDFILE": pid_file,
            "STUB_DIR": self.dir, "STUB_LOG": os.path.join(self.dir, "log"), "STUB_DM_POOL": DM_POOL,
            "STUB_KERNEL_TID": "91", "STUB_LVM_TID": "92", "STUB_META": "1024/1024", "STUB_MODE": "ro",
            "STUB_META_MIB": "4.00", "STUB_VG_FREE_MIB": "100.00", "STUB_THINS": "",
            "STUB_DATA_B": "4294967296", "STUB_CHUNK_B": "65536", "STUB_META_B": "2097152",
            "STUB_VG_FREE_B": "104857600", "STUB_ACTIVE": "", "STUB_TMETA_ACTIVE": "", "STUB_ATTR": "twi---tz--",
            "STUB_AUTO": "enabled", "STUB_VG_AUTO": "enabled", "STUB_MISSING": "0", "STUB_LVCHANGE_OUT": "",
            "STUB_LVCHANGE_RC": "0", "STUB_VOLUME_LIST": "", "STUB_AUTO_LIST": "",
            "STUB_LV_PROFILE": "", "STUB_VG_PROFILE": "", "STUB_SEG_MONITOR": "not monitored", "STUB_MONITOR_WORKS": "1",
            "STUB_PENDING_READS": "0",
            "STUB_VG_FILE": os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "cinder-volumes.vg"),
        }
        env.update({"STUB_" + k.upper(): v for k, v in stub.items()})
        env.update(environ or {})
        for leftover in ("log", "restored.vg", "lv_profile", "monitored", "pending"):
            if os.path.exists(os.path.join(self.dir, leftover)):
                os.remove(os.path.join(self.dir, leftover))
        r = subprocess.run(["busybox", "sh", "-e", "-c", self.blocks[name]], env=env, capture_output=True,
                           text=True, timeout=30)
        log = open(env["STUB_LOG"]).read().splitlines() if os.path.exists(env["STUB_LOG"]) else []
        return r, log, env

    def lvm_file(self, path):
        """The text of a file under the last run's LVM_SYSTEM_DIR, or None."""
        path = os.path.join(self.dir, "etc-lvm", path)
        return open(path).read() if os.path.exists(path) else None

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

    prevention_blocks(t, show)

    shutil.rmtree(t.dir)
    print(f"{t.passed} passed, {len(t.failures)} failed")
    return 1 if t.failures else 0


def dead_pid():
    """A pid no process has: a child's, after it was reaped."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def fake_dmeventd(directory):
    """A process whose name (/proc/PID/comm) is dmeventd: a copy of sleep. The caller kills it."""
    path = os.path.join(directory, "dmeventd")
    shutil.copy(shutil.which("sleep"), path)
    return subprocess.Popen([path, "600"])


def profile_text(threshold, percent):
    return f"activation {{\n\tthin_pool_autoextend_threshold = {threshold}\n\tthin_pool_autoextend_percent = {percent}\n}}\n"


def changes(log):
    return [c for c in log if c.split()[0] in ("lvchange", "lvconvert", "lvextend", "vgchange")]


def prevention_blocks(t, show):
    """autoextend-status, enable-autoextend, enable-autoextend-host, monitor-pool."""
    dmeventd = fake_dmeventd(t.dir)
    try:
        prevention_blocks_with(t, show, dmeventd.pid)
    finally:
        dmeventd.kill()
        dmeventd.wait()


def prevention_blocks_with(t, show, alive):
    mon1 = {"lvm.conf": HAND_LVM_CONF.replace("monitoring = 0", "monitoring = 1")}
    # 4 GiB of data and 2 MiB of metadata (the stub's pool); by 20%: 858993459 and 419430 bytes.
    protected = dict(files=dict(mon1, **{"profile/thin-autoextend-70-20.profile": profile_text(70, 20)}),
                     dmeventd_pid=alive, lv_profile="thin-autoextend-70-20", seg_monitor="monitored",
                     vg_free_b=str(10 << 30))

    # autoextend-status: read-only, fails unless every part of the protection is there, and says which is not.
    r, log, _ = t.run("autoextend-status", **protected)
    t.expect("autoextend-status: a pool with its profile, monitored, dmeventd running, room: protected",
             r.returncode == 0 and "protected: lvm2 extends the pool when its data or metadata usage passes 70%"
             in r.stdout and "threshold 70%, percent 20% (from the LV's metadata profile thin-autoextend-70-20)"
             in r.stdout and "next extension: data 858993459 bytes, metadata 419430 bytes; free in "
             f"{VG}: 10737418240 bytes" in r.stdout, show(r, log))
    r, log, _ = t.run("autoextend-status", files={"lvm.conf": DEBIAN_LVM_CONF}, dmeventd_pid=alive,
                      seg_monitor="monitored")
    t.expect("autoextend-status: Debian's lvm.conf leaves autoextend disabled", r.returncode != 0 and
             "threshold 100%, percent 20% (from lvm.conf)" in r.stdout and "autoextend is disabled" in r.stderr,
             show(r, log))
    r, log, _ = t.run("autoextend-status", **dict(protected, lv_profile="", vg_profile="vg-policy", files=dict(
        mon1, **{"profile/vg-policy.profile": profile_text(80, 10)})))
    t.expect("autoextend-status: the VG's profile when the LV has none", r.returncode == 0 and
             "threshold 80%, percent 10% (from the VG's metadata profile vg-policy)" in r.stdout, show(r, log))
    for what, change, want in [
        ("dmeventd does not run (no pid file)", {"dmeventd_pid": None}, "dmeventd does not run"),
        ("dmeventd does not run (a stale pid file)", {"dmeventd_pid": dead_pid()}, "dmeventd does not run"),
        ("dmeventd does not run (its pid now another process's)", {"dmeventd_pid": os.getpid()},
         "dmeventd does not run"),
        ("the pool is not monitored", {"seg_monitor": "not monitored"}, "dmeventd does not monitor the pool"),
        ("activation/monitoring 0", {"files": dict(protected["files"], **{"lvm.conf": HAND_LVM_CONF})},
         "activation/monitoring is not 1"),
        ("the VG lacks the data step", {"vg_free_b": "104857600"}, f"{VG} cannot supply the next extension"),
    ]:
        r, log, _ = t.run("autoextend-status", **dict(protected, **change))
        t.expect(f"autoextend-status fails and says why: {what}", r.returncode != 0 and want in r.stderr and
                 "protected:" not in r.stdout, show(r, log))
    t.expect("autoextend-status changes nothing", not changes(log), show(r, log))

    # enable-autoextend: a profile of its own for the pool, attached, the pool registered and checked.
    r, log, _ = t.run("enable-autoextend", files=mon1)
    t.expect("enable-autoextend writes thin-autoextend-70-20.profile, attaches it, monitors the pool",
             r.returncode == 0 and t.lvm_file("profile/thin-autoextend-70-20.profile") == profile_text(70, 20) and
             changes(log) == [f"lvchange --metadataprofile thin-autoextend-70-20 {VG}/{POOL}",
                              f"lvchange --monitor y {VG}/{POOL}"] and not r.stderr, show(r, log))
    r, log, _ = t.run("enable-autoextend", files=mon1, environ={"THRESHOLD": "60", "PERCENT": "10"})
    t.expect("enable-autoextend takes THRESHOLD and PERCENT", r.returncode == 0 and
             t.lvm_file("profile/thin-autoextend-60-10.profile") == profile_text(60, 10) and
             f"lvchange --metadataprofile thin-autoextend-60-10 {VG}/{POOL}" in log, show(r, log))
    r, log, _ = t.run("enable-autoextend", files=mon1, lv_profile="thin-autoextend-70-20")
    t.expect("enable-autoextend runs again on a pool that has its profile", r.returncode == 0 and
             f"lvchange --monitor y {VG}/{POOL}" in log, show(r, log))
    r, log, _ = t.run("enable-autoextend", files={"lvm.conf": HAND_LVM_CONF})
    t.expect("enable-autoextend warns that activation/monitoring 0 loses the registration at the next activation",
             r.returncode == 0 and "not after its next activation" in r.stderr, show(r, log))
    for what, kwargs, want in [
        ("a threshold below 50", {"environ": {"THRESHOLD": "40"}}, "THRESHOLD must be 50 to 99"),
        ("a threshold of 100", {"environ": {"THRESHOLD": "100"}}, "THRESHOLD must be 50 to 99"),
        ("a percent of 0", {"environ": {"PERCENT": "0"}}, "PERCENT at least 1"),
        ("a threshold that is no number", {"environ": {"THRESHOLD": "70%"}}, "THRESHOLD must be 50 to 99"),
        ("a pool with another profile", {"lv_profile": "thin-performance"},
         "already has the metadata profile thin-performance"),
    ]:
        r, log, _ = t.run("enable-autoextend", files=mon1, **kwargs)
        t.expect(f"enable-autoextend refuses {what} and changes nothing", r.returncode != 0 and want in r.stderr
                 and not changes(log) and not os.path.exists(os.path.join(t.dir, "etc-lvm", "profile")),
                 show(r, log))
    r, log, _ = t.run("enable-autoextend", files=mon1, monitor_works="0")
    t.expect("enable-autoextend fails when dmeventd does not take the pool", r.returncode != 0 and
             "dmeventd does not monitor" in r.stderr, show(r, log))

    # enable-autoextend-host: lvm.conf's activation section gets the three settings, comments and the rest unchanged.
    for what, conf, want_added, want_removed in [
        ("Debian's lvm.conf (settings only in comments): added at the end of activation", DEBIAN_LVM_CONF,
         ["\tthin_pool_autoextend_threshold = 70", "\tthin_pool_autoextend_percent = 20", "\tmonitoring = 1"], []),
        ("a hand-edited lvm.conf: replaced where they are, the missing one added", HAND_LVM_CONF,
         ["\tmonitoring = 1", "\tthin_pool_autoextend_threshold = 70", "\tthin_pool_autoextend_percent = 20"],
         ["\tmonitoring = 0", "\tthin_pool_autoextend_threshold = 100"]),
        ("an lvm.conf without an activation section: one appended", "devices {\n\tscan = [ \"/dev\" ]\n}\n",
         ["activation {", "\tthin_pool_autoextend_threshold = 70", "\tthin_pool_autoextend_percent = 20",
          "\tmonitoring = 1", "}"], []),
    ]:
        r, log, _ = t.run("enable-autoextend-host", files={"lvm.conf": conf})
        after = t.lvm_file("lvm.conf")
        diff = list(difflib.ndiff(conf.splitlines(), (after or "").splitlines()))
        added = [l[2:] for l in diff if l.startswith("+ ")]
        removed = [l[2:] for l in diff if l.startswith("- ")]
        t.expect(f"enable-autoextend-host: {what}", r.returncode == 0 and sorted(added) == sorted(want_added) and
                 removed == want_removed and t.lvm_file("lvm.conf.before-autoextend") == conf and
                 changes(log) == [f"lvchange --monitor y {VG}/{POOL}"], show(r, log) + "\n" + "\n".join(diff))
        if r.returncode == 0 and after is not None:
            once = after
            r, log, _ = t.run("enable-autoextend-host", files={"lvm.conf": once, "lvm.conf.before-autoextend": conf})
            t.expect(f"enable-autoextend-host: a second run changes nothing more ({what.split(':')[0]})",
                     r.returncode == 0 and t.lvm_file("lvm.conf") == once and
                     t.lvm_file("lvm.conf.before-autoextend") == conf, show(r, log))
    r, log, _ = t.run("enable-autoextend-host", files={"lvm.conf": HAND_LVM_CONF},
                      environ={"THRESHOLD": "65", "PERCENT": "15"})
    t.expect("enable-autoextend-host takes THRESHOLD and PERCENT", r.returncode == 0 and
             "\tthin_pool_autoextend_threshold = 65\n" in t.lvm_file("lvm.conf") and
             "\tthin_pool_autoextend_percent = 15\n" in t.lvm_file("lvm.conf"), show(r, log))
    r, log, _ = t.run("enable-autoextend-host", files={
        "lvm.conf": DEBIAN_LVM_CONF, "lvmlocal.conf": "activation {\n\tthin_pool_autoextend_threshold = 100\n}\n"})
    t.expect("enable-autoextend-host fails when lvmlocal.conf overrides lvm.conf, before touching the pool",
             r.returncode != 0 and "lvmlocal.conf or another configuration file overrides it" in r.stderr and
             not changes(log), show(r, log))
    r, log, _ = t.run("enable-autoextend-host", files={"lvm.conf": DEBIAN_LVM_CONF}, lv_profile="thin-performance")
    t.expect("enable-autoextend-host says that the pool's own profile applies to it", r.returncode == 0 and
             "its settings, not lvm.conf's, apply to it" in r.stderr, show(r, log))
    r, log, _ = t.run("enable-autoextend-host", files={"lvm.conf": DEBIAN_LVM_CONF}, monitor_works="0")
    t.expect("enable-autoextend-host fails when dmeventd does not take the pool", r.returncode != 0 and
             "dmeventd does not monitor" in r.stderr, show(r, log))

    # monitor-pool.
    r, log, _ = t.run("monitor-pool", files=mon1)
    t.expect("monitor-pool registers the pool and sees it monitored", r.returncode == 0 and
             changes(log) == [f"lvchange --monitor y {VG}/{POOL}"] and not r.stderr, show(r, log))
    r, log, _ = t.run("monitor-pool", files=mon1, pending_reads="2")
    t.expect("monitor-pool waits while dmeventd answers pending", r.returncode == 0 and not r.stderr and
             log.count(f"lvs --noheadings -o seg_monitor {VG}/{POOL}") == 3, show(r, log))
    r, log, _ = t.run("enable-autoextend", files=mon1, pending_reads="1")
    t.expect("enable-autoextend waits while dmeventd answers pending", r.returncode == 0 and not r.stderr,
             show(r, log))
    r, log, _ = t.run("monitor-pool", files={"lvm.conf": HAND_LVM_CONF})
    t.expect("monitor-pool warns about activation/monitoring 0", r.returncode == 0 and
             "activation/monitoring is 0" in r.stderr, show(r, log))
    r, log, _ = t.run("monitor-pool", files=mon1, monitor_works="0")
    t.expect("monitor-pool fails when the pool stays unmonitored", r.returncode != 0 and
             "not monitored: does dmeventd run?" in r.stderr, show(r, log))


if __name__ == "__main__":
    sys.exit(main())
