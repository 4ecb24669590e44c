// Finds LVM's physical volumes on the host's block devices by their labels, as lvm2's own scan
// does, so that the `lvm` collector sees every volume group: also one with nothing active (a pool
// whose activation failed after a reboot), and the PVs a VG's metadata lists but no device holds.
//
// The candidates are the host's block devices minus what lvm2 leaves out by default: LVM's own
// LVs (thin volumes above all: there may be 10,000) unless lvm.conf sets devices/scan_lvs, disks
// that carry a partition table (lvm2's "partitioned" filter), the paths under a multipath map or
// an MD array (their holder is read instead), empty devices, and suspended device-mapper devices
// (a read would wait for as long as they stay suspended). The caller's filter (lvm.conf's
// global_filter and filter, its devices file) decides on what remains.
//
// A candidate's label is read once per device identity (its device number, size and the kernel's
// disk sequence number), through the collector's SingleFlight with the scrape's deadline: a device
// that does not answer is asked again only after the read in flight returned. The device list
// itself is read again only when the kernel's uevent sequence number moved (a device came, went or
// changed) or `rescan_interval` passed (a label written on a device without any uevent, as
// `pvcreate` does where no udev watches), never on every scrape.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/device_number.h"
#include "base/result.h"
#include "lvm/block_reader.h"
#include "lvm/pv_reader.h"

namespace thinpool {

// A block device that may hold a PV.
struct BlockDevice {
  DeviceNumber dev;
  std::vector<std::string> names;  // "/dev/sdb", "/dev/mapper/mpatha", "/dev/disk/by-id/...", first
                                   // the kernel's node
  std::string identity;            // changes when the device is replaced by another
};

// Where the candidates come from: sysfs on a real host, a list in tests.
class BlockDeviceSource {
 public:
  virtual ~BlockDeviceSource() = default;
  // Moves when block devices come, go or change ("" when unknown: list on every call).
  virtual std::string generation() = 0;
  // The candidates, with LVM's LVs (unless `scan_lvs`), partitioned disks, multipath and MD
  // components, empty and suspended devices left out. `known_lvm_lvs` (sorted) are device-mapper
  // devices the caller already knows to be LVM's LVs, from device-mapper's tables: left out
  // without reading their uuid (at 10,000 thin volumes that read, once per LV, was most of a
  // list).
  virtual Expected<std::vector<BlockDevice>> list(
      bool scan_lvs, const std::vector<DeviceNumber>& known_lvm_lvs) = 0;
};

// The real BlockDeviceOpener: sysfs names the node (/dev/mapper/<name> for a device-mapper
// device, else DEVNAME, /dev/block/<maj:min> last), opened only if its st_rdev matches.
Expected<std::unique_ptr<lvm::BlockReader>> open_block_device(DeviceNumber dev);

// A BlockDeviceOpener (collector.h): open_block_device, remembering the node it opened for each
// device: a PV read on every scrape then costs a stat of that node (its st_rdev checked again) and
// the open, without reading sysfs. A node that is gone or now names another device is looked up in
// sysfs again. Thread-safe.
std::function<Expected<std::unique_ptr<lvm::BlockReader>>(DeviceNumber)>
remembering_block_device_opener();

// A block device's node for messages and labels ("/dev/vdb"), from sysfs, which answers whatever
// the device does; "<major>:<minor>" when sysfs names none.
std::string device_node(DeviceNumber dev);

// /sys/class/block (or `class_block`: tests), /sys/kernel/uevent_seqnum and the /dev/disk/by-*
// links.
std::unique_ptr<BlockDeviceSource> sysfs_block_devices(
    std::string class_block = "/sys/class/block");

// One candidate as the last scan left it.
struct ScannedDevice {
  BlockDevice device;
  std::optional<lvm::PvLabel> label;  // set when the device holds an LVM label
};

class PvScanner {
 public:
  struct Options {
    bool scan_lvs = false;
    // lvm.conf's filters on a device's names; empty accepts everything.
    std::function<bool(const BlockDevice&)> accept;
    // The devices file on a PV's label; empty accepts everything.
    std::function<bool(const BlockDevice&, const lvm::PvLabel&)> accept_pv;
    std::chrono::seconds rescan_interval{300};
  };
  // Reads one label; may block for as long as the device does, so the caller bounds it. Returns
  // nullopt when the call did not finish by the deadline (asked again at the next scan), an
  // error for a device without a label.
  using LabelReader = std::function<std::optional<Expected<lvm::PvLabel>>(const BlockDevice&)>;

  PvScanner(std::unique_ptr<BlockDeviceSource> source, Options options);

  // The PVs found: the device list is read again only when it may have changed, and only new
  // devices' labels are read. Errors: the device list cannot be read (the last list is kept).
  // `known_lvm_lvs`, when given, is asked before the device list is read: the device-mapper
  // devices known to be LVM's LVs (BlockDeviceSource::list).
  Expected<std::vector<ScannedDevice>> scan(
      const LabelReader& read_label,
      const std::function<std::vector<DeviceNumber>()>& known_lvm_lvs = {});

  // New options (lvm.conf changed): the next scan lists and filters again.
  void set_options(Options options);

  struct Stats {
    uint64_t lists = 0;        // device lists read
    uint64_t label_reads = 0;  // labels read
  };
  Stats stats() const { return stats_; }

 private:
  std::unique_ptr<BlockDeviceSource> source_;
  Options options_;
  std::optional<std::string> generation_;
  std::chrono::steady_clock::time_point listed_at_;
  std::vector<BlockDevice> candidates_;
  // Per identity, the label read (nullopt: not a PV); a device whose read did not finish has none.
  std::map<std::string, std::optional<lvm::PvLabel>> labels_;
  Stats stats_;
};

}  // namespace thinpool
