# Shell functions shared by build-image and run-scenario (host side, bash).

# copy_with_libs STAGE FILE: copies a program into the staging root at its canonical (merged-/usr) path, with
# every library ldd lists. Directories are resolved, file names kept (libfoo.so.1 stays libfoo.so.1, with content).
# A static program has none (ldd fails on it).
copy_with_libs() {
  local stage=$1 file=$2 lib
  install_file "$stage" "$file"
  for lib in $( { ldd "$file" 2>/dev/null || true; } | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
    install_file "$stage" "$lib"
  done
}

# install_file STAGE FILE [DEST]: copies FILE (following symlinks) to STAGE/DEST, DEST defaulting to FILE's path
# with its directory resolved.
install_file() {
  local stage=$1 file=$2 dest=${3:-}
  [ -n "$dest" ] || dest=$(readlink -f "$(dirname "$file")")/$(basename "$file")
  [ -e "$stage$dest" ] && return
  mkdir -p "$stage$(dirname "$dest")"
  cp -L "$file" "$stage$dest"
}

# make_cpio STAGE: writes a gzip'd newc archive of STAGE, owned by root, to stdout.
make_cpio() {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1
}
