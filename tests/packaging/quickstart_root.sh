#!/usr/bin/env bash
# The inside of the quick-start test (quickstart_test.sh starts it with unshare in new mount, PID and
# network namespaces, so every mount and process below ends with it and :9966 is bound in a network
# namespace of its own). In the fresh Debian 12 root it was given: the mounts a booted machine has,
# git and sudo, a user `dev` with sudo and a clone of the repository; then, as dev, the README's
# quick-start commands exactly as written, and the checks.
# Environment: ROOT WORK REPO DEBS HOST_NETNS MIRROR_HOST RUN_CMD CURL_CMD TEST_CMD (see quickstart_test.sh)
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
fail() { echo "FAIL: $*" >&2; exit 1; }
elapsed() { echo "$(($(date +%s) - $1)) s"; }
# in_root CMD...: as root in the fresh root, with its own environment (none of this machine's).
in_root() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 chroot "$ROOT" "$@"; }
# as_dev SHELL_LINE: as the user dev in the clone, through a login shell, as a person would type it.
as_dev() { env -i TERM=dumb PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$ROOT" /usr/sbin/runuser -l dev -c "cd ~/thinpool_exporter && $1" </dev/null; }
installed() { in_root dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" {print $2}' | sort; }
show_tail() { echo "--- last lines of $1:" >&2; tail -n "${2:-40}" "$1" >&2; }

# The network: loopback only, and apt's mirror reached through the relay quickstart_test.sh runs on
# the host (this socat listens on 127.0.0.1:80 here and forwards to the relay's unix socket).
ip link set lo up
socat TCP-LISTEN:80,bind=127.0.0.1,fork,reuseaddr "UNIX-CONNECT:$WORK/mirror.sock" &
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\t\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t%s\n' \
  "$(cat "$ROOT/etc/hostname")" "$MIRROR_HOST" >"$ROOT/etc/hosts"

# What a booted machine has mounted. /dev has the usual nodes and, when this machine has it,
# /dev/mapper/control (bound from the host: the exporter only reads device-mapper).
mount -t proc proc "$ROOT/proc"
mount -t sysfs -o ro sysfs "$ROOT/sys"
mount -t tmpfs -o mode=755,nosuid tmpfs "$ROOT/dev"
for node in null zero full random urandom tty; do
  touch "$ROOT/dev/$node"
  mount --bind "/dev/$node" "$ROOT/dev/$node"
done
mkdir "$ROOT/dev/pts" "$ROOT/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$ROOT/dev/pts"
ln -s pts/ptmx "$ROOT/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$ROOT/dev/shm"
ln -s /proc/self/fd "$ROOT/dev/fd"
ln -s /proc/self/fd/0 "$ROOT/dev/stdin"
ln -s /proc/self/fd/1 "$ROOT/dev/stdout"
ln -s /proc/self/fd/2 "$ROOT/dev/stderr"
if [ -c /dev/mapper/control ]; then
  mkdir "$ROOT/dev/mapper"
  touch "$ROOT/dev/mapper/control"
  mount --bind /dev/mapper/control "$ROOT/dev/mapper/control"
fi
# apt's downloads are kept between runs (the .deb files only; the package lists are fetched anew).
mount --bind "$DEBS" "$ROOT/var/cache/apt/archives"

t0=$(date +%s)
in_root apt-get update -qq >"$WORK/setup.log" 2>&1 || { show_tail "$WORK/setup.log"; fail "apt-get update in the fresh root"; }
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git sudo \
  >>"$WORK/setup.log" 2>&1 || { show_tail "$WORK/setup.log"; fail "installing git and sudo in the fresh root"; }
in_root useradd --create-home --shell /bin/bash dev
echo 'dev ALL=(ALL:ALL) NOPASSWD: ALL' >"$ROOT/etc/sudoers.d/dev"
chmod 0440 "$ROOT/etc/sudoers.d/dev"
clone=$ROOT/home/dev/thinpool_exporter  # what the checks below read: the clone's lists, not REPO's
git clone --quiet --no-hardlinks "$REPO" "$clone"
in_root chown -R dev:dev /home/dev/thinpool_exporter
revision=$(as_dev 'git rev-parse --short=12 HEAD')
installed >"$WORK/packages.base"
in_root apt-mark showmanual | sort >"$WORK/manual.base"
echo "== fresh root: Debian 12 minbase + git, sudo ($(wc -l <"$WORK/packages.base") packages), user dev," \
  "clone at $revision, in $(elapsed "$t0")"

# 1. The README's first command, as dev, in the background; ready when :9966 answers.
t1=$(date +%s)
echo "== dev\$ $RUN_CMD"
as_dev "$RUN_CMD" >"$WORK/run.log" 2>&1 &
run_pid=$!
until (exec 3<>/dev/tcp/127.0.0.1/9966) 2>/dev/null; do
  if ! kill -0 "$run_pid" 2>/dev/null; then
    rc=0
    wait "$run_pid" || rc=$?
    show_tail "$WORK/run.log"
    fail "the README's first command ($RUN_CMD) exited $rc before serving :9966"
  fi
  sleep 2
done
echo "ok: the exporter serves :9966 $(elapsed "$t1") after the first command started"

# scripts/run asked apt for build.txt and runtime.txt only (apt marks what it was asked for as
# manually installed, their dependencies as automatic), and all of those are installed.
installed >"$WORK/packages.run"
in_root apt-mark showmanual | sort >"$WORK/manual.run"
mapfile -t run_lists < <("$clone/scripts/install-deps" --print build runtime | sort)
asked=$(comm -13 "$WORK/manual.base" "$WORK/manual.run")
[ -n "$asked" ] || fail "scripts/run installed nothing (the fresh root had no build tools, so it must have)"
extra=$(comm -23 <(echo "$asked") <(printf '%s\n' "${run_lists[@]}") | tr '\n' ' ')
[ -z "$extra" ] || fail "scripts/run installed packages that build.txt and runtime.txt do not name: $extra"
absent=$(comm -23 <(printf '%s\n' "${run_lists[@]}") "$WORK/packages.run" | tr '\n' ' ')
[ -z "$absent" ] || fail "after scripts/run, packages of build.txt/runtime.txt are not installed: $absent"
echo "ok: scripts/run asked apt for $(wc -l <<<"$asked") packages, all from build.txt and runtime.txt" \
  "($(comm -13 "$WORK/packages.base" "$WORK/packages.run" | wc -l) installed with their dependencies)"
owner=$(in_root stat -c %U /home/dev/thinpool_exporter/build)
[ "$owner" = dev ] || fail "sudo scripts/run left build/ owned by $owner, not dev"

# The network namespace: nothing of this test listens on :9966 in the host's.
host_listeners=$(nsenter --net="$HOST_NETNS" ss -Hltnp 'sport = :9966')
grep -q thinpool_export <<<"$host_listeners" && fail "the exporter listens on the host's :9966: $host_listeners"
echo "ok: :9966 is bound in the test's network namespace only"

# 2. The README's scrape, as dev. A minimal Debian has no curl; the README says to install it.
[ -z "$(in_root sh -c 'command -v curl' || true)" ] || fail "curl is in the fresh root before anyone installed it"
as_dev 'sudo apt-get install -y -qq --no-install-recommends curl' >"$WORK/curl-install.log" 2>&1 ||
  { show_tail "$WORK/curl-install.log"; fail "sudo apt-get install curl"; }
echo "== dev\$ $CURL_CMD"
as_dev "$CURL_CMD" >"$WORK/scrape.txt" 2>&1 || { cat "$WORK/scrape.txt"; fail "the README's scrape failed: $CURL_CMD"; }
sed 's/^/   /' "$WORK/scrape.txt"
grep -q "^thinpool_exporter_build_info{.*revision=\"$revision\"" "$WORK/scrape.txt" ||
  fail "no thinpool_exporter_build_info of revision $revision in the scrape"
# device-mapper answers only where the kernel has it and the node is there; else the collectors say 0
# and the log says why (the two cases the README describes).
want=0
grep -q device-mapper /proc/misc && [ -c "$ROOT/dev/mapper/control" ] && want=1
for collector in thinpool thin lvm; do
  grep -q -x "thinpool_scrape_collector_success{collector=\"$collector\"} $want" "$WORK/scrape.txt" ||
    fail "want thinpool_scrape_collector_success{collector=\"$collector\"} $want"
done
if [ "$want" = 0 ]; then
  grep -q 'level=warn msg="device-mapper is not available, so no pools will appear: ' "$WORK/run.log" ||
    { show_tail "$WORK/run.log"; fail "no device-mapper, and the log does not say so"; }
  echo "ok: no device-mapper here: success 0 and the log says why: $(grep -o 'the kernel has no[^,]*\|/dev/mapper/control does not exist[^(]*' "$WORK/run.log" | head -n 1)"
else
  echo "ok: device-mapper answers: success 1, $(grep -c '^thinpool_data_size_bytes' "$WORK/scrape.txt" || true) pools"
fi

# The exporter stops on SIGTERM and the README's command exits 0 with it.
# (The root's /proc is this PID namespace's: its PIDs are the ones kill takes here; the link names
# the binary as this script, outside the chroot, sees it.)
exporter_pid=""
for exe in "$ROOT"/proc/[0-9]*/exe; do
  if [ "$(readlink "$exe" 2>/dev/null)" = "$clone/build/thinpool_exporter" ]; then
    exporter_pid=$(basename "$(dirname "$exe")")
  fi
done
[ -n "$exporter_pid" ] || fail "no process runs the exporter built in the clone"
kill -TERM "$exporter_pid"
rc=0
wait "$run_pid" || rc=$?
[ "$rc" -eq 0 ] || { show_tail "$WORK/run.log"; fail "the README's first command exited $rc after SIGTERM"; }
echo "ok: SIGTERM stops it, exit code 0 (first command and scrape in $(elapsed "$t1"))"

# 3. The README's second command with a filter that keeps it short, as dev, on the same checkout.
t3=$(date +%s)
echo "== dev\$ $TEST_CMD"
rc=0
as_dev "$TEST_CMD" >"$WORK/test.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { show_tail "$WORK/test.log" 60; fail "the README's second command ($TEST_CMD) exited $rc"; }
summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$WORK/test.log" || true)
[[ "$summary" =~ ^100%\ tests\ passed,\ 0\ tests\ failed\ out\ of\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] ||
  { show_tail "$WORK/test.log"; fail "the README's second command ran no test or failed some: '$summary'"; }
installed >"$WORK/packages.test"
echo "ok: $summary; scripts/test installed $(comm -13 "$WORK/packages.run" "$WORK/packages.test" | wc -l)" \
  "packages, built and tested in $(elapsed "$t3")"

# Every program one full traced run executed (tests/packaging/traced-programs.tsv, made by
# trace_programs.sh) comes from a package that the lists install: after scripts/test installed
# all of them, each of those packages is in the fresh root.
traced_tsv=$clone/tests/packaging/traced-programs.tsv
mapfile -t traced < <(sed '/^#/d' "$traced_tsv" | cut -f1 | sort -u)
[ "${#traced[@]}" -gt 0 ] || fail "tests/packaging/traced-programs.tsv names no package"
missing=()
for package in "${traced[@]}"; do
  grep -q -x -F "$package" "$WORK/packages.test" ||
    missing+=("$package ($(awk -F'\t' -v p="$package" '$1 == p {print $2}' "$traced_tsv" | tr '\n' ' ' | sed 's/ $//'))")
done
[ "${#missing[@]}" -eq 0 ] ||
  fail "the tests or the build run programs whose packages no list in scripts/deps installs: ${missing[*]}"
echo "ok: the ${#traced[@]} packages of the programs a full traced run executed are all installed by the lists" \
  "($(wc -l <"$WORK/packages.test") packages in the root after scripts/test)"
