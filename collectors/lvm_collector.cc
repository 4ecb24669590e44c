#include "collectors/lvm_collector.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <fstream>

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

// A gauge per volume group that was read.
void write_vg_gauge(const Family& family, const LoadedVolumeGroups& groups,
                    uint64_t (*value)(const lvm::VolumeGroup&), MetricWriter& out) {
  FamilySamples samples = out.family(family);
  for (const auto& [vg, loaded] : groups) {
    if (loaded) {
      samples.add({vg}, static_cast<double>(value(*loaded->vg)));
    }
  }
}

// The LVM pool summaries of `inventory`'s pools whose VG was read, with the pool they describe.
template <typename Write>
void for_each_pool_summary(const LoadedVolumeGroups& groups, const ThinInventory& inventory,
                           Write write) {
  for (const ThinPool& pool : inventory.pools) {
    auto group = groups.find(pool.names.vg);
    if (group == groups.end() || !group->second) {
      continue;
    }
    for (const lvm::ThinPoolSummary& summary : lvm::thin_pools(*group->second->vg)) {
      if (summary.lv == pool.names.lv) {
        write(pool, summary);
      }
    }
  }
}

}  // namespace

Expected<std::unique_ptr<lvm::BlockReader>> open_block_device(DeviceNumber dev) {
  std::vector<std::string> candidates;
  std::ifstream uevent(fmt::format("/sys/dev/block/{}/uevent", to_string(dev)));
  for (std::string line; std::getline(uevent, line);) {
    if (line.starts_with("DEVNAME=")) {
      candidates.push_back("/dev/" + line.substr(8));
    }
  }
  candidates.push_back(fmt::format("/dev/block/{}", to_string(dev)));
  std::string reasons;
  for (const std::string& path : candidates) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISBLK(st.st_mode) || major(st.st_rdev) != dev.major ||
        minor(st.st_rdev) != dev.minor) {
      reasons += fmt::format("{}{} is not block device {}", reasons.empty() ? "" : "; ", path,
                             to_string(dev));
      continue;
    }
    auto reader = lvm::FileBlockReader::open(path);
    if (!reader) {
      return reader.error();
    }
    return std::unique_ptr<lvm::BlockReader>(std::move(*reader));
  }
  return Error{fmt::format("no device node for {}: {}", to_string(dev), reasons)};
}

LvmCollector::LvmCollector(std::string backup_dir, BlockDeviceOpener opener)
    : backup_dir_(std::move(backup_dir)),
      opener_(std::move(opener)),
      failures_(spdlog::level::warn, "lvm: cannot read the metadata of volume group {}: {}",
                "lvm: the metadata of volume group {} reads again") {}

Expected<lvm::LoadedVolumeGroup> LvmCollector::load_group(
    const std::string& vg, const std::vector<DeviceNumber>& physical_devices) {
  std::string reasons;
  auto note = [&](const std::string& reason) { reasons += (reasons.empty() ? "" : "; ") + reason; };
  // Any PV with a metadata area holds the whole VG's metadata; the first that reads wins.
  for (DeviceNumber dev : physical_devices) {
    auto reader = opener_(dev);
    if (!reader) {
      note(reader.error().message);
      continue;
    }
    auto loaded = cache_.load_from_pv(**reader);
    if (!loaded) {
      note(loaded.error().message);
      continue;
    }
    if (loaded->vg->name != vg) {
      note(fmt::format("{} holds volume group \"{}\"", (*reader)->name(), loaded->vg->name));
      continue;
    }
    return loaded;
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

LoadedVolumeGroups LvmCollector::load(const ThinInventory& inventory) {
  // The PVs of each VG: the block devices its pools stand on.
  std::map<std::string, std::vector<DeviceNumber>> physical_devices;
  for (const ThinPool& pool : inventory.pools) {
    if (pool.names.vg.empty()) {
      continue;  // not an LVM pool
    }
    std::vector<DeviceNumber>& devices = physical_devices[pool.names.vg];
    for (DeviceNumber dev : pool.bottom_devices) {
      if (std::find(devices.begin(), devices.end(), dev) == devices.end()) {
        devices.push_back(dev);
      }
    }
  }
  LoadedVolumeGroups groups;
  for (const auto& [vg, devices] : physical_devices) {
    auto loaded = load_group(vg, devices);
    if (loaded) {
      failures_.working(vg);
    } else {
      failures_.failing(vg, loaded.error().message);
    }
    groups.emplace(vg, std::move(loaded));
  }
  return groups;
}

void write_lvm_series(const LoadedVolumeGroups& groups, const ThinInventory& inventory,
                      MetricWriter& out) {
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
  write_vg_gauge(
      kVgSize, groups, [](const lvm::VolumeGroup& group) { return group.size_bytes(); }, out);
  write_vg_gauge(
      kVgFree, groups, [](const lvm::VolumeGroup& group) { return group.free_bytes(); }, out);
  write_vg_gauge(
      kSeqno, groups, [](const lvm::VolumeGroup& group) { return group.seqno; }, out);
  FamilySamples transaction_id = out.family(kTransactionId);
  for_each_pool_summary(groups, inventory,
                        [&](const ThinPool& pool, const lvm::ThinPoolSummary& summary) {
                          transaction_id.add(pool.names.pool_label_values(),
                                             static_cast<double>(summary.transaction_id));
                        });
  FamilySamples metadata_lv_size = out.family(kMetadataLvSize);
  for_each_pool_summary(groups, inventory,
                        [&](const ThinPool& pool, const lvm::ThinPoolSummary& summary) {
                          metadata_lv_size.add(pool.names.pool_label_values(),
                                               static_cast<double>(summary.metadata_size_bytes));
                        });
}

Status LvmCollector::collect(ScrapeContext& context, MetricWriter& out) {
  const auto& inventory = context.inventory();
  if (!inventory) {
    return inventory.error();
  }
  write_lvm_series(load(*inventory), *inventory, out);
  return {};
}

CollectorDefinition lvm_collector_definition() {
  return {"lvm",
          true,
          "LVM's own view of each LVM pool (expected transaction id, VG size and free space), read "
          "from the PVs' metadata areas or LVM's backups, without running lvm",
          {{"backup-dir", "/etc/lvm/backup",
            "Where LVM writes its text metadata backups; the lvm collector reads them when no "
            "physical volume can be read (empty: never)."}},
          [](const CollectorDependencies& dependencies) {
            return std::make_unique<LvmCollector>(dependencies.option("backup-dir"),
                                                  dependencies.open_block_device
                                                      ? dependencies.open_block_device
                                                      : open_block_device);
          }};
}

}  // namespace thinpool
