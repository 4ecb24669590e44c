// Reads the text backups lvm2 writes after every committed change: /etc/lvm/backup/<vg>, in
// the format of `vgcfgbackup`. The fallback source of VG metadata where the PVs cannot be
// opened (a container without the devices, no CAP_SYS_RAWIO). A backup can lag the PVs: lvm2
// writes it after the commit, and not at all with `backup = 0` in lvm.conf.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.h"
#include "lvm/vg_model.h"

namespace thinpool::lvm {

// lvm2's rules for a VG name, which is also the backup's file name: 1 to 127 characters of
// [a-zA-Z0-9+_.-], not starting with '-', not "." or "..". Anything else is refused before it
// becomes part of a path.
bool is_valid_vg_name(std::string_view name);

// Which file, and which version of it: lvm2 writes a backup to a temporary file and renames it
// over the old one (a new inode); an edit in place changes the size or the change time.
struct FileVersion {
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t size = -1;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  friend bool operator==(const FileVersion&, const FileVersion&) = default;
};

struct BackupText {
  std::filesystem::path path;
  FileVersion version;
  // False when the file is still `unless_version` (read_backup_file): `text` is then empty.
  bool read = true;
  std::string text;
};

// The contents of dir/<vg_name>. Errors name the path and the errno; files larger than
// `max_bytes` are refused. With `unless_version`, a file that is still that version, and has
// not changed in the last two seconds, is not read (one fstat: a 10,000-LV VG's backup is 4 MB).
Expected<BackupText> read_backup_file(const std::filesystem::path& dir, std::string_view vg_name,
                                      uint64_t max_bytes = 64ULL << 20,
                                      const FileVersion* unless_version = nullptr);

// The VG in a backup read by read_backup_file; also checks that the file describes `vg_name`.
Expected<VolumeGroup> parse_backup(const BackupText& backup, std::string_view vg_name);

}  // namespace thinpool::lvm
