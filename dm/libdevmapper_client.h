// The real DeviceMapper: the kernel's device-mapper, read-only.
#pragma once

#include <string>

#include "dm/device_mapper.h"
#include "dm/dm_ioctl.h"

namespace thinpool {

// Talks to the kernel: the list, status, table, info and event poll through ioctls issued
// directly (dm_ioctl.h), which cost less than libdevmapper's tasks and return names as the kernel
// holds them; the versions through libdevmapper. libdevmapper keeps process-wide state without
// locks, so every libdevmapper call holds one process-wide mutex; the ioctls hold none.
//
// Constructing it replaces libdevmapper's stderr logging: its messages go to our log at debug
// level, and the last error it logged is appended to the Error we return.
class LibDevmapperClient : public DeviceMapper {
 public:
  LibDevmapperClient();
  // With another control device (tests).
  explicit LibDevmapperClient(ControlDevice control);
  ~LibDevmapperClient() override;
  LibDevmapperClient(const LibDevmapperClient&) = delete;
  LibDevmapperClient& operator=(const LibDevmapperClient&) = delete;

  Expected<std::vector<DmDevice>> list_devices() override;
  Status list_devices_into(std::vector<DmDevice>& devices) override;
  Expected<DmReport> status(const DmDevice& device) override;
  Expected<DmStatusView> status_view(const DmDevice& device) override;
  Expected<DmReport> table(const DmDevice& device) override;
  Expected<DmInfo> info(const DmDevice& device) override;
  Expected<bool> changed_since_last_call() override;
  Expected<DmVersions> versions() override;

 private:
  DmIoctl ioctl_;
};

// libdevmapper's own version, e.g. "1.02.185 (2022-05-18)"; needs no kernel.
std::string libdevmapper_library_version();

}  // namespace thinpool
