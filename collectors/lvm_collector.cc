#include "collectors/lvm_collector.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <utility>

namespace thinpool {
namespace {

constexpr std::string_view kDefaultConfigDir = "/etc/lvm";

}  // namespace

LvmCollector::LvmCollector(std::string backup_dir, BlockDeviceOpener opener,
                           const std::shared_ptr<BlockingCallPool>& threads, bool volume_series,
                           std::unique_ptr<PvScanner> scanner, std::string config_dir)
    : backup_dir_(std::move(backup_dir)),
      volume_series_(volume_series),
      opener_(std::move(opener)),
      reads_(threads),
      scanner_(std::move(scanner)),
      label_reads_(threads),
      config_dir_(std::move(config_dir)),
      config_failures_(spdlog::level::warn, "lvm: cannot read LVM's configuration ({}): {}",
                       "lvm: LVM's configuration ({}) reads again"),
      dmeventd_failures_(spdlog::level::warn, "lvm: cannot ask dmeventd ({}): {}",
                         "lvm: dmeventd answers again ({})"),
      failures_(spdlog::level::warn, "lvm: cannot read the metadata of volume group {}: {}",
                "lvm: the metadata of volume group {} reads again"),
      stuck_(spdlog::level::warn, "lvm: a read of {} has not returned: {}",
             "lvm: {} answers again"),
      scan_failures_(spdlog::level::warn, "lvm: cannot {} the host's block devices for PVs: {}",
                     "lvm: the {} of the host's block devices works again") {}

LvmCollector::PvRead LvmCollector::start_pv_read(DeviceNumber dev) {
  // A read another scrape started a moment ago is shared (two Prometheus servers scraping at once
  // both get the VG); one a scrape already gave up on is not waited for again.
  return reads_.start(to_string(dev), WhenBusy::kJoinUnlessStuck,
                      [this, dev]() -> Expected<lvm::LoadedVolumeGroup> {
                        auto reader = opener_(dev);
                        if (!reader) {
                          return reader.error();
                        }
                        return cache_.load_from_pv(**reader);
                      });
}

std::optional<Expected<lvm::LoadedVolumeGroup>> LvmCollector::finish_pv_read(
    DeviceNumber dev, const std::string& vg, const PvRead& read, Clock::time_point deadline) {
  using Reads = decltype(reads_);
  const std::string key = to_string(dev);
  auto result = reads_.wait(read, deadline);
  if (result.outcome != Reads::Outcome::kDone) {
    // The node's name (from sysfs) only for what is reported: a healthy PV costs no sysfs read.
    const std::string node = device_node(dev);
    const double seconds = std::chrono::duration<double>(Clock::now() - result.started).count();
    {
      std::lock_guard lock(stuck_mutex_);
      read_for_.try_emplace(key, StuckRead{vg, node, 0});
    }
    stuck_.failing(node, "stuck",
                   fmt::format("waiting {:.0f} s for {} (volume group {}); read from its other "
                               "PVs or the backup until it answers",
                               seconds, node, vg.empty() ? "not known yet" : vg));
    return std::nullopt;
  }
  {
    std::lock_guard lock(stuck_mutex_);
    if (auto stuck = read_for_.find(key); stuck != read_for_.end()) {
      stuck_.working(stuck->second.device);
      read_for_.erase(stuck);
    }
  }
  if (!result.value) {
    return Expected<lvm::LoadedVolumeGroup>(
        Error{fmt::format("{}: the read failed unexpectedly", device_node(dev))});
  }
  return *result.value;
}

std::optional<Expected<lvm::LoadedVolumeGroup>> LvmCollector::read_pv(DeviceNumber dev,
                                                                      const std::string& vg,
                                                                      Clock::time_point deadline) {
  return finish_pv_read(dev, vg, start_pv_read(dev), deadline);
}

Expected<lvm::LoadedVolumeGroup> LvmCollector::load_group(
    const std::string& vg, const std::vector<DeviceNumber>& physical_devices,
    Clock::time_point deadline) {
  std::string reasons;
  auto note = [&](const std::string& reason) { reasons += (reasons.empty() ? "" : "; ") + reason; };
  // Any PV with a metadata area holds the whole VG's metadata; the first that reads wins.
  for (DeviceNumber dev : physical_devices) {
    std::optional<Expected<lvm::LoadedVolumeGroup>> loaded = read_pv(dev, vg, deadline);
    if (!loaded) {
      note(fmt::format("{} does not answer", device_node(dev)));  // no seconds: stays the same
      continue;
    }
    if (!*loaded) {
      note(loaded->error().message);
      continue;
    }
    if ((*loaded)->vg->name != vg) {
      note(fmt::format("{} holds volume group \"{}\"", (*loaded)->origin, (*loaded)->vg->name));
      continue;
    }
    return std::move(*loaded);
  }
  if (!backup_dir_.empty()) {
    auto loaded = cache_.load_from_backup(backup_dir_, vg);
    if (loaded) {
      return loaded;
    }
    note(loaded.error().message);
  }
  return Error{reasons.empty() ? "no physical volume found for the pool" : reasons};
}

void LvmCollector::load_scanned(const ThinInventory& inventory, LoadedVolumeGroups& groups,
                                Clock::time_point deadline) {
  if (scanner_ == nullptr) {
    return;
  }
  std::unique_lock scanning(scan_mutex_, std::try_to_lock);
  if (scanning.owns_lock()) {
    using Labels = decltype(label_reads_);
    // New devices' labels get half the time left: a device that hangs on its first read leaves
    // the other half to the VGs' reads (it is not asked again while that read is in flight).
    const Clock::time_point now = Clock::now();
    const Clock::time_point labels_by = now < deadline ? now + (deadline - now) / 2 : deadline;
    auto scanned = scanner_->scan(
        [&](const BlockDevice& device) {
          auto result = label_reads_.run(to_string(device.dev), labels_by, WhenBusy::kSkip,
                                         [this, dev = device.dev]() -> Expected<lvm::PvLabel> {
                                           auto reader = opener_(dev);
                                           if (!reader) {
                                             return reader.error();
                                           }
                                           return lvm::read_pv_label(**reader);
                                         });
          std::optional<Expected<lvm::PvLabel>> label;
          if (result.outcome == Labels::Outcome::kDone && result.value) {
            label = *result.value;
          }
          return label;
        },
        [&inventory] {
          // The thin volumes device-mapper's tables say are LVM's: the list need not read their
          // uuid.
          std::vector<DeviceNumber> lvs;
          lvs.reserve(inventory.volumes.size());
          for (const ThinVolume& volume : inventory.volumes) {
            if (!volume.names().vg().empty()) {
              lvs.push_back(volume.dev);
            }
          }
          return lvs;
        });
    std::lock_guard lock(found_mutex_);
    scanned_ = scanned.ok();
    if (scanned) {
      scan_failures_.working("scan");
      found_ = std::move(*scanned);
      present_.clear();
      for (const ScannedDevice& pv : found_) {
        present_.insert(pv.label->pv_uuid);
      }
    } else {
      scan_failures_.failing("scan", scanned.error().message);
    }
  }
  std::vector<ScannedDevice> found;
  {
    std::lock_guard lock(found_mutex_);
    found = found_;
  }
  // One PV per VG known from earlier scrapes, and every PV whose VG is not known yet, read at once
  // (in parallel: a PV that does not answer takes no time from the others); a VG whose chosen PV
  // did not read is then read from its other PVs in turn.
  struct Chosen {
    const ScannedDevice* pv;
    std::string vg;  // from an earlier scrape, or ""
    PvRead read;
  };
  std::vector<Chosen> chosen;
  std::vector<std::pair<const ScannedDevice*, std::string>> others;
  {
    std::set<std::string> picked;
    std::lock_guard lock(found_mutex_);
    for (const ScannedDevice& pv : found) {
      if (pv.label->metadata_areas.empty()) {
        continue;  // a PV made with --metadatacopies 0: present, but holds no VG text
      }
      auto known = vg_of_.find(pv.device.dev);
      const std::string vg = known != vg_of_.end() ? known->second : std::string();
      if (!vg.empty() && !picked.insert(vg).second) {
        others.emplace_back(&pv, vg);
      } else {
        chosen.push_back({&pv, vg, {}});
      }
    }
  }
  for (Chosen& pick : chosen) {
    pick.read = start_pv_read(pick.pv->device.dev);
  }
  auto take = [&](const ScannedDevice& pv, const std::string& vg,
                  std::optional<Expected<lvm::LoadedVolumeGroup>> loaded) {
    if (!loaded || !*loaded) {
      // A PV outside any VG, or one that does not read: the VG's other PVs may (or the backup).
      if (!vg.empty()) {
        groups.try_emplace(
            vg, loaded ? loaded->error()
                       : Error{fmt::format("{} does not answer", device_node(pv.device.dev))});
      }
      return;
    }
    const std::string& name = (*loaded)->vg->name;
    {
      std::lock_guard lock(found_mutex_);
      vg_of_[pv.device.dev] = name;
    }
    auto [group, inserted] = groups.try_emplace(name, std::move(*loaded));
    if (!inserted && !group->second) {
      group->second = std::move(*loaded);
    }
  };
  for (const Chosen& pick : chosen) {
    take(*pick.pv, pick.vg, finish_pv_read(pick.pv->device.dev, pick.vg, pick.read, deadline));
  }
  for (const auto& [pv, vg] : others) {
    auto group = groups.find(vg);
    if (group == groups.end() || !group->second) {
      take(*pv, vg, read_pv(pv->device.dev, vg, deadline));
    }
  }
  // The smallest metadata area of each VG, over every PV of it the scan found.
  for (auto& [name, loaded] : groups) {
    if (!loaded || loaded->source != lvm::MetadataSource::kPhysicalVolume) {
      continue;
    }
    for (const ScannedDevice& pv : found) {
      const auto& pvs = loaded->vg->pvs;
      if (std::none_of(pvs.begin(), pvs.end(), [&](const lvm::PhysicalVolume& listed) {
            return listed.id == pv.label->pv_uuid;
          })) {
        continue;
      }
      for (const lvm::DiskArea& area : pv.label->metadata_areas) {
        if (area.size < loaded->smallest_metadata_area_bytes) {
          loaded->smallest_metadata_area_bytes = area.size;
        }
      }
    }
  }
}

std::optional<MonitoringView> LvmCollector::ask_dmeventd(const ThinInventory& inventory,
                                                         Clock::time_point deadline) {
  if (dmeventd_ == nullptr) {
    return std::nullopt;
  }
  std::unique_lock asking(dmeventd_mutex_, std::try_to_lock);
  if (!asking.owns_lock()) {
    std::lock_guard lock(found_mutex_);
    return last_monitoring_;
  }
  std::vector<std::string> uuids;
  for (const ThinPool& pool : inventory.pools) {
    if (!pool.names.vg.empty()) {
      uuids.push_back(pool.uuid);
    }
  }
  Expected<MonitorStatus> status = query_monitoring(*dmeventd_, uuids, deadline);
  if (status) {
    dmeventd_failures_.working("dmeventd");
  } else {
    dmeventd_failures_.failing("dmeventd", status.error().message);
  }
  MonitoringView view = monitoring_view(status, uuids);
  std::lock_guard lock(found_mutex_);
  last_monitoring_ = view;
  return view;
}

std::function<bool(const lvm::PhysicalVolume&)> LvmCollector::presence() const {
  std::lock_guard lock(found_mutex_);
  if (scanner_ == nullptr || !scanned_) {
    return nullptr;
  }
  return [present = present_](const lvm::PhysicalVolume& pv) { return present.contains(pv.id); };
}

std::vector<StuckRead> LvmCollector::stuck_reads() const {
  std::vector<StuckRead> stuck;
  std::lock_guard lock(stuck_mutex_);
  for (const auto& flight : reads_.outstanding()) {
    auto what = read_for_.find(flight.key);
    if (what != read_for_.end()) {
      StuckRead read = what->second;
      read.seconds = std::chrono::duration<double>(Clock::now() - flight.since).count();
      stuck.push_back(std::move(read));
    }
  }
  return stuck;
}

LoadedVolumeGroups LvmCollector::load(const ThinInventory& inventory, Clock::time_point deadline) {
  LoadedVolumeGroups groups;
  load_scanned(inventory, groups, deadline);
  // The PVs of each VG the scan did not read: the block devices its pools stand on.
  std::map<std::string, std::vector<DeviceNumber>> physical_devices;
  for (const ThinPool& pool : inventory.pools) {
    auto scanned = groups.find(pool.names.vg);
    if (pool.names.vg.empty() || (scanned != groups.end() && scanned->second)) {
      continue;  // not an LVM pool, or its VG is read
    }
    std::vector<DeviceNumber>& devices = physical_devices[pool.names.vg];
    for (DeviceNumber dev : pool.physical_devices) {
      if (std::find(devices.begin(), devices.end(), dev) == devices.end()) {
        devices.push_back(dev);
      }
    }
  }
  for (const auto& [vg, devices] : physical_devices) {
    groups.insert_or_assign(vg, load_group(vg, devices, deadline));
  }
  for (const auto& [vg, loaded] : groups) {
    if (loaded) {
      failures_.working(vg);
    } else {
      failures_.failing(vg, loaded.error().message);
    }
  }
  return groups;
}

Expected<Collector::Writer> LvmCollector::read(ScrapeContext& context) {
  const auto& inventory = context.inventory();
  if (!inventory) {
    return inventory.error();
  }
  // A little of the scrape's time is kept for writing the series.
  const Clock::time_point now = Clock::now();
  const Clock::time_point deadline = context.deadline() - std::chrono::milliseconds(100) > now
                                         ? context.deadline() - std::chrono::milliseconds(100)
                                         : now;
  {
    std::unique_lock configuring(scan_mutex_, std::try_to_lock);
    if (configuring.owns_lock()) {
      refresh_config();
    }
  }
  auto groups = std::make_shared<LoadedVolumeGroups>(load(**inventory, deadline));
  LvmSeriesOptions options{volume_series_, nullptr, nullptr, presence(), std::nullopt};
  if (!config_dir_.empty()) {
    {
      std::lock_guard lock(found_mutex_);
      profiles_read_ = true;
    }
    options.autoextend = [this](const lvm::ThinPoolSummary& pool) { return autoextend(pool); };
    // Asked after the pools' series: a profile that does not read counts too.
    options.config_read = [this]() -> std::optional<bool> {
      std::lock_guard lock(found_mutex_);
      return config_read_ && profiles_read_;
    };
  }
  options.monitoring = ask_dmeventd(**inventory, deadline);
  std::vector<LvmSeriesCache::Entry> entries = series_cache_.entries(*groups, volume_series_);
  keep_as_digests(*groups, entries, cache_);
  return Writer{[groups, pools = *inventory, stuck = stuck_reads(), options = std::move(options),
                 entries = std::move(entries)](MetricWriter& out) {
    write_lvm_series(*groups, *pools, stuck, options, entries, out);
    return Status{};
  }};
}

Status LvmCollector::collect(ScrapeContext& context, MetricWriter& out) {
  Expected<Writer> writer = read(context);
  if (!writer) {
    return writer.error();
  }
  return (*writer)(out);
}

CollectorDefinition lvm_collector_definition() {
  return {"lvm",
          true,
          "LVM's own view of each LVM pool (expected transaction id, VG size and free space), read "
          "from the PVs' metadata areas or LVM's backups, without running lvm",
          {{"backup-dir", "/etc/lvm/backup",
            "Where LVM writes its text metadata backups; the lvm collector reads them when no "
            "physical volume can be read (empty: never)."},
           {"config-dir", std::string(kDefaultConfigDir),
            "LVM's configuration folder: lvm.conf's filters, scan_lvs and devices file decide "
            "which block devices are scanned for PVs, as lvm2 itself does (empty: scan every "
            "device)."},
           {"dmeventd", "true",
            "Ask dmeventd (read-only, never started) whether it monitors each active LVM pool: "
            "thinpool_lvm_monitored, thinpool_lvm_dmeventd_up. Turn off where the exporter cannot "
            "see the host's dmeventd (a container without the host's /run): those series are then "
            "left out rather than reported as 0",
            true},
           {"volume-series", "true",
            "Export two series per thin LV in LVM's metadata "
            "(thinpool_lvm_volume_creation_timestamp_seconds, thinpool_lvm_volume_info): about "
            "200 bytes per LV and scrape",
            true}},
          [](const CollectorDependencies& dependencies) {
            std::unique_ptr<PvScanner> scanner;
            std::string config_dir = dependencies.option("config-dir");
            if (!dependencies.scan_block_devices && config_dir == kDefaultConfigDir) {
              config_dir.clear();  // fixture runs: the host's lvm.conf only when asked for
            }
            if (dependencies.scan_block_devices) {
              scanner = std::make_unique<PvScanner>(sysfs_block_devices(), PvScanner::Options{});
            }
            auto collector = std::make_unique<LvmCollector>(
                dependencies.option("backup-dir"),
                dependencies.open_block_device ? dependencies.open_block_device
                                               : remembering_block_device_opener(),
                dependencies.threads, dependencies.enabled("volume-series"), std::move(scanner),
                config_dir);
            if (dependencies.scan_block_devices && dependencies.enabled("dmeventd")) {
              collector->set_dmeventd(std::make_unique<DmeventdClient>());
            }
            return collector;
          }};
}

}  // namespace thinpool
