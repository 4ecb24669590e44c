// The `lvm` collector: LVM's own view of each thin pool, read from LVM's on-disk metadata
// without running lvm and without its locks.
//
// For every volume group that holds a pool the kernel has, it loads the VG metadata from a PV's
// metadata area (the PVs under the pool's sub-devices; checksums verified, torn reads retried,
// re-parsed only when LVM committed a new version) or, when no PV can be read, from LVM's text
// backup (/etc/lvm/backup/<vg>); then writes the series of what it loaded. The headline series is
// thinpool_lvm_transaction_id: when it differs from the kernel's thinpool_transaction_id for
// longer than a commit takes, lvcreate fails.
//
// A PV that stops answering (a multipath map queueing with every path down, a hung iSCSI LUN)
// blocks the read of it for as long as it hangs. Each PV is read on a worker thread and waited for
// until the scrape's deadline; one that does not answer is reported
// (thinpool_lvm_pv_read_stuck_seconds), its VG read from its other PVs or the backup, and it is
// not read again until the read in flight returns: one thread and one descriptor per stuck PV.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "base/condition_log.h"
#include "base/single_flight.h"
#include "collectors/collector.h"
#include "collectors/lvm_series.h"
#include "collectors/pv_scan.h"
#include "dm/dmeventd_client.h"
#include "lvm/devices_file.h"
#include "lvm/lvm_config.h"
#include "lvm/metadata_cache.h"

namespace thinpool {

class LvmCollector : public Collector {
 public:
  // `scanner`: finds the host's PVs by their labels (every VG, also one with nothing active);
  // null: only the VGs of the kernel's pools are read (fixture runs, tests).
  LvmCollector(
      std::string backup_dir, BlockDeviceOpener opener,
      const std::shared_ptr<BlockingCallPool>& threads = std::make_shared<BlockingCallPool>(),
      bool volume_series = true, std::unique_ptr<PvScanner> scanner = nullptr,
      std::string config_dir = "");
  // Reads the VGs' metadata (and parses what LVM committed since the last scrape) in the scrape's
  // first phase: the text and its parse are gone before the other collectors write.
  Expected<Writer> read(ScrapeContext& context) override;
  Status collect(ScrapeContext& context, MetricWriter& out) override;

  // Asks `dmeventd` every scrape whether it monitors each active LVM pool (read-only: it is never
  // started); without one, thinpool_lvm_monitored and thinpool_lvm_dmeventd_up are not written.
  void set_dmeventd(std::unique_ptr<DmeventdMonitor> dmeventd) { dmeventd_ = std::move(dmeventd); }

  // The metadata of every VG the scan finds and of every VG that holds one of `inventory`'s
  // pools; reads of PVs that have not answered by `deadline` are left in flight (stuck_reads()).
  LoadedVolumeGroups load(const ThinInventory& inventory, Clock::time_point deadline);

  std::vector<StuckRead> stuck_reads() const;

  // Whether a PV a VG's metadata lists was found on the host by the last scan (or read); null
  // without a scanner or while the device list cannot be read.
  std::function<bool(const lvm::PhysicalVolume&)> presence() const;

  // What the cache did so far (tests: re-parse only on change).
  lvm::VolumeGroupCache::Stats cache_stats() const { return cache_.stats(); }

 private:
  Expected<lvm::LoadedVolumeGroup> load_group(const std::string& vg,
                                              const std::vector<DeviceNumber>& physical_devices,
                                              Clock::time_point deadline);
  // One PV's VG through reads_, started on a worker, then waited for until the deadline: nullopt
  // (and a stuck report, for `vg`) when it did not answer by then.
  using PvRead = SingleFlight<Expected<lvm::LoadedVolumeGroup>>::Handle;
  PvRead start_pv_read(DeviceNumber dev);
  std::optional<Expected<lvm::LoadedVolumeGroup>> finish_pv_read(DeviceNumber dev,
                                                                 const std::string& vg,
                                                                 const PvRead& read,
                                                                 Clock::time_point deadline);
  std::optional<Expected<lvm::LoadedVolumeGroup>> read_pv(DeviceNumber dev, const std::string& vg,
                                                          Clock::time_point deadline);
  // The VGs of the PVs the scanner finds, and the smallest metadata area of each.
  void load_scanned(const ThinInventory& inventory, LoadedVolumeGroups& groups,
                    Clock::time_point deadline);

  // What dmeventd says about `inventory`'s LVM pools; the last answer while another scrape asks.
  std::optional<MonitoringView> ask_dmeventd(const ThinInventory& inventory,
                                             Clock::time_point deadline);

  std::string backup_dir_;
  bool volume_series_ = true;
  BlockDeviceOpener opener_;
  lvm::VolumeGroupCache cache_;
  LvmSeriesCache series_cache_;  // what the series of each VG object need, made once
  SingleFlight<Expected<lvm::LoadedVolumeGroup>> reads_;  // keyed by "<major>:<minor>"
  std::unique_ptr<PvScanner> scanner_;
  SingleFlight<Expected<lvm::PvLabel>> label_reads_;  // the scanner's, keyed the same way
  // lvm.conf (read again when a file changed; the last good one is kept on errors) and the
  // scanner's filters from it. Under scan_mutex_.
  void refresh_config();
  // The autoextend policy lvm2 applies to `pool` (lvm.conf, overridden by its profile); nullopt
  // when its profile does not read. Loads the profile once, again when its file changes.
  std::optional<lvm::ThinPoolAutoextend> autoextend(const lvm::ThinPoolSummary& pool);
  std::string config_dir_;  // "" : no lvm.conf (accept every device, no autoextend series)
  std::shared_ptr<const lvm::LvmConfig> config_;  // the last good one; null before the first
  std::shared_ptr<const lvm::DeviceSelection> selection_;
  std::map<std::string, Expected<lvm::LvmProfile>> profiles_;  // by name, under found_mutex_
  bool profiles_read_ = true;                                  // this scrape's profiles read
  ConditionLog config_failures_;
  ConditionLog dmeventd_failures_;
  std::unique_ptr<DmeventdMonitor> dmeventd_;
  std::mutex dmeventd_mutex_;
  std::optional<MonitoringView> last_monitoring_;  // under found_mutex_
  // What the last scan found; one scrape scans at a time, the others use its result.
  std::mutex scan_mutex_;
  mutable std::mutex found_mutex_;
  std::vector<ScannedDevice> found_;
  std::set<std::string> present_;              // PV uuids the last scan found (or a read found)
  bool scanned_ = false;                       // the last scan listed the devices
  bool config_read_ = true;                    // the last read of lvm.conf worked
  std::map<DeviceNumber, std::string> vg_of_;  // the VG a PV held when last read
  mutable std::mutex stuck_mutex_;
  std::map<std::string, StuckRead> read_for_;  // key -> what it was read for
  ConditionLog failures_;
  ConditionLog stuck_;
  ConditionLog scan_failures_;
};

CollectorDefinition lvm_collector_definition();

}  // namespace thinpool
