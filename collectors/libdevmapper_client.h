// The real DeviceMapper: read-only ioctls through libdevmapper.
#pragma once

#include <mutex>
#include <string>

#include "collectors/device_mapper.h"

namespace thinpool {

// Talks to the kernel through libdevmapper. Only DM_DEVICE_LIST, DM_DEVICE_STATUS (always with
// noflush), DM_DEVICE_TABLE and the version calls are made. libdevmapper keeps process-wide state
// without locks, so every call holds one process-wide mutex.
//
// Constructing it replaces libdevmapper's stderr logging: its messages go to our log at debug
// level, and the last error it logged is appended to the Error we return.
class LibDevmapperClient : public DeviceMapper {
 public:
  LibDevmapperClient();
  ~LibDevmapperClient() override;
  LibDevmapperClient(const LibDevmapperClient&) = delete;
  LibDevmapperClient& operator=(const LibDevmapperClient&) = delete;

  Expected<std::vector<DmDevice>> list_devices() override;
  Expected<DmReport> status(const DmDevice& device) override;
  Expected<DmReport> table(const DmDevice& device) override;
  Expected<DmVersions> versions() override;

 private:
  Expected<DmReport> run_device_task(int task_type, const DmDevice& device);
};

// Explains why /dev/mapper/control cannot be used: no device-mapper in the kernel, no node, or
// no privilege. Checks /proc/misc and opens the node read-only itself, so it never creates it.
std::string diagnose_control_device();

// libdevmapper's own version, e.g. "1.02.185 (2022-05-18)"; needs no kernel.
std::string libdevmapper_library_version();

}  // namespace thinpool
