// The device-mapper seam: the only way the exporter talks to the kernel's device-mapper.
//
// LibDevmapperClient (libdevmapper_client.h) is the real implementation, FakeDeviceMapper
// (fake_device_mapper.h) serves captured `dmsetup` text for tests, benchmarks and fixture runs.
// Every call is read-only. Which calls can block, and for how long, is said at each.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/device_number.h"
#include "base/result.h"

namespace thinpool {

// One entry of the device list: a device as the kernel holds it. The name is its bytes as the
// kernel has them (no unmangling, no check: any byte but '/' and NUL may be in it).
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
  // The device's own event counter: it moves on the device's dm events (a pool's low watermark or
  // mode change), not on a table reload.
  uint32_t event_nr = 0;
  std::vector<DmTarget> targets;

  // The reply for a device that no longer exists.
  static DmReport vanished() {
    DmReport report;
    report.exists = false;
    return report;
  }
};

// A device's status as a view: the type and parameters of its one target, pointing into the
// reply's buffer. Made for the steady path of a scrape, which reads thousands of these and keeps
// nothing of them but the parsed numbers: no allocation per device.
struct DmStatusView {
  bool exists = true;       // false when the device disappeared between the list and this call
  size_t target_count = 0;  // type and params are set only when it is 1
  std::string_view type;
  std::string_view params;
};

// What DM_DEV_STATUS says about a device: no target code runs for it, so it answers even while
// the device or what lies under it hangs.
struct DmInfo {
  bool exists = true;                 // false when the device disappeared since the list
  bool suspended = false;             // suspended by dmsetup or LVM (DM_SUSPEND_FLAG)
  bool internally_suspended = false;  // suspended by the kernel itself (DM_INTERNAL_SUSPEND_FLAG)
  bool read_only = false;
  int32_t open_count = 0;
};

struct DmVersions {
  std::string library;  // libdevmapper's version, e.g. "1.02.185 (2022-05-18)"
  std::string driver;   // the kernel's dm ioctl interface version, e.g. "4.47.0"
};

class DeviceMapper {
 public:
  virtual ~DeviceMapper() = default;

  // Every device-mapper device the kernel knows (DM_LIST_DEVICES). Does not block on devices.
  virtual Expected<std::vector<DmDevice>> list_devices() = 0;
  // list_devices() into `devices`, whose entries an implementation may reuse (the kernel's does:
  // a steady list then allocates nothing). The default assigns list_devices()' result.
  virtual Status list_devices_into(std::vector<DmDevice>& devices);

  // The status of the device's live table, with noflush (the kernel does not commit pool
  // metadata for it). A pool's or thin volume's status reads pool metadata: it can block while
  // the devices under the pool hang.
  virtual Expected<DmReport> status(const DmDevice& device) = 0;

  // status() as a view, valid until the calling thread's next call on this DeviceMapper (it
  // points into that thread's buffer); what status() says about blocking holds. The default reads
  // status() into a buffer of the thread's.
  virtual Expected<DmStatusView> status_view(const DmDevice& device);

  // The live table. Runs no target I/O: it does not block.
  virtual Expected<DmReport> table(const DmDevice& device) = 0;

  // DM_DEV_STATUS: suspended or not, open count. Does not block.
  virtual Expected<DmInfo> info(const DmDevice& device) = 0;

  // True when device-mapper changed anything since the previous call (a table loaded and
  // resumed, a device event, a device created, removed or renamed), and on the first call: a
  // table read before and cached may then be stale. Does not block.
  virtual Expected<bool> changed_since_last_call() = 0;

  virtual Expected<DmVersions> versions() = 0;
};

}  // namespace thinpool
