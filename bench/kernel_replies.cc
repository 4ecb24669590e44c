#include "bench/kernel_replies.h"

#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace thinpool::bench {
namespace {

size_t align8(size_t n) {
  return (n + 7) & ~size_t{7};
}

// Bytes into 8-byte words, the alignment struct dm_ioctl wants.
std::vector<uint64_t> words(const std::string& bytes) {
  std::vector<uint64_t> out((bytes.size() + 7) / 8);
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

dm_ioctl header_for(const DmDevice& device, const std::string& uuid) {
  dm_ioctl io{};
  io.version[0] = DM_VERSION_MAJOR;
  io.version[1] = DM_VERSION_MINOR;
  io.data_start = sizeof io;
  io.dev = makedev(device.dev.major, device.dev.minor);
  std::snprintf(io.name, sizeof io.name, "%s", device.name.c_str());
  std::snprintf(io.uuid, sizeof io.uuid, "%s", uuid.c_str());
  return io;
}

// A DM_TABLE_STATUS reply: the header, then each target's spec and its parameters, each spec
// 8-byte aligned; `next` counts from the first spec (dm-ioctl.c retrieve_status()).
std::string table_status_reply(const DmDevice& device, const DmReport& report) {
  std::string payload;
  for (const DmTarget& target : report.targets) {
    dm_target_spec spec{};
    spec.sector_start = target.start;
    spec.length = target.length;
    std::snprintf(spec.target_type, sizeof spec.target_type, "%s", target.type.c_str());
    const size_t at = payload.size();
    payload.append(sizeof spec, '\0');
    payload += target.params;
    payload.push_back('\0');
    payload.resize(align8(payload.size()), '\0');
    spec.next = static_cast<uint32_t>(payload.size());
    std::memcpy(payload.data() + at, &spec, sizeof spec);
  }
  dm_ioctl io = header_for(device, report.uuid);
  io.target_count = static_cast<uint32_t>(report.targets.size());
  io.event_nr = report.event_nr;
  io.data_size = static_cast<uint32_t>(sizeof io + payload.size());
  std::string reply(reinterpret_cast<const char*>(&io), sizeof io);
  return reply + payload;
}

std::string info_reply(const DmDevice& device, const DmInfo& info) {
  dm_ioctl io = header_for(device, "");
  io.data_size = sizeof io;
  io.open_count = info.open_count;
  io.flags = (info.suspended ? DM_SUSPEND_FLAG : 0u) | (info.read_only ? DM_READONLY_FLAG : 0u);
  return std::string(reinterpret_cast<const char*>(&io), sizeof io);
}

// A DM_LIST_DEVICES reply: dm_name_list records chained by `next` (from each record's start),
// each name followed, 8-byte aligned, by event_nr, flags and the uuid (dm ioctl 4.46+).
std::string list_reply(const std::vector<DmDevice>& devices,
                       const std::vector<std::string>& uuids) {
  std::string payload;
  for (size_t i = 0; i < devices.size(); ++i) {
    const size_t at = payload.size();
    const uint64_t dev = makedev(devices[i].dev.major, devices[i].dev.minor);
    payload.append(offsetof(dm_name_list, name), '\0');
    std::memcpy(payload.data() + at, &dev, sizeof dev);
    payload += devices[i].name;
    payload.push_back('\0');
    payload.resize(align8(payload.size()), '\0');
    const uint32_t trailer[2] = {0, DM_NAME_LIST_FLAG_HAS_UUID};
    payload.append(reinterpret_cast<const char*>(trailer), sizeof trailer);
    payload += uuids[i];
    payload.push_back('\0');
    payload.resize(align8(payload.size()), '\0');
    if (i + 1 < devices.size()) {
      const auto next = static_cast<uint32_t>(payload.size() - at);
      std::memcpy(payload.data() + at + offsetof(dm_name_list, next), &next, sizeof next);
    }
  }
  if (devices.empty()) {
    payload.append(sizeof(dm_name_list), '\0');  // one record with dev 0
  }
  dm_ioctl io{};
  io.version[0] = DM_VERSION_MAJOR;
  io.version[1] = DM_VERSION_MINOR;
  io.data_start = sizeof io;
  io.data_size = static_cast<uint32_t>(sizeof io + payload.size());
  std::string reply(reinterpret_cast<const char*>(&io), sizeof io);
  return reply + payload;
}

// Copies a reply into the caller's buffer as the kernel does, or only the header with
// DM_BUFFER_FULL_FLAG when the caller's data_size is too small for it.
int copy_reply(const std::vector<uint64_t>& reply, void* buffer) {
  dm_ioctl asked{};
  std::memcpy(&asked, buffer, sizeof asked);
  dm_ioctl io{};
  std::memcpy(&io, reply.data(), sizeof io);
  if (io.data_size > asked.data_size) {
    io.flags |= DM_BUFFER_FULL_FLAG;
    io.data_size = sizeof io;
    io.target_count = 0;
    std::memcpy(buffer, &io, sizeof io);
    return 0;
  }
  std::memcpy(buffer, reply.data(), io.data_size);
  return 0;
}

}  // namespace

KernelReplies::KernelReplies(FakeDeviceMapper& state) {
  auto listed = state.list_devices();
  std::vector<DmDevice> devices = listed ? *listed : std::vector<DmDevice>{};
  std::vector<std::string> uuids;
  for (const DmDevice& device : devices) {
    Device& replies = devices_[makedev(device.dev.major, device.dev.minor)];
    auto table = state.table(device);
    auto status = state.status(device);
    auto info = state.info(device);
    uuids.push_back(table ? table->uuid : "");
    if (table && table->exists) {
      replies.table = words(table_status_reply(device, *table));
    }
    if (status && status->exists) {
      replies.status = words(table_status_reply(device, *status));
    }
    if (info && info->exists) {
      replies.info = words(info_reply(device, *info));
    }
  }
  list_ = words(list_reply(devices, uuids));
}

int KernelReplies::answer(unsigned long request, void* buffer) const {
  if (request == DM_LIST_DEVICES) {
    return copy_reply(list_, buffer);
  }
  if (request == DM_DEV_ARM_POLL) {
    return 0;
  }
  dm_ioctl asked{};
  std::memcpy(&asked, buffer, sizeof asked);
  auto device = devices_.find(asked.dev);
  if (device == devices_.end()) {
    return -ENXIO;
  }
  const std::vector<uint64_t>* reply = nullptr;
  if (request == DM_TABLE_STATUS) {
    reply =
        (asked.flags & DM_STATUS_TABLE_FLAG) != 0 ? &device->second.table : &device->second.status;
  } else if (request == DM_DEV_STATUS) {
    reply = &device->second.info;
  } else {
    return -ENOTTY;
  }
  return reply->empty() ? -ENXIO : copy_reply(*reply, buffer);
}

int KernelReplies::floor_pass(const ControlDevice& control, const std::vector<DmDevice>& devices) {
  thread_local std::vector<uint64_t> list_buffer(size_t{4} << 17);  // 4 MiB
  thread_local std::vector<uint64_t> buffer(DmIoctl::kInitialBufferBytes / sizeof(uint64_t));
  int failed = 0;
  dm_ioctl io{};
  io.version[0] = DM_VERSION_MAJOR;
  io.version[1] = DM_VERSION_MINOR;
  io.data_start = sizeof io;
  io.data_size = static_cast<uint32_t>(list_buffer.size() * sizeof(uint64_t));
  std::memcpy(list_buffer.data(), &io, sizeof io);
  failed += control.ioctl(DM_LIST_DEVICES, list_buffer.data()) != 0 ? 1 : 0;
  for (const DmDevice& device : devices) {
    io.data_size = static_cast<uint32_t>(buffer.size() * sizeof(uint64_t));
    io.flags = DM_SKIP_BDGET_FLAG | DM_NOFLUSH_FLAG;
    io.dev = makedev(device.dev.major, device.dev.minor);
    std::memcpy(buffer.data(), &io, sizeof io);
    failed += control.ioctl(DM_TABLE_STATUS, buffer.data()) != 0 ? 1 : 0;
  }
  return failed;
}

ControlDevice KernelReplies::control() {
  // After the first DM_DEV_ARM_POLL nothing changes: a steady host.
  auto armed = std::make_shared<bool>(false);
  return ControlDevice{[this, armed](unsigned long request, void* buffer) {
                         if (request == DM_DEV_ARM_POLL) {
                           *armed = true;
                         }
                         return answer(request, buffer);
                       },
                       [armed] { return *armed ? 0 : 1; }};
}

}  // namespace thinpool::bench
