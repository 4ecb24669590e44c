#!/usr/bin/env bash
# Prints the path of a tarball of Debian 12 bootstrapped with debootstrap --variant=minbase from the
# Debian mirror apt already uses (/etc/apt/sources.list[.d]); makes it first if it is not there
# (about two minutes, ~200 MB). Kept under ${XDG_CACHE_HOME:-$HOME/.cache}/thinpool_exporter/ for
# later runs on the same machine; shared by the container image's base (base_image.sh) and the
# fresh root of the quick-start test. Concurrent callers wait for one bootstrap (flock).
# Usage: minbase_tarball.sh   (progress on stderr, the path on stdout)
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
cache=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/thinpool_exporter
tarball=$cache/debian-bookworm-minbase.tar
mkdir -p "$cache"
exec 9>"$cache/debootstrap.lock"
flock 9
if [ ! -s "$tarball" ]; then
  mirror=$(
    {
      cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}' || true
      cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" {print ($2 ~ /^\[/ ? $3 : $2)}' || true
    } | grep -E '/debian/?$' | head -n 1 || true
  )
  [ -n "$mirror" ] || { echo "no Debian mirror found in /etc/apt/sources.list*" >&2; exit 1; }
  echo "bootstrapping Debian 12 (minbase) from $mirror into $tarball" >&2
  rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
  chmod 0755 "$rootfs"  # the tarball's / (mktemp made it 0700)
  trap 'rm -rf "$rootfs"' EXIT
  start=$(date +%s)
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -n 30 "$cache/debootstrap.log" >&2; exit 1; }
  tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  echo "bootstrapped in $(($(date +%s) - start)) s ($(du -h "$tarball" | cut -f1))" >&2
fi
echo "$tarball"
