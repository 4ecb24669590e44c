#include "collectors/lvm_collector.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fstream>

#include "base/text.h"
#include "exposition/metric_families.h"

namespace thinpool {
namespace {

// Every "<major>:<minor>" in a linear or striped table line: the devices the LV sits on.
std::vector<DeviceNumber> devices_in_table(const DmTarget& target) {
  std::vector<DeviceNumber> devices;
  if (target.type != "linear" && target.type != "striped") {
    return devices;
  }
  for (std::string_view field : split_fields(target.params)) {
    if (field.find(':') != std::string_view::npos) {
      if (auto dev = parse_device_number(field)) {
        devices.push_back(*dev);
      }
    }
  }
  return devices;
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

LvmCollector::LvmCollector(DeviceMapper& device_mapper, std::string backup_dir,
                           BlockDeviceOpener opener)
    : device_mapper_(device_mapper),
      backup_dir_(std::move(backup_dir)),
      opener_(std::move(opener)) {}

std::vector<DeviceNumber> LvmCollector::physical_devices(const ThinPool& pool,
                                                         const ThinInventory& inventory) {
  std::vector<DeviceNumber> devices;
  for (DeviceNumber sub_lv : {pool.table.metadata_dev, pool.table.data_dev}) {
    auto device = inventory.pool_sub_devices.find(sub_lv);
    if (device == inventory.pool_sub_devices.end()) {
      continue;
    }
    auto table = device_mapper_.table(device->second);
    if (!table || !table->exists) {
      continue;
    }
    for (const DmTarget& target : table->targets) {
      for (DeviceNumber dev : devices_in_table(target)) {
        if (std::find(devices.begin(), devices.end(), dev) == devices.end()) {
          devices.push_back(dev);
        }
      }
    }
  }
  return devices;
}

Expected<lvm::LoadedVolumeGroup> LvmCollector::load(const ThinPool& pool,
                                                    const ThinInventory& inventory) {
  std::string reasons;
  auto note = [&](const std::string& reason) { reasons += (reasons.empty() ? "" : "; ") + reason; };
  // Any PV with a metadata area holds the whole VG's metadata; the first that reads wins.
  for (DeviceNumber dev : physical_devices(pool, inventory)) {
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
    if (loaded->vg->name != pool.names.vg) {
      note(fmt::format("{} holds volume group \"{}\"", (*reader)->name(), loaded->vg->name));
      continue;
    }
    return loaded;
  }
  if (!backup_dir_.empty()) {
    auto loaded = cache_.load_from_backup(backup_dir_, pool.names.vg);
    if (loaded) {
      return loaded;
    }
    note(loaded.error().message);
  }
  return Error{reasons.empty() ? "no physical volume found for the pool" : reasons};
}

void LvmCollector::log_failure(const std::string& vg, const std::string& reason) {
  std::lock_guard lock(log_mutex_);
  auto [it, inserted] = logged_failures_.try_emplace(vg, reason);
  if (inserted || it->second != reason) {
    it->second = reason;
    spdlog::warn("lvm: cannot read the metadata of volume group {}: {}", vg, reason);
  } else {
    spdlog::debug("lvm: cannot read the metadata of volume group {}: {}", vg, reason);
  }
}

Status LvmCollector::collect(ScrapeContext& context, std::vector<prometheus::MetricFamily>& out) {
  const auto& inventory = context.inventory();
  if (!inventory) {
    return inventory.error();
  }
  FamilyBuilder read_success("thinpool_lvm_vg_read_success",
                             "1 if the volume group's LVM metadata was read (from a PV's metadata "
                             "area or LVM's backup), 0 if not (the log says why).");
  FamilyBuilder vg_info(
      "thinpool_lvm_vg_info",
      "Constant 1 per volume group; source is pv (the metadata area on disk) "
      "or backup (LVM's text backup, possibly older), origin the device or file.");
  FamilyBuilder vg_size("thinpool_lvm_vg_size_bytes", "Size of the volume group (LVM metadata).");
  FamilyBuilder vg_free("thinpool_lvm_vg_free_bytes",
                        "Unallocated space in the volume group (LVM metadata): what lvextend "
                        "--poolmetadatasize can still use.");
  FamilyBuilder seqno("thinpool_lvm_metadata_seqno",
                      "Sequence number of the volume group's LVM metadata; every LVM change "
                      "bumps it.");
  FamilyBuilder transaction_id(
      "thinpool_lvm_transaction_id",
      "The pool's transaction_id in LVM's metadata: LVM expects thinpool_transaction_id (the "
      "kernel's) to equal it; lvcreate fails while they differ.");
  FamilyBuilder metadata_lv_size("thinpool_lvm_metadata_lv_size_bytes",
                                 "Size of the pool's metadata LV (_tmeta) in LVM's metadata.");

  std::map<std::string, Expected<lvm::LoadedVolumeGroup>> loaded;
  for (const ThinPool& pool : inventory->pools) {
    if (pool.names.vg.empty() || loaded.contains(pool.names.vg)) {
      continue;
    }
    auto result = load(pool, *inventory);
    const std::string& vg = pool.names.vg;
    read_success.add({{"vg", vg}}, result ? 1 : 0);
    if (!result) {
      log_failure(vg, result.error().message);
    } else {
      {
        std::lock_guard lock(log_mutex_);
        if (logged_failures_.erase(vg) > 0) {
          spdlog::info("lvm: the metadata of volume group {} reads again", vg);
        }
      }
      const lvm::VolumeGroup& group = *result->vg;
      vg_info.add({{"vg", vg},
                   {"vg_uuid", group.id},
                   {"source", std::string(lvm::to_string(result->source))},
                   {"origin", result->origin}},
                  1);
      vg_size.add({{"vg", vg}}, static_cast<double>(group.size_bytes()));
      vg_free.add({{"vg", vg}}, static_cast<double>(group.free_bytes()));
      seqno.add({{"vg", vg}}, static_cast<double>(group.seqno));
    }
    loaded.emplace(vg, std::move(result));
  }

  for (const ThinPool& pool : inventory->pools) {
    auto group = loaded.find(pool.names.vg);
    if (group == loaded.end() || !group->second) {
      continue;
    }
    for (const lvm::ThinPoolSummary& summary : lvm::thin_pools(*group->second->vg)) {
      if (summary.lv != pool.names.lv) {
        continue;
      }
      Labels labels = {{"pool", pool.names.dm_name}, {"vg", pool.names.vg}, {"lv", pool.names.lv}};
      transaction_id.add(labels, static_cast<double>(summary.transaction_id));
      metadata_lv_size.add(labels, static_cast<double>(summary.metadata_size_bytes));
    }
  }
  for (FamilyBuilder* family :
       {&read_success, &vg_info, &vg_size, &vg_free, &seqno, &transaction_id, &metadata_lv_size}) {
    family->move_to(out);
  }
  return {};
}

}  // namespace thinpool
