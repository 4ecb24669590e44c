#include "collectors/lvm_series.h"

#include <malloc.h>

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "collectors/lvm_volume_series.h"
#include "exposition/metric_writer.h"

namespace thinpool {
namespace {

constexpr std::string_view kVgLabel[] = {"vg"};
constexpr auto kVgInfoLabelNames =
    std::to_array<std::string_view>({"vg", "vg_uuid", "source", "origin"});
constexpr Family kReadSuccess{"thinpool_lvm_vg_read_success",
                              "1 if the volume group's LVM metadata was read (from a PV's "
                              "metadata area or LVM's backup), 0 if not (the log says why).",
                              MetricType::Gauge, kVgLabel};
constexpr Family kVgInfo{
    "thinpool_lvm_vg_info",
    "Constant 1 per volume group; source is pv (the metadata area on disk) "
    "or backup (LVM's text backup, possibly older), origin the device or file.",
    MetricType::Gauge, kVgInfoLabelNames};
constexpr Family kVgSize{"thinpool_lvm_vg_size_bytes", "Size of the volume group (LVM metadata).",
                         MetricType::Gauge, kVgLabel};
constexpr Family kVgFree{"thinpool_lvm_vg_free_bytes",
                         "Unallocated space in the volume group (LVM metadata): what lvextend "
                         "--poolmetadatasize can still use.",
                         MetricType::Gauge, kVgLabel};
constexpr Family kSeqno{"thinpool_lvm_metadata_seqno",
                        "Sequence number of the volume group's LVM metadata; every LVM change "
                        "bumps it.",
                        MetricType::Gauge, kVgLabel};
constexpr Family kTransactionId{
    "thinpool_lvm_transaction_id",
    "The pool's transaction_id in LVM's metadata: LVM expects thinpool_transaction_id (the "
    "kernel's) to equal it; lvcreate fails while they differ.",
    MetricType::Gauge, kPoolLabelNames};
constexpr Family kMetadataLvSize{"thinpool_lvm_metadata_lv_size_bytes",
                                 "Size of the pool's metadata LV (_tmeta) in LVM's metadata.",
                                 MetricType::Gauge, kPoolLabelNames};
constexpr Family kPoolActive{
    "thinpool_lvm_pool_active",
    "1 for each thin pool in LVM's metadata that the kernel has active, 0 for one it has not (a "
    "pool that was deactivated, or failed to activate); pool is the dm name while active, empty "
    "while not.",
    MetricType::Gauge, kPoolLabelNames};
constexpr Family kLvmThinVolumes{
    "thinpool_lvm_thin_volumes",
    "Thin LVs of the pool in LVM's metadata, active or not (thinpool_thin_volumes counts only "
    "the active ones, and lvm2 does not activate thin snapshots by default).",
    MetricType::Gauge, kPoolLabelNames};
constexpr Family kLvmProvisioned{
    "thinpool_lvm_provisioned_bytes",
    "Virtual size of all thin LVs of the pool in LVM's metadata, active or not.", MetricType::Gauge,
    kPoolLabelNames};
constexpr Family kLvmSnapshots{
    "thinpool_lvm_snapshots",
    "Thin LVs of the pool in LVM's metadata that are thin snapshots (they have an origin), "
    "active or not: each keeps blocks and metadata of its origin alive.",
    MetricType::Gauge, kPoolLabelNames};
constexpr Family kMetadataAreaSize{
    "thinpool_lvm_metadata_area_size_bytes",
    "Size of the smallest LVM metadata area the volume group's PVs have (bytes, its header "
    "sector included). lvm2 keeps two copies of the VG's text in each area and refuses to commit "
    "one larger than (size - 512) / 2 - 512 bytes.",
    MetricType::Gauge, kVgLabel};
constexpr Family kMetadataAreaUsed{
    "thinpool_lvm_metadata_area_used_bytes",
    "Bytes of the volume group's current metadata text (it grows with every LV and segment).",
    MetricType::Gauge, kVgLabel};
constexpr Family kMissingPvs{
    "thinpool_lvm_vg_missing_pvs",
    "PVs the volume group's metadata lists that are flagged MISSING or that no scanned device "
    "holds (as vgs -o vg_missing_pv_count counts them); LVs with extents on them do not activate.",
    MetricType::Gauge, kVgLabel};
constexpr Family kAutoextendThreshold{
    "thinpool_lvm_autoextend_threshold_ratio",
    "Usage (data or metadata) above which lvm2 extends the pool when dmeventd monitors it: "
    "activation/thin_pool_autoextend_threshold from lvm.conf or the pool's profile, below 50% "
    "taken as 50% as lvm2 does; 1 when autoextend is disabled (a threshold of 100, or a percent "
    "of 0).",
    MetricType::Gauge, kPoolLabelNames};
constexpr Family kAutoextendStep{
    "thinpool_lvm_autoextend_step_ratio",
    "How much lvm2 grows the pool at each autoextend, as a ratio of its size "
    "(activation/thin_pool_autoextend_percent from lvm.conf or the pool's profile); 0 when "
    "autoextend is disabled.",
    MetricType::Gauge, kPoolLabelNames};
constexpr Family kDmeventdUp{
    "thinpool_lvm_dmeventd_up",
    "1 if dmeventd runs (its pid file is locked by a process called dmeventd), 0 if not: then no "
    "pool is monitored and nothing extends a pool by itself. Asked read-only; never started.",
    MetricType::Gauge,
    {}};
constexpr Family kMonitored{
    "thinpool_lvm_monitored",
    "1 if dmeventd monitors the active pool (what lvs -o seg_monitor calls monitored), 0 if not: "
    "autoextend only happens for monitored pools.",
    MetricType::Gauge, kPoolLabelNames};
constexpr Family kConfigReadSuccess{
    "thinpool_lvm_config_read_success",
    "1 if LVM's configuration (lvm.conf, lvmlocal.conf, the devices file, the pools' profiles) "
    "was read, 0 if not: the last good one is used and the log says why.",
    MetricType::Gauge,
    {}};
constexpr std::string_view kStuckLabels[] = {"vg", "device"};
constexpr Family kPvReadStuck{
    "thinpool_lvm_pv_read_stuck_seconds",
    "How long a read of this physical volume has been waiting for the device to answer (one "
    "that stopped answering: a multipath map with every path down, a hung iSCSI LUN). The VG is "
    "read from its other PVs or LVM's backup meanwhile; the PV is read again once the read "
    "returns.",
    MetricType::Gauge, kStuckLabels};

}  // namespace

struct LvmSeriesCache::VolumeGroupSeries : lvm::VolumeGroupDigest {
  std::string name;  // the VG's, as loaded
  // The VG it was made from: its identity, without keeping its LVs in memory once the metadata
  // cache let go of it (an expired one matches no VG).
  std::weak_ptr<const lvm::VolumeGroup> vg;
  bool volume_series = false;  // whether `volumes` was made
  uint64_t seqno = 0;
  uint64_t size_bytes = 0;
  uint64_t free_bytes = 0;
  std::vector<lvm::ThinPoolSummary> pools;
  LvmVolumeSeries volumes;  // the per-LV series (empty unless volume_series)

  bool made_from(const std::shared_ptr<const lvm::VolumeGroup>& group) const {
    return vg.lock() == group;  // two live objects never share an address
  }
};

namespace {

using VgSeries = LvmSeriesCache::VolumeGroupSeries;

// The entry of the VG `group` loaded as `name`: one pass over its LVs for the pools, another for
// the per-LV lines when `volume_series`.
LvmSeriesCache::Entry make_entry(const std::string& name,
                                 const std::shared_ptr<const lvm::VolumeGroup>& group,
                                 bool volume_series) {
  auto entry = std::make_shared<VgSeries>();
  entry->name = name;
  entry->vg = group;
  entry->volume_series = volume_series;
  entry->seqno = group->seqno;
  entry->size_bytes = group->size_bytes();
  entry->free_bytes = group->free_bytes();
  entry->pools = lvm::thin_pools(*group);
  if (volume_series) {
    lvm::for_each_thin_volume(*group, [&](const lvm::ThinVolumeSummary& volume) {
      const std::string_view origin =
          volume.origin.empty() ? volume.external_origin : volume.origin;
      entry->volumes.add(name, volume.thin_pool, volume.name, origin, volume.creation_time);
    });
    entry->volumes.shrink_to_fit();  // kept until LVM commits again
  }
  return entry;
}

// A gauge per volume group that was read.
void write_vg_gauge(const Family& family, const std::vector<LvmSeriesCache::Entry>& entries,
                    uint64_t VgSeries::*field, MetricWriter& out) {
  FamilySamples samples = out.family(family);
  for (const LvmSeriesCache::Entry& entry : entries) {
    samples.add({entry->name}, static_cast<double>((*entry).*field));
  }
}

// A thin pool in the metadata of a VG that was read (its summary in the VG's cache entry, which
// the scrape holds), and the kernel's pool for it (null while it is not active).
struct LvmPool {
  std::string_view vg;
  const lvm::ThinPoolSummary* summary = nullptr;
  const ThinPool* active = nullptr;

  std::array<std::string_view, 3> label_values() const {
    return {active != nullptr ? std::string_view(active->names.dm_name) : std::string_view(), vg,
            summary->lv};
  }
};

// Every thin pool of every VG that was read, with the kernel's pool for it: a pass over the
// pools, none over the LVs.
std::vector<LvmPool> lvm_pools(const std::vector<LvmSeriesCache::Entry>& entries,
                               const ThinInventory& inventory) {
  std::vector<LvmPool> pools;
  for (const LvmSeriesCache::Entry& entry : entries) {
    for (const lvm::ThinPoolSummary& summary : entry->pools) {
      auto active =
          std::find_if(inventory.pools.begin(), inventory.pools.end(), [&](const ThinPool& pool) {
            return pool.names.vg == entry->name && pool.names.lv == summary.lv;
          });
      pools.push_back(
          {entry->name, &summary, active != inventory.pools.end() ? &*active : nullptr});
    }
  }
  return pools;
}

// A gauge per thin pool in LVM's metadata, active or not.
void write_pool_gauge(const Family& family, const std::vector<LvmPool>& pools,
                      double (*value)(const LvmPool&), MetricWriter& out) {
  FamilySamples samples = out.family(family);
  for (const LvmPool& pool : pools) {
    samples.add(pool.label_values(), value(pool));
  }
}

// A gauge per thin pool the kernel has active (its series match the kernel's pool series).
void write_active_pool_gauge(const Family& family, const std::vector<LvmPool>& pools,
                             uint64_t lvm::ThinPoolSummary::*field, MetricWriter& out) {
  FamilySamples samples = out.family(family);
  for (const LvmPool& pool : pools) {
    if (pool.active != nullptr) {
      samples.add(pool.active->names.pool_label_values(),
                  static_cast<double>((*pool.summary).*field));
    }
  }
}

// Per pool in LVM's metadata, the autoextend policy lvm2 applies to it (dmeventd acts on it).
void write_autoextend_series(
    const std::vector<LvmPool>& pools,
    const std::function<std::optional<lvm::ThinPoolAutoextend>(const lvm::ThinPoolSummary&)>&
        policy_of,
    MetricWriter& out) {
  std::vector<std::optional<lvm::ThinPoolAutoextend>> policies;
  policies.reserve(pools.size());
  for (const LvmPool& pool : pools) {
    policies.push_back(policy_of(*pool.summary));
  }
  FamilySamples threshold = out.family(kAutoextendThreshold);
  for (size_t i = 0; i < pools.size(); ++i) {
    if (policies[i]) {
      threshold.add(
          pools[i].label_values(),
          policies[i]->enabled ? static_cast<double>(policies[i]->threshold_percent) / 100 : 1.0);
    }
  }
  FamilySamples step = out.family(kAutoextendStep);
  for (size_t i = 0; i < pools.size(); ++i) {
    if (policies[i]) {
      step.add(pools[i].label_values(),
               policies[i]->enabled ? static_cast<double>(policies[i]->percent) / 100 : 0.0);
    }
  }
}

// The per-LV series of every thin LV of every VG that was read, from what was kept once per VG.
void write_volume_series(const std::vector<LvmSeriesCache::Entry>& entries, MetricWriter& out) {
  FamilySamples created = out.family(kLvmVolumeCreation);
  for (const LvmSeriesCache::Entry& entry : entries) {
    entry->volumes.write_creation(created);
  }
  FamilySamples info = out.family(kLvmVolumeInfo);
  for (const LvmSeriesCache::Entry& entry : entries) {
    entry->volumes.write_info(info);
  }
}

}  // namespace

MonitoringView monitoring_view(const Expected<MonitorStatus>& status,
                               const std::vector<std::string>& uuids) {
  MonitoringView view;
  if (!status || !status->daemon_up) {
    for (const std::string& uuid : uuids) {
      view.monitored.emplace(uuid, false);  // no dmeventd: nothing watches any pool
    }
    return view;
  }
  view.daemon_up = true;
  for (const auto& [uuid, answer] : status->monitored) {
    if (answer) {
      view.monitored.emplace(uuid, *answer == MonitorState::kMonitored);
    }
  }
  return view;
}

std::vector<LvmSeriesCache::Entry> LvmSeriesCache::entries(const LoadedVolumeGroups& groups,
                                                           bool volume_series) {
  std::vector<Entry> found;
  std::lock_guard lock(mutex_);
  std::erase_if(entries_, [&](const auto& entry) { return !groups.contains(entry.first); });
  for (const auto& [name, loaded] : groups) {
    if (!loaded) {
      continue;  // its entry stays for when it reads again
    }
    if (auto kept = std::dynamic_pointer_cast<const VgSeries>(loaded->digest);
        kept != nullptr && kept->volume_series == volume_series) {
      entries_.erase(name);  // the metadata cache holds it, and lets go of it when LVM commits
      found.push_back(std::move(kept));
      continue;
    }
    Entry& entry = entries_[name];
    if (entry == nullptr || entry->volume_series != volume_series ||
        !entry->made_from(loaded->vg)) {
      entry = make_entry(name, loaded->vg, volume_series);
      ++made_;
    }
    found.push_back(entry);
  }
  return found;
}

void keep_as_digests(LoadedVolumeGroups& groups, const std::vector<LvmSeriesCache::Entry>& entries,
                     lvm::VolumeGroupCache& cache) {
  bool released = false;
  for (const LvmSeriesCache::Entry& series : entries) {
    auto group = groups.find(series->name);
    if (group == groups.end() || !group->second || group->second->digest == series) {
      continue;  // not loaded, or made from its digest
    }
    std::shared_ptr<const lvm::VolumeGroup> without_lvs = cache.keep_digest(*group->second, series);
    released = released || without_lvs != group->second->vg;
    group->second->vg = std::move(without_lvs);
  }
  if (released) {
    // The LVs' pages go back to the kernel before the body is written: glibc keeps freed heap
    // pages resident otherwise, and the body does not fit in the holes they leave. Once per
    // version LVM commits (0.1 to 0.3 ms at 10,000 LVs, as after a parse).
    malloc_trim(0);
  }
}

uint64_t LvmSeriesCache::made() const {
  std::lock_guard lock(mutex_);
  return made_;
}

void write_lvm_series(const LoadedVolumeGroups& groups, const ThinInventory& inventory,
                      const std::vector<StuckRead>& stuck, const LvmSeriesOptions& options,
                      LvmSeriesCache& cache, MetricWriter& out) {
  write_lvm_series(groups, inventory, stuck, options, cache.entries(groups, options.volume_series),
                   out);
}

void write_lvm_series(const LoadedVolumeGroups& groups, const ThinInventory& inventory,
                      const std::vector<StuckRead>& stuck, const LvmSeriesOptions& options,
                      const std::vector<LvmSeriesCache::Entry>& entries, MetricWriter& out) {
  FamilySamples read_success = out.family(kReadSuccess);
  for (const auto& [vg, loaded] : groups) {
    read_success.add({vg}, loaded ? 1 : 0);
  }
  FamilySamples vg_info = out.family(kVgInfo);
  for (const auto& [vg, loaded] : groups) {
    if (loaded) {
      vg_info.add({vg, loaded->vg->id, lvm::to_string(loaded->source), loaded->origin}, 1);
    }
  }
  write_vg_gauge(kVgSize, entries, &VgSeries::size_bytes, out);
  write_vg_gauge(kVgFree, entries, &VgSeries::free_bytes, out);
  write_vg_gauge(kSeqno, entries, &VgSeries::seqno, out);
  const std::vector<LvmPool> pools = lvm_pools(entries, inventory);
  write_active_pool_gauge(kTransactionId, pools, &lvm::ThinPoolSummary::transaction_id, out);
  write_active_pool_gauge(kMetadataLvSize, pools, &lvm::ThinPoolSummary::metadata_size_bytes, out);
  write_pool_gauge(
      kPoolActive, pools, [](const LvmPool& pool) { return pool.active != nullptr ? 1.0 : 0.0; },
      out);
  write_pool_gauge(
      kLvmThinVolumes, pools,
      [](const LvmPool& pool) { return static_cast<double>(pool.summary->thin_volume_count); },
      out);
  write_pool_gauge(
      kLvmProvisioned, pools,
      [](const LvmPool& pool) { return static_cast<double>(pool.summary->provisioned_bytes); },
      out);
  write_pool_gauge(
      kLvmSnapshots, pools,
      [](const LvmPool& pool) { return static_cast<double>(pool.summary->snapshot_count); }, out);
  {
    FamilySamples area_size = out.family(kMetadataAreaSize);
    for (const auto& [vg, loaded] : groups) {
      if (loaded && loaded->smallest_metadata_area_bytes != 0) {
        area_size.add({vg}, static_cast<double>(loaded->smallest_metadata_area_bytes));
      }
    }
    FamilySamples area_used = out.family(kMetadataAreaUsed);
    for (const auto& [vg, loaded] : groups) {
      if (loaded && loaded->smallest_metadata_area_bytes != 0) {
        area_used.add({vg}, static_cast<double>(loaded->metadata_text_bytes));
      }
    }
  }
  {
    FamilySamples missing = out.family(kMissingPvs);
    for (const auto& [vg, loaded] : groups) {
      if (loaded) {
        missing.add({vg}, static_cast<double>(lvm::missing_pv_count(*loaded->vg, options.present)));
      }
    }
  }
  if (options.volume_series) {
    write_volume_series(entries, out);
  }
  if (options.autoextend) {
    write_autoextend_series(pools, options.autoextend, out);
  }
  if (options.monitoring) {
    out.family(kDmeventdUp).add({}, options.monitoring->daemon_up ? 1 : 0);
    FamilySamples monitored = out.family(kMonitored);
    for (const LvmPool& pool : pools) {
      if (pool.active == nullptr) {
        continue;
      }
      auto answer = options.monitoring->monitored.find(pool.active->uuid);
      if (answer != options.monitoring->monitored.end()) {
        monitored.add(pool.label_values(), answer->second ? 1 : 0);
      }
    }
  }
  if (std::optional<bool> read = options.config_read ? options.config_read() : std::nullopt) {
    out.family(kConfigReadSuccess).add({}, *read ? 1 : 0);
  }
  FamilySamples stuck_reads = out.family(kPvReadStuck);
  for (const StuckRead& read : stuck) {
    stuck_reads.add({read.vg, read.device}, read.seconds);
  }
}

}  // namespace thinpool
