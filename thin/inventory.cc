#include "thin/inventory.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <type_traits>

#include "base/text.h"

namespace thinpool {
namespace {

constexpr std::string_view kThinPoolTarget = "thin-pool";
constexpr std::string_view kThinTarget = "thin";

bool is_privilege_error(const Error& error) {
  return error.is(ErrorKind::kPermission);
}

size_t hash_of(std::string_view text) {
  return std::hash<std::string_view>{}(text);
}

constexpr int kMaxStackDepth = 8;  // dm devices below a pool, counted from the pool

// Every "<major>:<minor>" among a table line's parameters: the devices its target is built on
// (linear, striped, mirror, raid, cache, ... all name them so). Added to `out` once each.
void add_devices_named_in(const DmTarget& target, std::vector<DeviceNumber>& out) {
  for (std::string_view field : split_fields(target.params)) {
    if (field.find(':') == std::string_view::npos) {
      continue;
    }
    if (auto dev = parse_device_number(field);
        dev && std::find(out.begin(), out.end(), *dev) == out.end()) {
      out.push_back(*dev);
    }
  }
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

std::array<std::pair<std::string_view, uint64_t>, 2> InventoryReader::parse_error_counts() const {
  return {{{kThinPoolTarget, pool_parse_errors_.load()}, {kThinTarget, thin_parse_errors_.load()}}};
}

uint64_t InventoryReader::parse_errors(std::string_view target) const {
  return target == kThinPoolTarget ? pool_parse_errors_.load() : thin_parse_errors_.load();
}

void InventoryReader::record_parse_error(std::string_view target, const std::string& dm_name,
                                         const std::string& detail) {
  (target == kThinPoolTarget ? pool_parse_errors_ : thin_parse_errors_)++;
  skipped_.failing(dm_name, detail);
}

Expected<ThinInventory> InventoryReader::read() {
  std::lock_guard lock(read_mutex_);
  auto devices = device_mapper_.list_devices();
  if (!devices) {
    return devices.error();
  }
  ThinInventory inventory;
  // Most devices of a big host are thin volumes: one allocation instead of a doubling series.
  inventory.volumes.reserve(devices->size());
  const uint64_t this_read = ++reads_;
  // Devices that are neither pools nor thin volumes: where a pool's sub-devices are found.
  std::vector<const DmDevice*> others;

  for (const DmDevice& device : *devices) {
    auto status = device_mapper_.status(device);
    if (!status) {
      if (is_privilege_error(status.error())) {
        return status.error();
      }
      skipped_.failing(device.name, status.error().message);
      continue;
    }
    if (!status->exists) {
      spdlog::debug("device {} was removed while it was being read", device.name);
      continue;
    }
    // Thin pools and thin volumes have exactly one target.
    const std::string_view type =
        status->targets.size() == 1 ? std::string_view(status->targets.front().type) : "";
    std::optional<Error> fatal;
    if (type == kThinPoolTarget) {
      fatal = read_pool(device, *status, inventory);
    } else if (type == kThinTarget) {
      fatal = read_volume(device, *status, this_read, inventory);
    } else {
      others.push_back(&device);
    }
    if (fatal) {
      return std::move(*fatal);
    }
  }
  if (std::optional<Error> fatal = read_pool_stacks(others, inventory)) {
    return std::move(*fatal);
  }
  link_volumes_to_pools(inventory);
  std::erase_if(thin_tables_,
                [&](const auto& entry) { return entry.second.seen_in_read != this_read; });
  skipped_.forget_unreported();
  return inventory;
}

std::optional<Error> InventoryReader::read_pool_stacks(const std::vector<const DmDevice*>& others,
                                                       ThinInventory& inventory) {
  // Breadth first, all pools at once: a device number at the current depth and its pool.
  struct Below {
    size_t pool;
    DeviceNumber dev;
  };
  std::vector<Below> level;
  std::vector<std::vector<DeviceNumber>> seen(inventory.pools.size());
  for (size_t i = 0; i < inventory.pools.size(); ++i) {
    const ThinPoolTable& table = inventory.pools[i].table;
    seen[i] = {table.metadata_dev, table.data_dev};
    level.push_back({i, table.metadata_dev});
    level.push_back({i, table.data_dev});
  }
  for (int depth = 0; depth < kMaxStackDepth && !level.empty(); ++depth) {
    std::vector<Below> next;
    for (const Below& below : level) {
      ThinPool& pool = inventory.pools[below.pool];
      auto listed = std::find_if(others.begin(), others.end(),
                                 [&](const DmDevice* device) { return device->dev == below.dev; });
      if (listed == others.end()) {
        pool.bottom_devices.push_back(below.dev);  // not a dm device: a disk, a partition, a loop
        continue;
      }
      const DmDevice& device = **listed;
      pool.sub_devices.push_back(device);
      auto table = device_mapper_.table(device);
      if (!table) {
        if (is_privilege_error(table.error())) {
          return table.error();
        }
        skipped_.failing(device.name, table.error().message);
        continue;
      }
      std::vector<DeviceNumber> named;
      for (const DmTarget& target : table->targets) {
        add_devices_named_in(target, named);
      }
      for (DeviceNumber dev : named) {
        if (std::find(seen[below.pool].begin(), seen[below.pool].end(), dev) ==
            seen[below.pool].end()) {
          seen[below.pool].push_back(dev);
          next.push_back({below.pool, dev});
        }
      }
    }
    level = std::move(next);
  }
  return std::nullopt;
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
    skipped_.failing(device.name, table.error().message);
    return std::optional<Table>();
  }
  if (!table->exists || table->targets.size() != 1 || table->targets.front().type != target) {
    spdlog::debug("{} device {} was removed or reloaded while it was being read", target,
                  device.name);
    return std::optional<Table>();
  }
  auto parsed = parse(table->targets.front().params);
  if (!parsed) {
    record_parse_error(target, device.name, parsed.error().message);
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
    record_parse_error(kThinPoolTarget, device.name, parsed_status.error().message);
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
    record_parse_error(kThinTarget, device.name, parsed_status.error().message);
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
