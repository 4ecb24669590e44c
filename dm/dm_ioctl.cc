#include "dm/dm_ioctl.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/dm-ioctl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
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

std::string_view what_name(DmIoctl::What what) {
  return what == DmIoctl::What::kStatus ? "status" : "table";
}

Error call_failed(std::string_view what, std::string_view device, int rc) {
  std::string reason = std::strerror(-rc);
  if (rc == -EACCES || rc == -EPERM) {
    reason += " (device-mapper ioctls need CAP_SYS_ADMIN: run as root or grant the capability)";
  }
  if (device.empty()) {
    return Error::from_errno(-rc, fmt::format("dm {}: {}", what, reason));
  }
  return Error::from_errno(-rc, fmt::format("dm {} {}: {}", what, device, reason));
}

// Checks the header of a reply and gives it, with the reply cut to its data_size.
Expected<dm_ioctl> reply_header(std::span<const char>& reply, std::string_view what) {
  dm_ioctl header{};
  if (reply.size() < sizeof header) {
    return Error::parse(
        fmt::format("{} reply of {} bytes is shorter than its header", what, reply.size()));
  }
  std::memcpy(&header, reply.data(), sizeof header);
  if (header.data_size < sizeof header || header.data_size > reply.size() ||
      header.data_start > header.data_size) {
    return Error::parse(fmt::format("{} reply: data_size {} / data_start {} in a {}-byte buffer",
                                    what, header.data_size, header.data_start, reply.size()));
  }
  reply = reply.first(header.data_size);
  return header;
}

// Whether the device the kernel found at the number asked for is the one listed. Another name
// means the listed device was removed and its number given to a new one since the list: the
// listed device is gone, and the new one is read by the next scrape under its own name.
bool same_device(const dm_ioctl& header, const DmDevice& device) {
  return std::string_view(header.name, strnlen(header.name, sizeof header.name)) == device.name;
}

// Each thread's buffer (uint64_t: struct dm_ioctl wants 8-byte alignment).
std::vector<uint64_t>& thread_buffer() {
  thread_local std::vector<uint64_t> buffer(DmIoctl::kInitialBufferBytes / sizeof(uint64_t));
  return buffer;
}

}  // namespace

namespace {

// Calls `use(spec, params)` for each target of a DM_TABLE_STATUS reply (already cut to its
// data_size by reply_header), checking every offset and string against the buffer.
template <typename Use>
Status for_each_target(std::span<const char> reply, const dm_ioctl& header, Use&& use) {
  const size_t targets_start = header.data_start;
  size_t offset = targets_start;
  for (uint32_t i = 0; i < header.target_count; ++i) {
    dm_target_spec spec{};
    if (offset > reply.size() || reply.size() - offset < sizeof spec) {
      return Error::parse(
          fmt::format("DM_TABLE_STATUS reply: target {} of {} at byte {} runs "
                      "past {}",
                      i, header.target_count, offset, reply.size()));
    }
    std::memcpy(&spec, reply.data() + offset, sizeof spec);
    auto params = string_at(reply, offset + sizeof spec);
    if (!params) {
      return Error::parse(
          fmt::format("DM_TABLE_STATUS reply: target {}'s parameters are not terminated", i));
    }
    use(spec, *params);
    // In a reply, `next` counts from the first target spec, not from this one.
    offset = targets_start + spec.next;
  }
  return {};
}

std::string_view target_type(const dm_target_spec& spec) {
  return {spec.target_type, strnlen(spec.target_type, sizeof spec.target_type)};
}

}  // namespace

Expected<DmReport> parse_table_status_reply(std::span<const char> reply) {
  auto header = reply_header(reply, "DM_TABLE_STATUS");
  if (!header) {
    return header.error();
  }
  DmReport report;
  report.event_nr = header->event_nr;
  report.uuid.assign(header->uuid, strnlen(header->uuid, sizeof header->uuid));
  Status walked =
      for_each_target(reply, *header, [&](const dm_target_spec& spec, std::string_view params) {
        report.targets.push_back(DmTarget{spec.sector_start, spec.length,
                                          std::string(target_type(spec)), std::string(params)});
      });
  if (!walked) {
    return walked.error();
  }
  return report;
}

Expected<DmStatusView> parse_status_view(std::span<const char> reply) {
  auto header = reply_header(reply, "DM_TABLE_STATUS");
  if (!header) {
    return header.error();
  }
  DmStatusView view;
  view.target_count = header->target_count;
  Status walked =
      for_each_target(reply, *header, [&](const dm_target_spec& spec, std::string_view params) {
        if (view.target_count == 1) {
          view.type = target_type(spec);
          view.params = params;
        }
      });
  if (!walked) {
    return walked.error();
  }
  return view;
}

Expected<std::vector<DmDevice>> parse_list_reply(std::span<const char> reply) {
  auto header = reply_header(reply, "DM_LIST_DEVICES");
  if (!header) {
    return header.error();
  }
  // Each record: u64 dev, u32 next (from this record's start), the name; what newer kernels put
  // after the name (event_nr, flags, with DM_UUID_FLAG the uuid) is not needed. No devices: a
  // single record with dev 0.
  constexpr size_t kNameAt = offsetof(dm_name_list, name);
  std::vector<DmDevice> devices;
  size_t offset = header->data_start;
  for (;;) {
    if (offset > reply.size() || reply.size() - offset < kNameAt) {
      return Error::parse(fmt::format("DM_LIST_DEVICES reply: a record at byte {} runs past {}",
                                      offset, reply.size()));
    }
    uint64_t dev = 0;
    uint32_t next = 0;
    std::memcpy(&dev, reply.data() + offset + offsetof(dm_name_list, dev), sizeof dev);
    std::memcpy(&next, reply.data() + offset + offsetof(dm_name_list, next), sizeof next);
    if (dev == 0) {
      break;  // no devices at all
    }
    auto name = string_at(reply, offset + kNameAt);
    if (!name) {
      return Error::parse(
          fmt::format("DM_LIST_DEVICES reply: the name at byte {} is not terminated", offset));
    }
    DmDevice device{std::string(*name),
                    {static_cast<uint32_t>(major(dev)), static_cast<uint32_t>(minor(dev))}};
    devices.push_back(std::move(device));
    if (next == 0) {
      break;
    }
    offset += next;
  }
  return devices;
}

DmIoctl::Reply DmIoctl::call(unsigned long request,
                             const std::function<void(void* header)>& prepare) {
  std::vector<uint64_t>& buffer = thread_buffer();
  size_t size = kInitialBufferBytes;
  for (;;) {
    if (buffer.size() * sizeof(uint64_t) < size) {
      buffer.resize(size / sizeof(uint64_t));
    }
    // Only the header is written: the kernel reads the rest of the buffer but uses none of it.
    dm_ioctl header{};
    header.version[0] = DM_VERSION_MAJOR;
    header.version[1] = DM_VERSION_MINOR;
    header.data_size = static_cast<uint32_t>(size);
    header.data_start = sizeof header;
    prepare(&header);
    std::memcpy(buffer.data(), &header, sizeof header);
    const int rc = ioctl_(request, buffer.data());
    if (rc < 0) {
      return {rc, {}};
    }
    std::memcpy(&header, buffer.data(), sizeof header);
    if ((header.flags & DM_BUFFER_FULL_FLAG) == 0) {
      return {0, std::span<const char>(reinterpret_cast<const char*>(buffer.data()), size)};
    }
    if (size >= kMaxBufferBytes) {
      return {-ENOBUFS, {}};
    }
    size *= 2;
  }
}

Expected<std::vector<DmDevice>> DmIoctl::list() {
  Reply reply = call(DM_LIST_DEVICES, [](void*) {});
  if (reply.rc < 0) {
    return call_failed("list devices", "", reply.rc);
  }
  return parse_list_reply(reply.bytes);
}

DmIoctl::Reply DmIoctl::call_table_status(What what, const DmDevice& device) {
  return call(DM_TABLE_STATUS, [&](void* buffer) {
    auto* header = static_cast<dm_ioctl*>(buffer);
    // DM_SKIP_BDGET_FLAG: libdevmapper's no_open_count.
    header->flags =
        DM_SKIP_BDGET_FLAG | (what == What::kStatus ? DM_NOFLUSH_FLAG : DM_STATUS_TABLE_FLAG);
    header->dev = makedev(device.dev.major, device.dev.minor);
  });
}

std::optional<Error> DmIoctl::table_status_failed(What what, const DmDevice& device,
                                                  const Reply& reply, bool& vanished) {
  vanished = false;
  if (reply.rc == -ENXIO || reply.rc == -ENODEV) {
    vanished = true;  // removed since the list
    return std::nullopt;
  }
  if (reply.rc < 0) {
    return call_failed(what_name(what), device.name, reply.rc);
  }
  dm_ioctl header{};
  std::memcpy(&header, reply.bytes.data(), sizeof header);
  vanished = !same_device(header, device);
  return std::nullopt;
}

Expected<DmReport> DmIoctl::table_status(What what, const DmDevice& device) {
  const Reply reply = call_table_status(what, device);
  bool vanished = false;
  if (auto failed = table_status_failed(what, device, reply, vanished)) {
    return *failed;
  }
  if (vanished) {
    return DmReport::vanished();
  }
  auto report = parse_table_status_reply(reply.bytes);
  if (!report) {
    return Error{fmt::format("dm {} {}: {}", what_name(what), device.name, report.error().message),
                 report.error().kind};
  }
  return report;
}

Expected<DmStatusView> DmIoctl::status_view(const DmDevice& device) {
  const Reply reply = call_table_status(What::kStatus, device);
  bool vanished = false;
  if (auto failed = table_status_failed(What::kStatus, device, reply, vanished)) {
    return *failed;
  }
  if (vanished) {
    return DmStatusView{false, 0, {}, {}};
  }
  auto view = parse_status_view(reply.bytes);
  if (!view) {
    return Error{fmt::format("dm status {}: {}", device.name, view.error().message),
                 view.error().kind};
  }
  return view;
}

Expected<DmInfo> DmIoctl::info(const DmDevice& device) {
  Reply reply = call(DM_DEV_STATUS, [&](void* buffer) {
    auto* header = static_cast<dm_ioctl*>(buffer);
    header->flags = DM_SKIP_BDGET_FLAG;
    header->dev = makedev(device.dev.major, device.dev.minor);
  });
  DmInfo info;
  if (reply.rc == -ENXIO || reply.rc == -ENODEV) {
    info.exists = false;
    return info;
  }
  if (reply.rc < 0) {
    return call_failed("info", device.name, reply.rc);
  }
  dm_ioctl header{};
  std::memcpy(&header, reply.bytes.data(), sizeof header);
  if (!same_device(header, device)) {
    info.exists = false;
    return info;
  }
  info.suspended = (header.flags & DM_SUSPEND_FLAG) != 0;
  info.internally_suspended = (header.flags & DM_INTERNAL_SUSPEND_FLAG) != 0;
  info.read_only = (header.flags & DM_READONLY_FLAG) != 0;
  info.open_count = header.open_count;
  return info;
}

Expected<bool> DmIoctl::changed_since_last_call() {
  bool changed = true;
  if (armed_.load()) {
    const int readable = poll_();
    if (readable < 0) {
      return call_failed("event poll", "", readable);
    }
    changed = readable > 0;
  }
  if (changed) {
    // From now on: what happens after this call shows in the next one.
    Reply reply = call(DM_DEV_ARM_POLL, [](void*) {});
    if (reply.rc < 0) {
      armed_ = false;
      return call_failed("arm event poll", "", reply.rc);
    }
    armed_ = true;
  }
  return changed;
}

size_t DmIoctl::buffer_bytes() {
  return thread_buffer().size() * sizeof(uint64_t);
}

ControlDevice open_control_device() {
  // Shared by the copies of the functions; closed when the last one goes.
  struct Control {
    std::mutex mutex;
    int fd = -1;
    ~Control() {
      if (fd >= 0) {
        ::close(fd);
      }
    }
    // The descriptor, opened on first use; a failed open is tried again on the next call.
    int get() {
      std::lock_guard lock(mutex);
      if (fd < 0) {
        fd = ::open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
        if (fd < 0) {
          return -errno;
        }
      }
      return fd;
    }
  };
  auto control = std::make_shared<Control>();
  return ControlDevice{[control](unsigned long request, void* buffer) {
                         const int fd = control->get();
                         if (fd < 0) {
                           return fd;
                         }
                         return ::ioctl(fd, request, buffer) == 0 ? 0 : -errno;
                       },
                       [control] {
                         const int fd = control->get();
                         if (fd < 0) {
                           return fd;
                         }
                         pollfd wanted{fd, POLLIN, 0};
                         const int ready = ::poll(&wanted, 1, 0);
                         if (ready < 0) {
                           return -errno;
                         }
                         return ready > 0 && (wanted.revents & POLLIN) != 0 ? 1 : 0;
                       }};
}

std::string diagnose_control_device() {
  bool in_kernel = false;
  std::ifstream misc("/proc/misc");
  std::string line;
  while (std::getline(misc, line)) {
    if (line.find("device-mapper") != std::string::npos) {
      in_kernel = true;
    }
  }
  int fd = ::open("/dev/mapper/control", O_RDONLY | O_CLOEXEC);
  int open_errno = errno;
  if (fd >= 0) {
    ::close(fd);
    return in_kernel ? "" : "device-mapper is not in /proc/misc";
  }
  if (open_errno == EACCES || open_errno == EPERM) {
    return "open /dev/mapper/control: permission denied (the exporter needs root or "
           "CAP_SYS_ADMIN, and read access to the node)";
  }
  if (!in_kernel) {
    return fmt::format(
        "the kernel has no device-mapper (no device-mapper in /proc/misc; load it with "
        "`modprobe dm_mod`), open /dev/mapper/control: {}",
        std::strerror(open_errno));
  }
  if (open_errno == ENOENT) {
    return "/dev/mapper/control does not exist although the kernel has device-mapper (create it "
           "with `dmsetup mknodes`, or bind-mount the host's /dev/mapper/control into the "
           "container)";
  }
  return fmt::format("open /dev/mapper/control: {}", std::strerror(open_errno));
}

}  // namespace thinpool
