#include "thin/inventory.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

namespace thinpool {
namespace {

constexpr std::string_view kThinPoolTarget = "thin-pool";
constexpr std::string_view kThinTarget = "thin";
constexpr int kMaxStackDepth = 8;  // dm devices below a pool, counted from the pool
// Volumes whose table says their pool failed, before any other table was seen: a group of
// their own (no pool device number is known for them).
const DeviceNumber kUnknownPool{0, 0};

size_t reason_index(std::string_view reason) {
  const auto& reasons = InventoryReader::kDeviceErrorReasons;
  return static_cast<size_t>(std::find(reasons.begin(), reasons.end(), reason) - reasons.begin());
}

// A listed device and what its table says it is.
struct Classified {
  const DmDevice* device;
  const DeviceTable* table;
};

// Each pool's stack: the dm devices below it, found breadth first through the tables of the
// listed devices that are neither pools nor thin volumes (`others`, by number), and the devices
// at the bottom. No ioctl: the tables are DeviceTables'.
void find_pool_stacks(const std::map<DeviceNumber, Classified>& others, ThinInventory& inventory) {
  for (ThinPool& pool : inventory.pools) {
    std::vector<DeviceNumber> seen = {pool.table.metadata_dev, pool.table.data_dev};
    std::vector<DeviceNumber> level = seen;
    for (int depth = 0; depth < kMaxStackDepth && !level.empty(); ++depth) {
      std::vector<DeviceNumber> next;
      for (DeviceNumber dev : level) {
        auto listed = others.find(dev);
        if (listed == others.end()) {
          pool.bottom_devices.push_back(dev);  // not a dm device: a disk, a partition, a loop
          continue;
        }
        pool.sub_devices.push_back(*listed->second.device);
        for (DeviceNumber below : listed->second.table->below) {
          if (std::find(seen.begin(), seen.end(), below) == seen.end()) {
            seen.push_back(below);
            next.push_back(below);
          }
        }
      }
      level = std::move(next);
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

InventoryReader::InventoryReader(DeviceMapper& device_mapper,
                                 const std::shared_ptr<BlockingCallPool>& threads)
    : device_mapper_(device_mapper), reads_(threads), statuses_(device_mapper, threads) {}

std::array<std::pair<std::string_view, uint64_t>, 2> InventoryReader::parse_error_counts() const {
  return {{{kThinPoolTarget, pool_parse_errors_.load()}, {kThinTarget, thin_parse_errors_.load()}}};
}

uint64_t InventoryReader::parse_errors(std::string_view target) const {
  return target == kThinPoolTarget ? pool_parse_errors_.load() : thin_parse_errors_.load();
}

std::array<std::pair<std::string_view, uint64_t>, 4> InventoryReader::device_error_counts() const {
  std::array<std::pair<std::string_view, uint64_t>, 4> counts;
  for (size_t i = 0; i < kDeviceErrorReasons.size(); ++i) {
    counts[i] = {kDeviceErrorReasons[i], device_errors_[i].load()};
  }
  return counts;
}

void InventoryReader::skip(const DmDevice& device, std::string_view reason, std::string_view detail,
                           std::array<bool, 4>& logged) {
  const size_t index = reason_index(reason);
  device_errors_.at(index)++;
  // The first device per reason and read is logged (once per reason while it lasts); counting is
  // all the others cost.
  if (!logged.at(index)) {
    logged[index] = true;
    skipped_.failing(reason, "", fmt::format("{} ({})", detail, device.name));
  }
}

void InventoryReader::count_parse_error(std::string_view target) {
  (target == kThinPoolTarget ? pool_parse_errors_ : thin_parse_errors_)++;
}

Expected<InventoryRef> InventoryReader::read() {
  return read(Clock::now() + std::chrono::seconds(10));
}

Expected<InventoryRef> InventoryReader::read(Clock::time_point deadline) {
  auto result = reads_.run_here("inventory", deadline, [&] { return read_now(deadline); });
  if (result.outcome == decltype(reads_)::Outcome::kTimedOut) {
    return Error{
        fmt::format("the device-mapper read that another scrape started {:.1f} s ago has "
                    "not finished by this scrape's deadline",
                    std::chrono::duration<double>(Clock::now() - result.started).count())};
  }
  if (!result.value) {
    return Error{"the device-mapper read failed unexpectedly"};
  }
  return *result.value;
}

Expected<InventoryRef> InventoryReader::read_now(Clock::time_point deadline) {
  auto changed = device_mapper_.changed_since_last_call();
  if (!changed) {
    spdlog::debug("device-mapper event poll: {}; reading every table again",
                  changed.error().message);
  }
  tables_.begin_read(!changed || *changed);
  auto devices = device_mapper_.list_devices();
  if (!devices) {
    return devices.error();
  }
  auto inventory = std::make_shared<ThinInventory>();
  std::array<bool, 4> logged{};  // reasons already logged in this read
  std::vector<Classified> pools;
  std::vector<Classified> volumes;
  std::map<DeviceNumber, Classified> others;
  // Most devices of a big host are thin volumes: one allocation instead of a doubling series.
  volumes.reserve(devices->size());
  for (const DmDevice& device : *devices) {
    std::optional<SkipReason> why;
    auto table = tables_.lookup(device, device_mapper_, why);
    if (!table) {
      return table.error();
    }
    if (why) {
      if (why->reason == "parse") {
        count_parse_error(why->target);
      }
      skip(device, why->reason, why->detail, logged);
    }
    if (*table == nullptr) {
      continue;
    }
    switch ((*table)->kind) {
      case DeviceKind::kPool:
        pools.push_back({&device, *table});
        break;
      case DeviceKind::kThin:
        volumes.push_back({&device, *table});
        break;
      case DeviceKind::kOther:
        others.emplace(device.dev, Classified{&device, *table});
        break;
    }
  }

  for (const Classified& pool : pools) {
    ThinPool entry;
    entry.names = make_device_names(*pool.device, pool.table->uuid);
    entry.uuid = pool.table->uuid;
    entry.length_sectors = pool.table->length_sectors;
    entry.table = pool.table->pool;
    inventory->pools.push_back(std::move(entry));
  }
  find_pool_stacks(others, *inventory);

  // One status group per pool (its index in `groups` by pool device), then one per pool that is
  // not listed; the suspended devices under each pool, which do not block to ask about.
  std::vector<StatusGroup> groups;
  std::map<DeviceNumber, size_t> group_of;
  for (size_t i = 0; i < pools.size(); ++i) {
    ThinPool& pool = inventory->pools[i];
    StatusGroup group;
    group.key = to_string(pool.names.dev);
    group.devices.push_back({*pools[i].device, true});
    std::vector<const DmDevice*> stack = {pools[i].device};
    for (const DmDevice& sub_device : pool.sub_devices) {
      stack.push_back(&sub_device);
    }
    for (const DmDevice* device : stack) {
      auto info = device_mapper_.info(*device);
      if (info && info->exists && (info->suspended || info->internally_suspended)) {
        pool.suspended_devices.push_back(device->name);
      }
    }
    group.stack_suspended = !pool.suspended_devices.empty();
    group_of[pool.names.dev] = groups.size();
    groups.push_back(std::move(group));
  }
  for (const Classified& volume : volumes) {
    const DeviceNumber pool_dev =
        volume.table->thin.pool_failed ? kUnknownPool : volume.table->thin.pool_dev;
    auto [it, inserted] = group_of.try_emplace(pool_dev, groups.size());
    if (inserted) {
      groups.push_back(StatusGroup{to_string(pool_dev), {}, false});
    }
    groups[it->second].devices.push_back({*volume.device, false});
  }

  // Half the time left for the statuses: the collectors after the inventory need some too.
  const Clock::time_point now = Clock::now();
  const Clock::time_point status_deadline = deadline > now ? now + (deadline - now) / 2 : now;
  auto statuses = statuses_.read(groups, status_deadline);

  // The pools first in `groups`, then their volumes' entries follow in list order per group.
  std::vector<size_t> next_in_group(groups.size(), 0);
  std::vector<bool> pool_read(pools.size(), true);
  for (size_t i = 0; i < pools.size(); ++i) {
    ThinPool& pool = inventory->pools[i];
    next_in_group[i] = 1;
    if (!statuses[i]) {
      pool.status_blocked = true;
      skip(*pools[i].device, "blocked",
           pool.suspended_devices.empty()
               ? "its status does not answer"
               : fmt::format("its status does not answer, and devices below it are suspended: {}",
                             fmt::join(pool.suspended_devices, ", ")),
           logged);
      continue;
    }
    const StatusResult& result = (*statuses[i])[0];
    if (result.outcome == StatusResult::Outcome::kUnparsable) {
      count_parse_error(kThinPoolTarget);
      skip(*pools[i].device, "parse", result.error.message, logged);
    } else if (result.outcome == StatusResult::Outcome::kFailed) {
      if (result.error.is(ErrorKind::kPermission)) {
        return result.error;
      }
      skip(*pools[i].device, "status", result.error.message, logged);
    }
    pool_read[i] = result.outcome == StatusResult::Outcome::kRead;
    pool.status = result.pool;
  }
  for (size_t i = pools.size(); i-- > 0;) {
    if (!pool_read[i]) {
      inventory->pools.erase(inventory->pools.begin() + static_cast<ptrdiff_t>(i));
    }
  }

  inventory->volumes.reserve(volumes.size());
  for (const Classified& volume : volumes) {
    const DeviceNumber pool_dev =
        volume.table->thin.pool_failed ? kUnknownPool : volume.table->thin.pool_dev;
    const size_t group = group_of.at(pool_dev);
    const size_t index = next_in_group[group]++;
    ThinVolume entry;
    entry.shared_names = volume.table->volume_names;
    entry.size_sectors = volume.table->length_sectors;
    entry.table = volume.table->thin;
    if (!statuses[group]) {
      entry.status_blocked = true;
      skip(*volume.device, "blocked", "its pool's status calls do not answer", logged);
    } else {
      const StatusResult& result = (*statuses[group])[index];
      switch (result.outcome) {
        case StatusResult::Outcome::kRead:
          entry.status = result.thin;
          break;
        case StatusResult::Outcome::kGone:
          continue;
        case StatusResult::Outcome::kUnparsable:
          count_parse_error(kThinTarget);
          skip(*volume.device, "parse", result.error.message, logged);
          continue;
        case StatusResult::Outcome::kFailed:
          if (result.error.is(ErrorKind::kPermission)) {
            return result.error;
          }
          skip(*volume.device, "status", result.error.message, logged);
          continue;
      }
    }
    inventory->volumes.push_back(std::move(entry));
  }
  link_volumes_to_pools(*inventory);
  tables_.end_read();
  skipped_.forget_unreported();
  return InventoryRef(std::move(inventory));
}

}  // namespace thinpool
