#!/usr/bin/env bash
# The README's quick start on a fresh Debian 12, as a new user would follow it: a root file system
# bootstrapped with debootstrap --variant=minbase (cached, shared with the container image's base),
# plus git and sudo, a user with sudo and a git clone of the repository's HEAD. As that user, in a
# network namespace of its own (so `:9966` binds nothing of this machine) whose only way out is a
# relay to the Debian mirror apt already uses:
#   1. the README's first command exactly as written (sudo scripts/run ...), until /metrics answers;
#      it must install only build.txt and runtime.txt, and leave build/ to the user;
#   2. the README's scrape (curl), which must show the exporter's series;
#   3. the README's second command (scripts/test) with `-L unit` appended, on the same checkout;
# then every package of tests/packaging/traced-programs.tsv must be installed in the root.
# Everything it mounts or starts lives in namespaces that end with it; the relay and the root's
# folder are removed on exit. The .deb files apt downloads are kept under
# ${XDG_CACHE_HOME:-$HOME/.cache}/thinpool_exporter/quickstart-debs for the next run.
# Usage: quickstart_test.sh REPO_DIR   (root; label quickstart)
#   THINPOOL_QUICKSTART_KEEP=1 keeps the root and the commands' logs (run.log, test.log) afterwards.
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
repo=$(cd "${1:?usage: quickstart_test.sh REPO_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
elapsed() { echo "$(($(date +%s) - $1)) s"; }
if [ "$(id -u)" -ne 0 ]; then
  echo "skip: the quick-start test needs root (namespaces, mounts, chroot)"
  exit 77
fi

# The commands, as the README's quick start writes them (its first sh block), at HEAD: the commit
# the fresh root gets a clone of.
# (awk reads to the end: an early exit would leave git writing into a closed pipe, SIGPIPE)
readme=$(git -C "$repo" show HEAD:README.md)
quickstart=$(awk '/^## Quick start/ {on = 1; next} /^## / {on = 0} on' <<<"$readme")
block=$(awk '/^```sh/ {on = 1; next} on && /^```/ {exit} on' <<<"$quickstart")
[ -n "$block" ] || fail "README.md: no sh block in the Quick start section"
readme_line() {
  local line
  line=$(grep -m 1 -E "$1" <<<"$block" || true)
  [ -n "$line" ] || fail "README.md's quick start has no line matching /$1/"
  echo "$line"
}
run_cmd=$(readme_line '^sudo scripts/run( |$)')
curl_cmd=$(readme_line '^curl ')
test_cmd="$(readme_line '^scripts/test( |$)') -L unit"
grep -q -- '--web.listen-address=:9966' <<<"$run_cmd" && grep -q 'localhost:9966/' <<<"$curl_cmd" ||
  fail "the quick start's run and curl lines do not both use port 9966: '$run_cmd', '$curl_cmd'"

t0=$(date +%s)
cache=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/thinpool_exporter
debs=$cache/quickstart-debs
mkdir -p "$debs"
tarball=$("$here/minbase_tarball.sh")
work=$(mktemp -d "${TMPDIR:-/tmp}/thinpool-quickstart.XXXXXX")
relay_pid=""
cleanup() {
  [ -z "$relay_pid" ] || kill "$relay_pid" 2>/dev/null || true
  # The namespaces' mounts are gone with them; this only guards against a bind seen from here.
  if findmnt -rn -o TARGET | grep -F "$work/" >/dev/null; then fail "mounts left under $work"; fi
  if [ -n "${THINPOOL_QUICKSTART_KEEP:-}" ]; then echo "kept $work (THINPOOL_QUICKSTART_KEEP)"; else rm -rf "$work"; fi
}
trap cleanup EXIT
free_kb=$(df -Pk "$work" | awk 'NR == 2 {print $4}')
[ "$free_kb" -gt $((8 * 1024 * 1024)) ] || fail "$work has $((free_kb / 1024)) MB free; the fresh root needs 8 GB"

root=$work/root
mkdir "$root"
tar -C "$root" --numeric-owner -xpf "$tarball"
chmod 0755 "$root"  # as on a booted machine (tarballs made before minbase_tarball.sh set it have 0700)
# The root's apt source, as debootstrap wrote it: `deb http://HOST[:PORT]/PATH bookworm main`.
source_line=$(grep -m 1 '^deb ' "$root/etc/apt/sources.list" || true)
[[ "$source_line" =~ ^deb\ http://([^/:]+)(:([0-9]+))?/ ]] ||
  fail "the fresh root's apt source is not plain http, which the relay carries: '$source_line'"
mirror_host=${BASH_REMATCH[1]} mirror_port=${BASH_REMATCH[3]:-80}
# The relay: the only way out of the test's network namespace, to the mirror and nowhere else.
setpriv --pdeathsig TERM -- socat "UNIX-LISTEN:$work/mirror.sock,fork,mode=600" \
  "TCP:$mirror_host:$mirror_port" 2>"$work/relay.log" &
relay_pid=$!
for _ in $(seq 1 50); do [ -S "$work/mirror.sock" ] && break; sleep 0.1; done
[ -S "$work/mirror.sock" ] || { cat "$work/relay.log" >&2; fail "the relay to $mirror_host did not start"; }
revision=$(git -C "$repo" rev-parse --short=12 HEAD)
[ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] ||
  echo "note: $repo has uncommitted changes; the fresh root gets a clone of HEAD ($revision) without them"
echo "== fresh root from $(basename "$tarball") in $(elapsed "$t0"); apt's mirror $mirror_host:$mirror_port" \
  "through a relay; .deb cache $debs ($(du -sh "$debs" | cut -f1))"

rc=0
env ROOT="$root" WORK="$work" REPO="$repo" DEBS="$debs" HOST_NETNS="/proc/$$/ns/net" \
  MIRROR_HOST="$mirror_host" RUN_CMD="$run_cmd" CURL_CMD="$curl_cmd" TEST_CMD="$test_cmd" \
  unshare --mount --propagation private --net --pid --fork --kill-child -- \
  bash "$here/quickstart_root.sh" || rc=$?
[ "$rc" -eq 0 ] || fail "the quick start on a fresh Debian 12 failed (exit $rc, after $(elapsed "$t0"))"
echo "PASS: the README's quick start works on a fresh Debian 12 (total $(elapsed "$t0"), .deb cache" \
  "$(du -sh "$debs" | cut -f1))"
