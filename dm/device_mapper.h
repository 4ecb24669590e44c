// The device-mapper seam: the only way the exporter talks to the kernel's device-mapper.
//
// LibDevmapperClient (libdevmapper_client.h) is the real implementation, FakeDeviceMapper
// (fake_device_mapper.h) serves captured `dmsetup` text for tests, benchmarks and fixture runs.
// Every call is read-only: list, status (noflush) and table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/device_number.h"
#include "base/result.h"

namespace thinpool {

// One entry of the DM_DEVICE_LIST reply.
struct DmDevice {
  std::string name;
  DeviceNumber dev;
};

// One line of a device's table or status: `<start> <length> <type> <params>`.
struct DmTarget {
  uint64_t start = 0;
  uint64_t length = 0;  // sectors of 512 bytes
  std::string type;
  std::string params;
};

// The reply to a status or table ioctl for one device.
struct DmReport {
  // False when the device disappeared between the list and this call.
  bool exists = true;
  std::string uuid;
  // The device's event counter; it moves on every dm event (resize, low watermark, mode change).
  uint32_t event_nr = 0;
  std::vector<DmTarget> targets;

  // The reply for a device that no longer exists.
  static DmReport vanished() {
    DmReport report;
    report.exists = false;
    return report;
  }
};

struct DmVersions {
  std::string library;  // libdevmapper's version, e.g. "1.02.185 (2022-05-18)"
  std::string driver;   // the kernel's dm ioctl interface version, e.g. "4.47.0"
};

class DeviceMapper {
 public:
  virtual ~DeviceMapper() = default;

  // Every device-mapper device the kernel knows (DM_DEVICE_LIST).
  virtual Expected<std::vector<DmDevice>> list_devices() = 0;

  // DM_DEVICE_STATUS with noflush: the kernel does not commit pool metadata for it.
  virtual Expected<DmReport> status(const DmDevice& device) = 0;

  // DM_DEVICE_TABLE: the live table.
  virtual Expected<DmReport> table(const DmDevice& device) = 0;

  virtual Expected<DmVersions> versions() = 0;
};

}  // namespace thinpool
