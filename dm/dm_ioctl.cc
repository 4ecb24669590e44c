#include "dm/dm_ioctl.h"

#include <fmt/format.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
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

// A field of the struct dm_ioctl at the start of a reply, copied out alone (a whole header is
// 312 bytes, and a steady scrape reads 10,000 replies).
template <typename T>
T field_at(std::span<const char> reply, size_t offset) {
  T value{};
  std::memcpy(&value, reply.data() + offset, sizeof value);
  return value;
}
#define THINPOOL_DM_FIELD(reply, member) \
  field_at<decltype(dm_ioctl::member)>(reply, offsetof(dm_ioctl, member))

// What a reply's header says about its data.
struct ReplyHeader {
  uint32_t data_size = 0;
  uint32_t data_start = 0;
  uint32_t target_count = 0;
  uint32_t event_nr = 0;
};

// Checks the header of a reply and gives it, with the reply cut to its data_size.
Expected<ReplyHeader> reply_header(std::span<const char>& reply, std::string_view what) {
  if (reply.size() < sizeof(dm_ioctl)) {
    return Error::parse(
        fmt::format("{} reply of {} bytes is shorter than its header", what, reply.size()));
  }
  ReplyHeader header{THINPOOL_DM_FIELD(reply, data_size), THINPOOL_DM_FIELD(reply, data_start),
                     THINPOOL_DM_FIELD(reply, target_count), THINPOOL_DM_FIELD(reply, event_nr)};
  if (header.data_size < sizeof(dm_ioctl) || header.data_size > reply.size() ||
      header.data_start > header.data_size) {
    return Error::parse(fmt::format("{} reply: data_size {} / data_start {} in a {}-byte buffer",
                                    what, header.data_size, header.data_start, reply.size()));
  }
  reply = reply.first(header.data_size);
  return header;
}

// A NUL-padded char array of the reply (the header's name and uuid, a target's type), as text.
std::string_view padded_text(std::span<const char> reply, size_t offset, size_t size) {
  const char* text = reply.data() + offset;
  return {text, strnlen(text, size)};
}

// Whether the device the kernel found at the number asked for is the one listed. Another name
// means the listed device was removed and its number given to a new one since the list: the
// listed device is gone, and the new one is read by the next scrape under its own name.
bool same_device(std::span<const char> reply, const DmDevice& device) {
  return padded_text(reply, offsetof(dm_ioctl, name), sizeof(dm_ioctl::name)) == device.name;
}

// Each thread's buffer (uint64_t: struct dm_ioctl wants 8-byte alignment).
std::vector<uint64_t>& thread_buffer() {
  thread_local std::vector<uint64_t> buffer(DmIoctl::kInitialBufferBytes / sizeof(uint64_t));
  return buffer;
}

}  // namespace

namespace {

// Calls `use(spec, type, params)` for each target of a DM_TABLE_STATUS reply (already cut to its
// data_size by reply_header), checking every offset and string against the buffer. `spec` is a
// copy for its numbers; `type` and `params` point into the reply itself.
template <typename Use>
Status for_each_target(std::span<const char> reply, const ReplyHeader& header, Use&& use) {
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
    const std::string_view type =
        padded_text(reply, offset + offsetof(dm_target_spec, target_type), sizeof spec.target_type);
    use(spec, type, *params);
    // In a reply, `next` counts from the first target spec, not from this one.
    offset = targets_start + spec.next;
  }
  return {};
}

}  // namespace

Expected<DmReport> parse_table_status_reply(std::span<const char> reply) {
  auto header = reply_header(reply, "DM_TABLE_STATUS");
  if (!header) {
    return header.error();
  }
  DmReport report;
  report.event_nr = header->event_nr;
  report.uuid = padded_text(reply, offsetof(dm_ioctl, uuid), sizeof(dm_ioctl::uuid));
  Status walked = for_each_target(
      reply, *header,
      [&](const dm_target_spec& spec, std::string_view type, std::string_view params) {
        report.targets.push_back(
            DmTarget{spec.sector_start, spec.length, std::string(type), std::string(params)});
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
  Status walked = for_each_target(
      reply, *header,
      [&](const dm_target_spec& /*spec*/, std::string_view type, std::string_view params) {
        if (view.target_count == 1) {
          view.type = type;  // both in the reply: valid as long as it is
          view.params = params;
        }
      });
  if (!walked) {
    return walked.error();
  }
  return view;
}

Status parse_list_reply_into(std::span<const char> reply, std::vector<DmDevice>& devices) {
  auto header = reply_header(reply, "DM_LIST_DEVICES");
  if (!header) {
    return header.error();
  }
  // Each record: u64 dev, u32 next (from this record's start), the name; what newer kernels put
  // after the name (event_nr, flags, with DM_UUID_FLAG the uuid) is not needed. No devices: a
  // single record with dev 0. The entries already in `devices` are written over, their names'
  // buffers reused: a steady list of 10,000 devices allocates nothing.
  constexpr size_t kNameAt = offsetof(dm_name_list, name);
  size_t count = 0;
  size_t offset = header->data_start;
  for (;;) {
    if (offset > reply.size() || reply.size() - offset < kNameAt) {
      devices.resize(count);
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
      devices.resize(count);
      return Error::parse(
          fmt::format("DM_LIST_DEVICES reply: the name at byte {} is not terminated", offset));
    }
    const DeviceNumber number{static_cast<uint32_t>(major(dev)), static_cast<uint32_t>(minor(dev))};
    if (count < devices.size()) {
      devices[count].name.assign(*name);
      devices[count].dev = number;
    } else {
      devices.push_back(DmDevice{std::string(*name), number});
    }
    ++count;
    if (next == 0) {
      break;
    }
    offset += next;
  }
  devices.resize(count);
  return {};
}

Expected<std::vector<DmDevice>> parse_list_reply(std::span<const char> reply) {
  std::vector<DmDevice> devices;
  Status parsed = parse_list_reply_into(reply, devices);
  if (!parsed) {
    return parsed.error();
  }
  return devices;
}

DmIoctl::Reply DmIoctl::call(unsigned long request,
                             const std::function<void(void* header)>& prepare, size_t first_bytes) {
  std::vector<uint64_t>& buffer = thread_buffer();
  size_t size = first_bytes;
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
    const std::span<const char> reply(reinterpret_cast<const char*>(buffer.data()), size);
    if ((THINPOOL_DM_FIELD(reply, flags) & DM_BUFFER_FULL_FLAG) == 0) {
      return {0, reply};
    }
    if (size >= kMaxBufferBytes) {
      return {-ENOBUFS, {}};
    }
    size *= 2;
  }
}

Expected<std::vector<DmDevice>> DmIoctl::list() {
  std::vector<DmDevice> devices;
  Status listed = list_into(devices);
  if (!listed) {
    return listed.error();
  }
  return devices;
}

Status DmIoctl::list_into(std::vector<DmDevice>& devices) {
  Reply reply = call(
      DM_LIST_DEVICES, [](void*) {}, list_bytes_.load(std::memory_order_relaxed));
  if (reply.rc < 0) {
    return call_failed("list devices", "", reply.rc);
  }
  Status parsed = parse_list_reply_into(reply.bytes, devices);
  if (parsed) {
    // What this list used, a sixteenth more and 1 KiB (about ten more names), in whole KiB: a
    // buffer far larger than the reply would cost its own copy into the kernel.
    const size_t used = THINPOOL_DM_FIELD(reply.bytes, data_size);
    const size_t next = (used + used / 16 + 2 * kInitialBufferBytes - 1) / kInitialBufferBytes *
                        kInitialBufferBytes;
    list_bytes_.store(std::clamp(next, kInitialBufferBytes, kMaxBufferBytes),
                      std::memory_order_relaxed);
  }
  return parsed;
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
  vanished = !same_device(reply.bytes, device);
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
  if (!same_device(reply.bytes, device)) {
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

}  // namespace thinpool
