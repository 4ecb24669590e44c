// The `lvm` collector's series: what one scrape loaded (a VG's metadata per name, the PVs whose
// reads have not returned, the autoextend policy of each pool), written as the collector's metric
// families. Pure: no reads, so tests and benchmarks call it on metadata they built.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "dm/dmeventd_client.h"
#include "exposition/metric_writer.h"
#include "lvm/lvm_config.h"
#include "lvm/metadata_cache.h"
#include "lvm/vg_model.h"
#include "thin/inventory.h"

namespace thinpool {

// What one scrape loaded: per VG name, its metadata or why it could not be read.
using LoadedVolumeGroups = std::map<std::string, Expected<lvm::LoadedVolumeGroup>>;

// A PV whose read has not returned.
struct StuckRead {
  std::string vg;      // the volume group it was read for
  std::string device;  // its node ("/dev/vdb"), or "<major>:<minor>"
  double seconds = 0;  // since the read started
};

// What dmeventd said this scrape: whether it runs, and per active pool (by its dm uuid) whether it
// monitors it. A pool it could not be asked about is left out.
struct MonitoringView {
  bool daemon_up = false;
  std::map<std::string, bool> monitored;
};

// The view of one query_monitoring answer for the pools `uuids`: a pool dmeventd could not be
// asked about is left out; when it does not run or could not be asked at all, nothing counts as
// monitored (what stops us from asking stops lvm too).
MonitoringView monitoring_view(const Expected<MonitorStatus>& status,
                               const std::vector<std::string>& uuids);

// What write_lvm_series writes beyond the per-VG and per-pool series.
struct LvmSeriesOptions {
  bool volume_series = true;  // the per-LV series (--collector.lvm.volume-series)
  // thinpool_lvm_config_read_success, asked after the pools' series; empty or nullopt: not read.
  std::function<std::optional<bool>()> config_read;
  // The autoextend policy of a pool (thinpool_lvm_autoextend_*); empty or nullopt: not written.
  std::function<std::optional<lvm::ThinPoolAutoextend>(const lvm::ThinPoolSummary&)> autoextend;
  // Whether a PV the metadata lists is on the host; empty: only the MISSING flags count.
  std::function<bool(const lvm::PhysicalVolume&)> present;
  // thinpool_lvm_dmeventd_up and thinpool_lvm_monitored; nullopt: not asked (not written).
  std::optional<MonitoringView> monitoring;
};

// What the series of each loaded VG need that stays the same while LVM commits nothing: its size
// and free space, its pools' summaries (each a pass over every LV: 0.15 ms per scrape at 10,000
// LVs) and what its per-LV series need (each LV's escaped name, origin and creation time: 0.8 MB
// and 1.7 ms to make at 10,000 LVs with Cinder's names; LvmVolumeSeries). Made once per parsed VG
// and kept until the VG loaded under that name is another object: the metadata cache hands out the
// same VolumeGroup while LVM commits nothing and a new one for every new version, so nothing here
// outlives the metadata it was made from. An entry the metadata cache keeps as the VG's digest
// (VolumeGroupCache::keep_digest, in place of its LVs) is taken from there and not kept here. The
// per-LV lines depend on nothing else (their pool label is the pool LV's name, not the kernel's dm
// name); what depends on the kernel's pools is written per scrape. Thread-safe; concurrent scrapes
// share what one of them made.
class LvmSeriesCache {
 public:
  struct VolumeGroupSeries;  // what one VG's series need (lvm_series.cc)
  using Entry = std::shared_ptr<const VolumeGroupSeries>;

  // Per VG of `groups` that was read, in the map's order, its entry (with the per-LV series when
  // `volume_series`): its digest when it has one made so, else the one kept here or made now;
  // entries of VGs not in `groups` are dropped.
  std::vector<Entry> entries(const LoadedVolumeGroups& groups, bool volume_series);

  // Entries made so far (tests: made once per VG object, not per scrape).
  uint64_t made() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;  // by VG name
  uint64_t made_ = 0;
};

// Keeps each entry made from a VG's LVs (not from its digest) in `cache` as that VG's digest, in
// place of its LVs, and gives `groups` the VG without them, so that once the series are made
// neither the cache nor the scrape holds the LVs (4.5 MB at 10,000 thin LVs). `entries`: what
// LvmSeriesCache::entries(groups, ...) returned, with the one `volume_series` every scrape of
// `cache` uses (an entry made without the per-LV series cannot stand for one made with it).
void keep_as_digests(LoadedVolumeGroups& groups, const std::vector<LvmSeriesCache::Entry>& entries,
                     lvm::VolumeGroupCache& cache);

// The series of what `groups` holds for `inventory`'s pools, and of the stuck reads; what stays the
// same while the VGs do comes from `cache`.
void write_lvm_series(const LoadedVolumeGroups& groups, const ThinInventory& inventory,
                      const std::vector<StuckRead>& stuck, const LvmSeriesOptions& options,
                      LvmSeriesCache& cache, MetricWriter& out);

// The same with the cache's entries for `groups` taken earlier (cache.entries(groups,
// options.volume_series)): the collector takes them in the scrape's first phase, so that the
// per-LV series of a VG LVM just committed are made before the body grows.
void write_lvm_series(const LoadedVolumeGroups& groups, const ThinInventory& inventory,
                      const std::vector<StuckRead>& stuck, const LvmSeriesOptions& options,
                      const std::vector<LvmSeriesCache::Entry>& entries, MetricWriter& out);

}  // namespace thinpool
