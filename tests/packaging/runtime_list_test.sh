#!/usr/bin/env bash
# scripts/deps/runtime.txt names exactly the Debian packages of the libraries the built exporter
# loads: every NEEDED entry of its ELF file (and of any library of the project's own it loads),
# resolved as the loader resolves them (ldd) and mapped to a package (dpkg -S).
# Usage: runtime_list_test.sh BINARY REPO_DIR
set -Eeuo pipefail
trap '_rc=$?; echo "FAIL: ${BASH_SOURCE[0]##*/} line $LINENO: \"$BASH_COMMAND\" exited $_rc" >&2' ERR  # never a silent exit
binary=$1 repo=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -x "$binary" ] || fail "no executable $binary"

# package_of FILE: the Debian package that installed FILE (the path as dpkg recorded it may lack
# or have the /usr prefix: Debian 12 merged /lib into /usr/lib).
package_of() {
  local real candidate
  real=$(realpath "$1")
  for candidate in "$1" "$real" "${real#/usr}" "/usr$real"; do
    dpkg-query -S "$candidate" 2>/dev/null | grep -v '^diversion' | head -n 1 | cut -d: -f1 && return 0
  done
  return 1
}

declare -A packages=()
objects=("$binary")
for ((i = 0; i < ${#objects[@]}; i++)); do
  object=${objects[i]}
  mapfile -t needed < <(readelf -d "$object" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
  [ "${#needed[@]}" -gt 0 ] || fail "readelf found no NEEDED entry in $object"
  resolved=$(ldd "$object")
  for soname in "${needed[@]}"; do
    path=$(awk -v so="$soname" '$1 == so && $2 == "=>" {print $3}' <<<"$resolved")
    [ -n "$path" ] && [ -e "$path" ] || fail "$object needs $soname, which the loader does not find"
    if package=$(package_of "$path"); then
      packages[$package]="${packages[$package]:-} $soname"
    elif [[ " ${objects[*]} " != *" $path "* ]]; then
      objects+=("$path")  # a library of the project's own: what it needs counts too
    fi
  done
done
echo "loaded: ${objects[*]##*/}"

mapfile -t listed < <("$repo/scripts/install-deps" --print runtime)
missing=() extra=()
for package in "${!packages[@]}"; do
  [[ " ${listed[*]} " == *" $package "* ]] || missing+=("$package (for${packages[$package]})")
done
for package in "${listed[@]}"; do
  [ -n "${packages[$package]:-}" ] || extra+=("$package")
done
[ "${#missing[@]}" -eq 0 ] ||
  fail "scripts/deps/runtime.txt lacks what the exporter loads: ${missing[*]}"
[ "${#extra[@]}" -eq 0 ] ||
  fail "scripts/deps/runtime.txt names packages the exporter does not load: ${extra[*]}"
echo "PASS: runtime.txt names exactly the ${#packages[@]} packages whose libraries the exporter needs: ${listed[*]}"
