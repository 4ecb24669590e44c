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
                                      uint64_t max_bytes, const FileVersion* unless_version) {
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
  constexpr int64_t kNs = 1'000'000'000;
  backup.version = {st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec * kNs + st.st_mtim.tv_nsec,
                    st.st_ctim.tv_sec * kNs + st.st_ctim.tv_nsec};
  // Inode times advance in the kernel's coarse clock ticks: a file changed in place within a tick
  // of its last version keeps that version's times. So a file changed in the last two seconds is
  // read anyway (git's "racy clean" rule); the caller compares the text.
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  const bool settled = now.tv_sec * kNs + now.tv_nsec - backup.version.ctime_ns > 2 * kNs;
  if (unless_version != nullptr && *unless_version == backup.version && settled) {
    ::close(fd);
    backup.read = false;
    return backup;
  }
  // On the heap: a worker thread's stack is not the place for 64 KiB.
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
