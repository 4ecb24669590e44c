// The `lvm` collector: LVM's own view of each thin pool, read from LVM's on-disk metadata
// without running lvm and without its locks.
//
// For every pool of an LVM volume group the kernel holds, it follows the pool's metadata and
// data sub-LVs (their linear/striped dm tables name the PVs' major:minor), reads the VG
// metadata from a PV's metadata area (checksums verified, torn reads retried, re-parsed only
// when LVM committed a new version) and, when no PV can be read, from LVM's text backup
// (/etc/lvm/backup/<vg>). The headline series is thinpool_lvm_transaction_id: when it differs
// from the kernel's thinpool_transaction_id for longer than a commit takes, lvcreate fails.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "collectors/collector.h"
#include "lvm/block_reader.h"
#include "lvm/metadata_cache.h"

namespace thinpool {

// Opens the block device with the given number read-only.
using BlockDeviceOpener =
    std::function<Expected<std::unique_ptr<lvm::BlockReader>>(DeviceNumber dev)>;

// The real opener: /sys/dev/block/<maj:min>/uevent names the node (DEVNAME), which is opened
// from /dev only if its st_rdev matches; /dev/block/<maj:min> is the fallback.
Expected<std::unique_ptr<lvm::BlockReader>> open_block_device(DeviceNumber dev);

class LvmCollector : public Collector {
 public:
  LvmCollector(DeviceMapper& device_mapper, std::string backup_dir,
               BlockDeviceOpener opener = open_block_device);
  Status collect(ScrapeContext& context, std::vector<prometheus::MetricFamily>& out) override;

  // What the cache did so far (tests: re-parse only on change).
  lvm::VolumeGroupCache::Stats cache_stats() const { return cache_.stats(); }

 private:
  Expected<lvm::LoadedVolumeGroup> load(const ThinPool& pool, const ThinInventory& inventory);
  std::vector<DeviceNumber> physical_devices(const ThinPool& pool, const ThinInventory& inventory);
  void log_failure(const std::string& vg, const std::string& reason);

  DeviceMapper& device_mapper_;
  std::string backup_dir_;
  BlockDeviceOpener opener_;
  lvm::VolumeGroupCache cache_;
  std::mutex log_mutex_;
  std::map<std::string, std::string> logged_failures_;  // vg -> reason last logged
};

}  // namespace thinpool
