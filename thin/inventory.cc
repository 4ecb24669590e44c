#include "thin/inventory.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <unordered_map>

#include "exposition/metric_writer.h"
#include "lvm/dm_names.h"

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

}  // namespace

void InventoryReader::find_pool_stacks(const std::map<DeviceNumber, Classified>& others,
                                       ThinInventory& inventory) {
  // A device on the way down, and whether only LVM's own LVs lie between it and the pool: the
  // first device below them that is not an LV is where LVM's PV is (a disk, a partition, or a dm
  // device of another kind: a multipath map, a dm-crypt mapping).
  struct Below {
    DeviceNumber dev;
    bool above_pv;
  };
  for (ThinPool& pool : inventory.pools) {
    std::vector<DeviceNumber> seen = {pool.table.metadata_dev, pool.table.data_dev};
    std::vector<Below> level = {{pool.table.metadata_dev, true}, {pool.table.data_dev, true}};
    auto add_physical = [&pool](DeviceNumber dev) {
      if (std::find(pool.physical_devices.begin(), pool.physical_devices.end(), dev) ==
          pool.physical_devices.end()) {
        pool.physical_devices.push_back(dev);
      }
    };
    for (int depth = 0; depth < kMaxStackDepth && !level.empty(); ++depth) {
      std::vector<Below> next;
      for (const Below& below : level) {
        auto listed = others.find(below.dev);
        if (listed == others.end()) {
          if (below.above_pv) {
            add_physical(below.dev);  // not a dm device: a disk, a partition, a loop
          }
          continue;
        }
        pool.sub_devices.push_back(*listed->second.device);
        const bool is_lv = lvm::is_lvm_uuid(listed->second.table->stack->uuid);
        if (below.above_pv && !is_lv) {
          add_physical(below.dev);
        }
        for (DeviceNumber dev : listed->second.table->stack->below) {
          if (std::find(seen.begin(), seen.end(), dev) == seen.end()) {
            seen.push_back(dev);
            next.push_back({dev, below.above_pv && is_lv});
          }
        }
      }
      level = std::move(next);
    }
  }
}

namespace {

// Each volume gets its pool's name (one shared string per pool) and its label text with that name
// and its device id, and each pool its volume count and provisioned size. A volume whose pool
// was not seen is named by the pool's device number; one whose pool failed before its table was
// read has neither a pool nor a device id.
// `devices`: each volume's entry in the read's device list.
void link_volumes_to_pools(ThinInventory& inventory, const std::vector<const DmDevice*>& devices,
                           DeviceTables& tables) {
  struct PoolOfVolumes {
    ThinPool* pool = nullptr;  // null: not seen in this read
    std::shared_ptr<const std::string> name;
    std::string escaped;  // the name as a label value
  };
  std::unordered_map<DeviceNumber, PoolOfVolumes> pools_by_dev;
  for (ThinPool& pool : inventory.pools) {
    PoolOfVolumes& entry = pools_by_dev[pool.names.dev];
    entry = {&pool, std::make_shared<const std::string>(pool.names.dm_name), ""};
    append_label_value(*entry.name, entry.escaped);
  }
  for (size_t i = 0; i < inventory.volumes.size(); ++i) {
    ThinVolume& volume = inventory.volumes[i];
    if (volume.table.pool_failed) {
      volume.volume_names = tables.labelled_names(*devices[i], "", "");
      continue;  // pool unknown: its table says only "Fail"
    }
    PoolOfVolumes& pool = pools_by_dev[volume.table.pool_dev];
    if (pool.name == nullptr) {
      pool.name = std::make_shared<const std::string>(to_string(volume.table.pool_dev));
      append_label_value(*pool.name, pool.escaped);
    }
    volume.shared_pool_name = pool.name;
    std::array<char, 24> id{};
    const char* id_end =
        std::to_chars(id.data(), id.data() + id.size(), volume.table.device_id).ptr;
    volume.volume_names =
        tables.labelled_names(*devices[i], pool.escaped,
                              std::string_view(id.data(), static_cast<size_t>(id_end - id.data())));
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
  const bool dm_changed = !changed || *changed;
  tables_.begin_read(dm_changed);
  // A device is created, removed or renamed only with the counter the poll watches moving, so
  // while it stands still the last list is the kernel's list still: used again as it is (at
  // 10,000 devices the list costs the kernel a walk of every name under its hash lock). After a
  // change the last list is written over when nothing holds it any more (a status task that
  // blocked may): its names' buffers are reused, and a steady list allocates nothing.
  if (dm_changed || last_list_ == nullptr) {
    if (last_list_ == nullptr || last_list_.use_count() > 1) {
      last_list_ = std::make_shared<std::vector<DmDevice>>();
    }
    if (Status listed = device_mapper_.list_devices_into(*last_list_); !listed) {
      last_list_ = nullptr;
      return listed.error();
    }
  }
  // Shared with the status tasks, which may outlive this read when a pool blocks.
  const DeviceList devices = last_list_;
  auto inventory = std::make_shared<ThinInventory>();
  std::array<bool, 4> logged{};  // reasons already logged in this read
  std::vector<Classified> pools;
  std::vector<Classified> volumes;
  std::map<DeviceNumber, Classified> others;
  // Most devices of a big host are thin volumes: one allocation instead of a doubling series.
  volumes.reserve(devices->size());
  for (uint32_t index = 0; index < devices->size(); ++index) {
    const DmDevice& device = (*devices)[index];
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
    const Classified classified{&device, *table, index};
    switch ((*table)->kind) {
      case DeviceKind::kPool:
        pools.push_back(classified);
        break;
      case DeviceKind::kThin:
        volumes.push_back(classified);
        break;
      case DeviceKind::kOther:
        others.emplace(device.dev, classified);
        break;
    }
  }

  for (const Classified& pool : pools) {
    ThinPool entry;
    entry.uuid = pool.table->stack->uuid;
    entry.names = make_device_names(*pool.device, entry.uuid);
    entry.length_sectors = pool.table->length_sectors;
    entry.table = pool.table->stack->pool;
    inventory->pools.push_back(std::move(entry));
  }
  find_pool_stacks(others, *inventory);
  std::vector<StatusGroup> groups = status_groups(pools, volumes, *inventory);

  // Half the time left for the statuses: the collectors after the inventory need some too.
  const Clock::time_point now = Clock::now();
  const Clock::time_point status_deadline = deadline > now ? now + (deadline - now) / 2 : now;
  const std::vector<std::shared_ptr<const GroupStatus>> statuses =
      statuses_.read(devices, groups, status_deadline);

  // A group's results for the device at `slot`, with its error when it has one.
  auto error_of = [](const GroupStatus& status, size_t slot) {
    for (const auto& [at, error] : status.errors) {
      if (at == slot) {
        return error;
      }
    }
    return Error{"no error recorded"};
  };
  std::vector<bool> pool_read(pools.size(), true);
  for (size_t i = 0; i < pools.size(); ++i) {
    ThinPool& pool = inventory->pools[i];
    const GroupStatus* status = statuses[i].get();
    if (status == nullptr) {
      pool.status_blocked = true;
      skip(*pools[i].device, "blocked",
           pool.suspended_devices.empty()
               ? "its status does not answer"
               : fmt::format("its status does not answer, and devices below it are suspended: {}",
                             fmt::join(pool.suspended_devices, ", ")),
           logged);
      continue;
    }
    switch (status->outcomes[0]) {
      case StatusOutcome::kRead:
        pool.status = status->pool;
        continue;
      case StatusOutcome::kGone:
        break;
      case StatusOutcome::kUnparsable:
        count_parse_error(kThinPoolTarget);
        skip(*pools[i].device, "parse", error_of(*status, 0).message, logged);
        break;
      case StatusOutcome::kFailed: {
        Error error = error_of(*status, 0);
        if (error.is(ErrorKind::kPermission)) {
          return error;
        }
        skip(*pools[i].device, "status", error.message, logged);
        break;
      }
    }
    pool_read[i] = false;
  }
  for (size_t i = pools.size(); i-- > 0;) {
    if (!pool_read[i]) {
      inventory->pools.erase(inventory->pools.begin() + static_cast<ptrdiff_t>(i));
    }
  }

  // Each volume's slot in its group: the groups list their volumes in the order of `volumes`.
  std::vector<size_t> next_slot(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    next_slot[i] = groups[i].has_pool ? 1 : 0;
  }
  inventory->volumes.reserve(volumes.size());
  std::vector<const DmDevice*> volume_devices;  // of each volume in the inventory
  volume_devices.reserve(volumes.size());
  for (const Classified& volume : volumes) {
    const size_t group = volume.group;
    const size_t slot = next_slot[group]++;
    ThinVolume entry;
    entry.dev = volume.device->dev;
    entry.size_sectors = volume.table->length_sectors;
    entry.table = volume.table->thin;
    const GroupStatus* status = statuses[group].get();
    if (status == nullptr) {
      entry.status_blocked = true;
      skip(*volume.device, "blocked", "its pool's status calls do not answer", logged);
      inventory->volumes.push_back(std::move(entry));
      volume_devices.push_back(volume.device);
      continue;
    }
    switch (status->outcomes[slot]) {
      case StatusOutcome::kRead:
        entry.status = status->volumes[slot];
        inventory->volumes.push_back(std::move(entry));
        volume_devices.push_back(volume.device);
        break;
      case StatusOutcome::kGone:
        break;
      case StatusOutcome::kUnparsable:
        count_parse_error(kThinTarget);
        skip(*volume.device, "parse", error_of(*status, slot).message, logged);
        break;
      case StatusOutcome::kFailed: {
        Error error = error_of(*status, slot);
        if (error.is(ErrorKind::kPermission)) {
          return error;
        }
        skip(*volume.device, "status", error.message, logged);
        break;
      }
    }
  }
  link_volumes_to_pools(*inventory, volume_devices, tables_);
  inventory->names_store = tables_.names_store();
  tables_.end_read();
  skipped_.forget_unreported();
  return InventoryRef(std::move(inventory));
}

std::vector<StatusGroup> InventoryReader::status_groups(const std::vector<Classified>& pools,
                                                        std::vector<Classified>& volumes,
                                                        ThinInventory& inventory) {
  // One group per pool, in the order of `pools`, with the suspended devices under it (which do
  // not block to ask about); then one per pool device that is not listed.
  std::vector<StatusGroup> groups;
  std::map<DeviceNumber, size_t> group_of;
  for (size_t i = 0; i < pools.size(); ++i) {
    ThinPool& pool = inventory.pools[i];
    StatusGroup group;
    group.key = to_string(pool.names.dev);
    group.has_pool = true;
    group.devices.push_back(pools[i].index);
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
  for (Classified& volume : volumes) {
    const DeviceNumber pool_dev =
        volume.table->thin.pool_failed ? kUnknownPool : volume.table->thin.pool_dev;
    auto [it, inserted] = group_of.try_emplace(pool_dev, groups.size());
    if (inserted) {
      groups.push_back(StatusGroup{to_string(pool_dev), false, {}, false});
    }
    volume.group = it->second;
    groups[it->second].devices.push_back(volume.index);
  }
  return groups;
}

}  // namespace thinpool
