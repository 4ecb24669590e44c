#include "dm/dm_table_status.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

namespace thinpool {
namespace {

// A NUL-terminated string at `offset` of `reply`, or nullopt when it runs past the end.
std::optional<std::string_view> string_at(std::span<const char> reply, size_t offset) {
  if (offset >= reply.size()) {
    return std::nullopt;
  }
  const void* end = std::memchr(reply.data() + offset, '\0', reply.size() - offset);
  if (end == nullptr) {
    return std::nullopt;
  }
  return std::string_view(
      reply.data() + offset,
      static_cast<size_t>(static_cast<const char*>(end) - reply.data()) - offset);
}

std::string_view what_name(DmTableStatusIoctl::What what) {
  return what == DmTableStatusIoctl::What::kStatus ? "status" : "table";
}

}  // namespace

Expected<DmReport> parse_table_status_reply(std::span<const char> reply) {
  dm_ioctl header{};
  if (reply.size() < sizeof header) {
    return Error::parse(
        fmt::format("DM_TABLE_STATUS reply of {} bytes is shorter than its header", reply.size()));
  }
  std::memcpy(&header, reply.data(), sizeof header);
  if (header.data_size < sizeof header || header.data_size > reply.size() ||
      header.data_start > header.data_size) {
    return Error::parse(
        fmt::format("DM_TABLE_STATUS reply: data_size {} / data_start {} in a {}-byte buffer",
                    header.data_size, header.data_start, reply.size()));
  }
  reply = reply.first(header.data_size);
  DmReport report;
  report.event_nr = header.event_nr;
  report.uuid.assign(header.uuid, strnlen(header.uuid, sizeof header.uuid));
  const size_t targets_start = header.data_start;
  size_t offset = targets_start;
  for (uint32_t i = 0; i < header.target_count; ++i) {
    dm_target_spec spec{};
    if (offset > reply.size() || reply.size() - offset < sizeof spec) {
      return Error::parse(
          fmt::format("DM_TABLE_STATUS reply: target {} of {} at byte {} runs past {}", i,
                      header.target_count, offset, reply.size()));
    }
    std::memcpy(&spec, reply.data() + offset, sizeof spec);
    auto params = string_at(reply, offset + sizeof spec);
    if (!params) {
      return Error::parse(
          fmt::format("DM_TABLE_STATUS reply: target {}'s parameters are not terminated", i));
    }
    report.targets.push_back(
        DmTarget{spec.sector_start, spec.length,
                 std::string(spec.target_type, strnlen(spec.target_type, sizeof spec.target_type)),
                 std::string(*params)});
    // In a reply, `next` counts from the first target spec, not from this one.
    offset = targets_start + spec.next;
  }
  return report;
}

Expected<DmReport> DmTableStatusIoctl::run(What what, const DmDevice& device) {
  std::lock_guard lock(mutex_);
  size_t size = kInitialBufferBytes;
  for (;;) {
    if (buffer_.size() * sizeof(uint64_t) < size) {
      buffer_.resize(size / sizeof(uint64_t));
    }
    // Only the header is written: the kernel reads the rest of the buffer but uses none of it.
    dm_ioctl header{};
    header.version[0] = DM_VERSION_MAJOR;
    header.data_size = static_cast<uint32_t>(size);
    header.data_start = sizeof header;
    // DM_SKIP_BDGET_FLAG: libdevmapper's no_open_count.
    header.flags =
        DM_SKIP_BDGET_FLAG | (what == What::kStatus ? DM_NOFLUSH_FLAG : DM_STATUS_TABLE_FLAG);
    header.dev = makedev(device.dev.major, device.dev.minor);
    std::memcpy(buffer_.data(), &header, sizeof header);
    const int rc = ioctl_(buffer_.data());
    if (rc == -ENXIO || rc == -ENODEV) {
      return DmReport::vanished();  // removed since the list
    }
    if (rc < 0) {
      std::string reason = std::strerror(-rc);
      if (rc == -EACCES || rc == -EPERM) {
        reason += " (device-mapper ioctls need CAP_SYS_ADMIN: run as root or grant the capability)";
      }
      return Error::from_errno(-rc,
                               fmt::format("dm {} {}: {}", what_name(what), device.name, reason));
    }
    std::span<const char> reply(reinterpret_cast<const char*>(buffer_.data()), size);
    std::memcpy(&header, buffer_.data(), sizeof header);
    // The kernel writes the name it found at that number into the reply. Another name means the
    // listed device was removed and its number given to a new one since the list: the listed
    // device is gone, and the new one is read by the next scrape under its own name.
    if (std::string_view(header.name, strnlen(header.name, sizeof header.name)) != device.name) {
      return DmReport::vanished();
    }
    if ((header.flags & DM_BUFFER_FULL_FLAG) == 0) {
      auto report = parse_table_status_reply(reply);
      if (!report) {
        return Error{
            fmt::format("dm {} {}: {}", what_name(what), device.name, report.error().message),
            report.error().kind};
      }
      return report;
    }
    if (size >= kMaxBufferBytes) {
      return Error{fmt::format("dm {} {}: the reply does not fit {} bytes", what_name(what),
                               device.name, size)};
    }
    size *= 2;
  }
}

size_t DmTableStatusIoctl::buffer_bytes() const {
  std::lock_guard lock(mutex_);
  return buffer_.size() * sizeof(uint64_t);
}

DmTableStatusIoctl::Ioctl control_device_ioctl() {
  // Shared by the copies of the function; closed when the last one goes.
  struct Control {
    int fd = -1;
    ~Control() {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  };
  auto control = std::make_shared<Control>();
  // Called under DmTableStatusIoctl's mutex; a failed open is tried again on the next call.
  return [control](void* buffer) {
    if (control->fd < 0) {
      control->fd = ::open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
      if (control->fd < 0) {
        return -errno;
      }
    }
    return ::ioctl(control->fd, DM_TABLE_STATUS, buffer) == 0 ? 0 : -errno;
  };
}

}  // namespace thinpool
