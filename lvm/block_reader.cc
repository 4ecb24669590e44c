#include "lvm/block_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace thinpool::lvm {
namespace {

// O_DIRECT needs offset, length and buffer aligned to the logical block size; 4096 covers
// 512-byte and 4K-sector devices.
constexpr size_t kDirectAlignment = 4096;
constexpr size_t kDirectChunkBytes = size_t{1} << 20;

Error errno_error(std::string message) {
  const int saved = errno;
  return Error::from_errno(saved, fmt::format("{}: {}", message, std::strerror(saved)));
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

}  // namespace

Expected<std::unique_ptr<FileBlockReader>> FileBlockReader::open(const std::string& path) {
  // O_DIRECT first: a PV, opened on every scrape, then takes one open. A file system that refuses
  // O_DIRECT gets a buffered open, and a regular file (an image in tests) is read buffered.
  constexpr int kFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
  int fd = ::open(path.c_str(), kFlags | O_DIRECT);
  bool direct = fd >= 0;
  if (!direct) {
    fd = ::open(path.c_str(), kFlags);
    if (fd < 0) {
      return errno_error(fmt::format("open {}", path));
    }
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Error error = errno_error(fmt::format("stat {}", path));
    ::close(fd);
    return error;
  }
  if (S_ISREG(st.st_mode) && direct) {
    ::close(fd);
    fd = ::open(path.c_str(), kFlags);
    if (fd < 0) {
      return errno_error(fmt::format("open {}", path));
    }
    direct = false;
  } else if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{fmt::format("{}: neither a block device nor a regular file", path)};
  }
  return std::unique_ptr<FileBlockReader>(new FileBlockReader(path, fd, direct));
}

FileBlockReader::~FileBlockReader() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Expected<std::string> FileBlockReader::read_at(uint64_t offset, size_t length) {
  // pread takes a signed off_t; offsets from a damaged header can be anything.
  constexpr uint64_t kMaxOffset = std::numeric_limits<int64_t>::max() - kDirectAlignment;
  if (offset > kMaxOffset || length > kMaxOffset - offset) {
    return Error{
        fmt::format("read {} bytes at {} from {}: beyond any device", length, offset, path_)};
  }
  if (direct_) {
    return read_direct(offset, length);
  }
  std::string buffer(length, '\0');
  size_t done = 0;
  while (done < length) {
    const ssize_t n =
        ::pread(fd_, buffer.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(fmt::format("read {} bytes at {} from {}", length, offset, path_));
    }
    if (n == 0) {
      return Error{fmt::format("read {} bytes at {} from {}: only {} before the end", length,
                               offset, path_, done)};
    }
    done += static_cast<size_t>(n);
  }
  return buffer;
}

Expected<std::string> FileBlockReader::read_direct(uint64_t offset, size_t length) {
  // O_DIRECT wants an aligned buffer, which a std::string's is not: the span is read through an
  // aligned bounce buffer of at most kDirectChunkBytes, so that a large metadata text (4 MB at
  // 10,000 LVs) is held once, not twice, while it is read.
  const uint64_t begin = offset / kDirectAlignment * kDirectAlignment;
  const uint64_t end =
      (offset + length + kDirectAlignment - 1) / kDirectAlignment * kDirectAlignment;
  const size_t chunk = static_cast<size_t>(std::min<uint64_t>(end - begin, kDirectChunkBytes));
  void* raw = nullptr;
  if (::posix_memalign(&raw, kDirectAlignment, chunk) != 0) {
    return Error{fmt::format("read {} bytes at {} from {}: out of memory", length, offset, path_)};
  }
  std::unique_ptr<void, FreeDeleter> buffer(raw);
  auto* bytes = static_cast<char*>(raw);
  std::string out;
  out.reserve(length);
  uint64_t position = begin;  // the device's next aligned byte to read
  while (out.size() < length) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(end - position, chunk));
    size_t done = 0;
    while (done < want) {
      const ssize_t n =
          ::pread(fd_, bytes + done, want - done, static_cast<off_t>(position + done));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return errno_error(fmt::format("read {} bytes at {} from {}", length, offset, path_));
      }
      if (n == 0) {
        break;  // the device ends inside the aligned span; checked below
      }
      done += static_cast<size_t>(n);
    }
    // The bytes of [offset, offset + length) this chunk holds.
    const uint64_t from = std::max(position, offset);
    const uint64_t to = std::min(position + done, offset + length);
    if (to > from) {
      out.append(bytes + (from - position), static_cast<size_t>(to - from));
    }
    position += done;
    if (done < want) {
      break;  // position: where the device ends
    }
  }
  if (out.size() < length) {
    return Error{fmt::format("read {} bytes at {} from {}: the device ends {}", length, offset,
                             path_,
                             position > offset ? fmt::format("at {}", position) : "before it")};
  }
  return out;
}

Expected<std::string> MemoryBlockReader::read_at(uint64_t offset, size_t length) {
  if (offset > image_.size() || length > image_.size() - offset) {
    return Error{fmt::format("read {} bytes at {} from {}: the image has only {} bytes", length,
                             offset, name_, image_.size())};
  }
  return image_.substr(offset, length);
}

}  // namespace thinpool::lvm
