#!/usr/bin/env bash
# Makes sure the local podman image localhost/debian:bookworm exists: from podman's store if it is
# there, else imported from the cached Debian 12 minbase tarball that minbase_tarball.sh makes with
# debootstrap from the Debian mirror apt already uses (about two minutes the first time).
# Usage: base_image.sh [IMAGE]   (default localhost/debian:bookworm)
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
image=${1:-localhost/debian:bookworm}

if podman image exists "$image"; then
  echo "base image $image: present"
  exit 0
fi
tarball=$("$(dirname "$0")/minbase_tarball.sh")
podman import --quiet - "$image" <"$tarball" >/dev/null
echo "base image $image: imported from $tarball"
