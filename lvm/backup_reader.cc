#include "lvm/backup_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace thinpool::lvm {
namespace {

constexpr size_t kMaxVgNameLength = 127;

Error errno_error(const std::string& what) {
  const int saved = errno;
  return Error::from_errno(saved, fmt::format("{}: {}", what, std::strerror(saved)));
}

}  // namespace

bool is_valid_vg_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxVgNameLength || name == "." || name == ".." ||
      name.front() == '-') {
    return false;
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '_' || c == '.' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

Expected<BackupText> read_backup_file(const std::filesystem::path& dir, std::string_view vg_name,
                                      uint64_t max_bytes) {
  if (!is_valid_vg_name(vg_name)) {
    return Error{fmt::format("\"{}\" is not a valid volume group name", vg_name)};
  }
  BackupText backup;
  backup.path = dir / std::string(vg_name);
  const std::string path = backup.path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return errno_error(fmt::format("open {}", path));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Error error = errno_error(fmt::format("stat {}", path));
    ::close(fd);
    return error;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{fmt::format("{}: not a regular file", path)};
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return Error{
        fmt::format("{}: {} bytes, more than the {} allowed", path, st.st_size, max_bytes)};
  }
  // On the heap: scrapes run on civetweb's worker threads, whose stacks are 100 KiB (Debian builds
  // civetweb with USE_STACK_SIZE=102400); a 64 KiB array there overflowed under ASan.
  std::vector<char> buffer(65536);
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      Error error = errno_error(fmt::format("read {}", path));
      ::close(fd);
      return error;
    }
    if (n == 0) {
      break;
    }
    backup.text.append(buffer.data(), static_cast<size_t>(n));
    if (backup.text.size() > max_bytes) {
      ::close(fd);
      return Error{
          fmt::format("{}: grew past the {} bytes allowed while being read", path, max_bytes)};
    }
  }
  ::close(fd);
  return backup;
}

Expected<VolumeGroup> parse_backup(const BackupText& backup, std::string_view vg_name) {
  Expected<VolumeGroup> vg = parse_volume_group(backup.text);
  if (!vg.ok()) {
    return Error{fmt::format("{}: {}", backup.path.string(), vg.error().message), vg.error().kind};
  }
  if (vg->name != vg_name) {
    return Error::parse(fmt::format("{}: describes volume group \"{}\", not \"{}\"",
                                    backup.path.string(), vg->name, vg_name));
  }
  return vg;
}

}  // namespace thinpool::lvm
