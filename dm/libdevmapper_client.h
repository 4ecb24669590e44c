// The real DeviceMapper: read-only ioctls through libdevmapper.
#pragma once

#include <mutex>
#include <string>

#include "dm/device_mapper.h"
#include "dm/dm_table_status.h"

namespace thinpool {

// Talks to the kernel: the list and the versions through libdevmapper, the per-device status
// (always with noflush) and table through DM_TABLE_STATUS issued directly (dm_table_status.h),
// which costs less than libdevmapper's task. libdevmapper keeps process-wide state without
// locks, so every libdevmapper call holds one process-wide mutex.
//
// Constructing it replaces libdevmapper's stderr logging: its messages go to our log at debug
// level, and the last error it logged is appended to the Error we return.
class LibDevmapperClient : public DeviceMapper {
 public:
  LibDevmapperClient();
  // With another DM_TABLE_STATUS ioctl (tests).
  explicit LibDevmapperClient(DmTableStatusIoctl::Ioctl table_status_ioctl);
  ~LibDevmapperClient() override;
  LibDevmapperClient(const LibDevmapperClient&) = delete;
  LibDevmapperClient& operator=(const LibDevmapperClient&) = delete;

  Expected<std::vector<DmDevice>> list_devices() override;
  Expected<DmReport> status(const DmDevice& device) override;
  Expected<DmReport> table(const DmDevice& device) override;
  Expected<DmVersions> versions() override;

 private:
  DmTableStatusIoctl table_status_;
};

// Explains why /dev/mapper/control cannot be used: no device-mapper in the kernel, no node, or
// no privilege. Checks /proc/misc and opens the node read-only itself, so it never creates it.
std::string diagnose_control_device();

// libdevmapper's own version, e.g. "1.02.185 (2022-05-18)"; needs no kernel.
std::string libdevmapper_library_version();

}  // namespace thinpool
