#!/usr/bin/env bash
# Runs COMMAND and records every program that it and all its descendants execute, then maps each
# program (and each script's #! interpreter) to the Debian package that installed it, so that the
# lists in scripts/deps can be checked against what the build and the tests really run.
#
# The programs come from the kernel's sched_process_exec events, read through an ftrace instance
# of its own that follows forks from COMMAND's process (set_event_pid + event-fork). Nothing is
# ptraced: strace -f would break the tests that ptrace themselves (LeakSanitizer's leak check, the
# systemd unit test's own strace). The instance is removed, and tracefs unmounted if this script
# mounted it, on exit.
#
# Writes OUT: one `PACKAGE<TAB>PROGRAM` line per program a Debian package installed, sorted, under
# a header; prints the programs no package installed (built by the project, temporary files,
# anything else) on stdout, for the reader. Exits with COMMAND's status.
# Usage: trace_programs.sh OUT -- COMMAND [ARG...]   (root)
#   e.g. trace_programs.sh tests/packaging/traced-programs.tsv -- scripts/test -LE container
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
usage() { echo "usage: trace_programs.sh OUT -- COMMAND [ARG...]" >&2; exit 2; }
[ "$#" -ge 3 ] && [ "$2" = -- ] || usage
out=$1
shift 2
[ "$(id -u)" -eq 0 ] || { echo "trace_programs.sh: needs root (ftrace)" >&2; exit 1; }

tracing=/sys/kernel/tracing
mounted=false
if [ ! -d "$tracing/instances" ]; then
  mount -t tracefs nodev "$tracing" || { echo "trace_programs.sh: cannot mount tracefs on $tracing" >&2; exit 1; }
  mounted=true
fi
instance=$tracing/instances/thinpool_trace_$$
work=$(mktemp -d)
reader=""
cleanup() {
  [ -z "$reader" ] || kill "$reader" 2>/dev/null || true
  if [ -d "$instance" ]; then
    echo 0 >"$instance/tracing_on"
    echo >"$instance/set_event"
    rmdir "$instance"
  fi
  if $mounted; then umount "$tracing"; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$instance"
echo 8192 >"$instance/buffer_size_kb"
echo 1 >"$instance/options/event-fork"
echo 'sched:sched_process_exec' >"$instance/set_event"
cat "$instance/trace_pipe" >"$work/events" &
reader=$!

start=$(date +%s)
rc=0
# The child puts its own PID in the filter, then becomes COMMAND; event-fork adds every descendant.
bash -c 'echo $$ >"$1/set_event_pid" && shift && exec "$@"' trace "$instance" "$@" || rc=$?
sleep 1
kill "$reader"
wait "$reader" 2>/dev/null || true
reader=""
lost=$(awk '/^overrun:/ {n += $2} END {print n + 0}' "$instance"/per_cpu/cpu*/stats)
[ "$lost" -eq 0 ] || { echo "trace_programs.sh: the trace lost $lost events (buffer too small)" >&2; exit 1; }

sed -n 's/.* sched_process_exec: filename=\(.*\) pid=[0-9]* old_pid=[0-9]*$/\1/p' "$work/events" |
  sort -u >"$work/programs"
# A script's interpreter runs without an exec event of its own: add it.
while read -r program; do
  if [ -f "$program" ] && [ "$(head -c 2 "$program" 2>/dev/null)" = '#!' ]; then
    head -n 1 "$program" | sed -e 's/^#! *//' | awk '{print $1}'
  fi
done <"$work/programs" >"$work/interpreters"
sort -u -o "$work/programs" "$work/programs" "$work/interpreters"

# package_of FILE: the package that installed FILE, as dpkg recorded its path (with or without the
# /usr prefix: Debian 12 merged /bin, /sbin and /lib into /usr).
package_of() {
  local real candidate
  real=$(realpath "$1")
  for candidate in "$1" "$real" "${1#/usr}" "${real#/usr}" "/usr$1" "/usr$real"; do
    dpkg-query -S "$candidate" 2>/dev/null | grep -v '^diversion' | head -n 1 | cut -d: -f1 && return 0
  done
  return 1
}
{
  echo "# Programs one traced run executed, by the Debian package that installed them: \`$*\`,"
  echo "# traced by tests/packaging/trace_programs.sh. The quickstart test checks that each package here"
  echo "# is installed in a fresh Debian 12 once scripts/test has installed every list in scripts/deps."
} >"$out.tmp"
while read -r program; do
  if [[ "$program" != /* ]]; then
    echo "$program (relative to a folder the trace does not give)" >>"$work/others"
  elif [ ! -e "$program" ]; then
    echo "$program (gone: a temporary file, or a file inside a chroot)" >>"$work/others"
  elif package=$(package_of "$program"); then
    printf '%s\t%s\n' "$package" "$program" >>"$work/packaged"
  else
    echo "$program" >>"$work/others"
  fi
done <"$work/programs"
touch "$work/packaged" "$work/others"
sort -u "$work/packaged" >>"$out.tmp"
mv "$out.tmp" "$out"
sed 's/^/not from a package: /' "$work/others"
echo "traced $(wc -l <"$work/programs") programs in $(($(date +%s) - start)) s:" \
  "$(wc -l <"$work/packaged") from $(cut -f1 "$work/packaged" | sort -u | wc -l) packages (in $out)," \
  "$(wc -l <"$work/others") not from a package (above); the command exited $rc"
exit "$rc"
