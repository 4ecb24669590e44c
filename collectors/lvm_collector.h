// The `lvm` collector: LVM's own view of each thin pool, read from LVM's on-disk metadata
// without running lvm and without its locks.
//
// For every volume group that holds a pool the kernel has, it loads the VG metadata from a PV's
// metadata area (the PVs under the pool's sub-devices; checksums verified, torn reads retried,
// re-parsed only when LVM committed a new version) or, when no PV can be read, from LVM's text
// backup (/etc/lvm/backup/<vg>); then writes the series of what it loaded. The headline series is
// thinpool_lvm_transaction_id: when it differs from the kernel's thinpool_transaction_id for
// longer than a commit takes, lvcreate fails.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "base/condition_log.h"
#include "collectors/collector.h"
#include "lvm/metadata_cache.h"

namespace thinpool {

// The real BlockDeviceOpener: /sys/dev/block/<maj:min>/uevent names the node (DEVNAME), which is
// opened from /dev only if its st_rdev matches; /dev/block/<maj:min> is the fallback.
Expected<std::unique_ptr<lvm::BlockReader>> open_block_device(DeviceNumber dev);

// What one scrape loaded: per VG name, its metadata or why it could not be read.
using LoadedVolumeGroups = std::map<std::string, Expected<lvm::LoadedVolumeGroup>>;

class LvmCollector : public Collector {
 public:
  LvmCollector(std::string backup_dir, BlockDeviceOpener opener);
  Status collect(ScrapeContext& context, MetricWriter& out) override;

  // The metadata of every VG that holds one of `inventory`'s pools.
  LoadedVolumeGroups load(const ThinInventory& inventory);

  // What the cache did so far (tests: re-parse only on change).
  lvm::VolumeGroupCache::Stats cache_stats() const { return cache_.stats(); }

 private:
  Expected<lvm::LoadedVolumeGroup> load_group(const std::string& vg,
                                              const std::vector<DeviceNumber>& physical_devices);

  std::string backup_dir_;
  BlockDeviceOpener opener_;
  lvm::VolumeGroupCache cache_;
  ConditionLog failures_;
};

// The series of what `groups` holds for `inventory`'s pools.
void write_lvm_series(const LoadedVolumeGroups& groups, const ThinInventory& inventory,
                      MetricWriter& out);

CollectorDefinition lvm_collector_definition();

}  // namespace thinpool
