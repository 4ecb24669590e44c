#!/usr/bin/env bash
# Makes sure the local podman image localhost/debian:bookworm exists: from podman's store if it is
# there, else from the cached root file system tarball, else bootstrapped with debootstrap
# (--variant=minbase) from the Debian mirror apt already uses (/etc/apt/sources.list[.d]), which
# takes about two minutes. The tarball is kept under
# ${XDG_CACHE_HOME:-$HOME/.cache}/thinpool_exporter/ for later runs on the same machine.
# Usage: base_image.sh [IMAGE]   (default localhost/debian:bookworm)
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
image=${1:-localhost/debian:bookworm}
cache=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/thinpool_exporter
tarball=$cache/debian-bookworm-minbase.tar

if podman image exists "$image"; then
  echo "base image $image: present"
  exit 0
fi
if [ ! -s "$tarball" ]; then
  mirror=$(
    {
      cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}' || true
      cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" {print ($2 ~ /^\[/ ? $3 : $2)}' || true
    } | grep -E '/debian/?$' | head -n 1 || true
  )
  [ -n "$mirror" ] || { echo "no Debian mirror found in /etc/apt/sources.list*" >&2; exit 1; }
  echo "bootstrapping Debian 12 (minbase) from $mirror into $tarball"
  mkdir -p "$cache"
  rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  start=$(date +%s)
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -n 30 "$cache/debootstrap.log" >&2; exit 1; }
  tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  echo "bootstrapped in $(($(date +%s) - start)) s ($(du -h "$tarball" | cut -f1))"
fi
podman import --quiet - "$image" <"$tarball" >/dev/null
echo "base image $image: imported from $tarball"
