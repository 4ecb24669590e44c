#include "thin/inventory.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <functional>
#include <type_traits>

namespace thinpool {
namespace {

constexpr std::string_view kThinPoolTarget = "thin-pool";
constexpr std::string_view kThinTarget = "thin";

bool is_privilege_error(const Error& error) {
  return error.errno_value == EACCES || error.errno_value == EPERM;
}

size_t hash_of(std::string_view text) {
  return std::hash<std::string_view>{}(text);
}

// The devices the pools' tables name, taken (moved) from the list: `devices` is spent after this.
void attach_pool_sub_devices(ThinInventory& inventory, std::vector<DmDevice>& devices) {
  for (const ThinPool& pool : inventory.pools) {
    inventory.pool_sub_devices.emplace(pool.table.metadata_dev, DmDevice{});
    inventory.pool_sub_devices.emplace(pool.table.data_dev, DmDevice{});
  }
  for (DmDevice& device : devices) {
    auto sub_device = inventory.pool_sub_devices.find(device.dev);
    if (sub_device != inventory.pool_sub_devices.end()) {
      sub_device->second = std::move(device);
    }
  }
  std::erase_if(inventory.pool_sub_devices,
                [](const auto& entry) { return entry.second.name.empty(); });
}

// Each volume gets its pool's name (one shared string per pool) and each pool its volume count
// and provisioned size. A volume whose pool was not seen is named by the pool's device number.
void link_volumes_to_pools(ThinInventory& inventory) {
  struct PoolOfVolumes {
    ThinPool* pool = nullptr;  // null: not seen in this read
    std::shared_ptr<const std::string> name;
  };
  std::map<DeviceNumber, PoolOfVolumes> pools_by_dev;
  for (ThinPool& pool : inventory.pools) {
    pools_by_dev[pool.names.dev] = {&pool, std::make_shared<const std::string>(pool.names.dm_name)};
  }
  for (ThinVolume& volume : inventory.volumes) {
    if (volume.table.pool_failed) {
      continue;  // pool unknown: its table says only "Fail"
    }
    PoolOfVolumes& pool = pools_by_dev[volume.table.pool_dev];
    if (pool.name == nullptr) {
      pool.name = std::make_shared<const std::string>(to_string(volume.table.pool_dev));
    }
    volume.shared_pool_name = pool.name;
    if (pool.pool != nullptr) {
      pool.pool->thin_volume_count++;
      pool.pool->provisioned_sectors += volume.size_sectors;
    }
  }
}

}  // namespace

uint64_t InventoryReader::parse_errors(const std::string& target) const {
  return target == kThinPoolTarget ? pool_parse_errors_.load() : thin_parse_errors_.load();
}

void InventoryReader::record_parse_error(const std::string& target, const std::string& dm_name,
                                         const std::string& detail) {
  (target == kThinPoolTarget ? pool_parse_errors_ : thin_parse_errors_)++;
  log_skipped(dm_name, detail);
}

void InventoryReader::log_skipped(const std::string& dm_name, const std::string& reason) {
  std::string key = dm_name + '\n' + reason;
  seen_skips_.insert(key);
  if (logged_skips_.insert(key).second) {
    spdlog::warn("skipping device {}: {}", dm_name, reason);
  } else {
    spdlog::debug("skipping device {}: {}", dm_name, reason);
  }
}

Expected<ThinInventory> InventoryReader::read() {
  std::lock_guard lock(read_mutex_);
  seen_skips_.clear();
  auto devices = device_mapper_.list_devices();
  if (!devices) {
    return devices.error();
  }
  ThinInventory inventory;
  inventory.devices_seen = devices->size();
  // Most devices of a big host are thin volumes: one allocation instead of a doubling series.
  inventory.volumes.reserve(devices->size());
  const uint64_t this_read = ++reads_;

  for (const DmDevice& device : *devices) {
    auto status = device_mapper_.status(device);
    if (!status) {
      if (is_privilege_error(status.error())) {
        return status.error();
      }
      log_skipped(device.name, status.error().message);
      continue;
    }
    if (!status->exists) {
      spdlog::debug("device {} was removed while it was being read", device.name);
      continue;
    }
    if (status->targets.size() != 1) {
      continue;  // thin pools and thin volumes have exactly one target
    }
    const std::string_view type = status->targets.front().type;
    std::optional<Error> fatal;
    if (type == kThinPoolTarget) {
      fatal = read_pool(device, *status, inventory);
    } else if (type == kThinTarget) {
      fatal = read_volume(device, *status, this_read, inventory);
    }
    if (fatal) {
      return std::move(*fatal);
    }
  }
  attach_pool_sub_devices(inventory, *devices);
  link_volumes_to_pools(inventory);
  std::erase_if(thin_tables_,
                [&](const auto& entry) { return entry.second.seen_in_read != this_read; });
  std::erase_if(logged_skips_, [&](const std::string& key) { return !seen_skips_.contains(key); });
  return inventory;
}

template <typename Parse>
auto InventoryReader::read_table(const DmDevice& device, std::string_view target, Parse parse)
    -> Expected<std::optional<typename std::invoke_result_t<Parse, std::string_view>::value_type>> {
  using Table = typename std::invoke_result_t<Parse, std::string_view>::value_type;
  auto table = device_mapper_.table(device);
  if (!table) {
    if (is_privilege_error(table.error())) {
      return table.error();
    }
    log_skipped(device.name, table.error().message);
    return std::optional<Table>();
  }
  if (!table->exists || table->targets.size() != 1 || table->targets.front().type != target) {
    spdlog::debug("{} device {} was removed or reloaded while it was being read", target,
                  device.name);
    return std::optional<Table>();
  }
  auto parsed = parse(table->targets.front().params);
  if (!parsed) {
    record_parse_error(std::string(target), device.name, parsed.error().message);
    return std::optional<Table>();
  }
  return std::optional<Table>(std::move(*parsed));
}

std::optional<Error> InventoryReader::read_pool(const DmDevice& device, const DmReport& status,
                                                ThinInventory& inventory) {
  auto parsed_table = read_table(device, kThinPoolTarget, parse_thin_pool_table);
  if (!parsed_table || !parsed_table->has_value()) {
    return parsed_table ? std::nullopt : std::optional<Error>(parsed_table.error());
  }
  const DmTarget& target = status.targets.front();
  auto parsed_status = parse_thin_pool_status(target.params);
  if (!parsed_status) {
    record_parse_error(std::string(kThinPoolTarget), device.name, parsed_status.error().message);
    return std::nullopt;
  }
  ThinPool pool;
  pool.names = make_device_names(device, status.uuid);
  pool.uuid = status.uuid;
  pool.length_sectors = target.length;
  pool.table = **parsed_table;
  pool.status = *parsed_status;
  inventory.pools.push_back(std::move(pool));
  return std::nullopt;
}

std::optional<Error> InventoryReader::read_volume(const DmDevice& device, const DmReport& status,
                                                  uint64_t this_read, ThinInventory& inventory) {
  const DmTarget& target = status.targets.front();
  auto parsed_status = parse_thin_status(target.params);
  if (!parsed_status) {
    record_parse_error(std::string(kThinTarget), device.name, parsed_status.error().message);
    return std::nullopt;
  }
  // A new volume gets an empty entry, which is dropped at the end of the read unless filled in
  // below; so is the entry of a device number whose volume was renamed (its table is read again).
  const size_t uuid_hash = hash_of(status.uuid);
  auto [entry, inserted] = thin_tables_.try_emplace(device.dev);
  CachedThinTable& cached = entry->second;
  const bool is_new = inserted || cached.names == nullptr || cached.names->dm_name() != device.name;
  const bool same_volume = !is_new && cached.uuid_hash == uuid_hash;
  const bool unchanged =
      same_volume && cached.length == target.length && cached.event_nr == status.event_nr;
  if (unchanged) {
    cached.seen_in_read = this_read;
  } else {
    auto parsed_table = read_table(device, kThinTarget, parse_thin_table);
    if (!parsed_table || !parsed_table->has_value()) {
      return parsed_table ? std::nullopt : std::optional<Error>(parsed_table.error());
    }
    // Once its pool has failed the kernel hides a volume's table; keep what was read before.
    ThinTable table = (*parsed_table)->pool_failed && same_volume && !cached.table.pool_failed
                          ? cached.table
                          : **parsed_table;
    // Same name and uuid: the labels stay (only the table was reloaded).
    std::shared_ptr<const VolumeNames> names =
        same_volume ? std::move(cached.names)
                    : std::make_shared<const VolumeNames>(device, status.uuid);
    cached = CachedThinTable{std::move(names), uuid_hash, target.length,
                             status.event_nr,  table,     this_read};
  }
  ThinVolume volume;
  volume.shared_names = cached.names;
  volume.size_sectors = target.length;
  volume.table = cached.table;
  volume.status = *parsed_status;
  inventory.volumes.push_back(std::move(volume));
  return std::nullopt;
}

}  // namespace thinpool
