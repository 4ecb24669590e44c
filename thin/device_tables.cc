#include "thin/device_tables.h"

#include <algorithm>

#include "base/text.h"
#include "lvm/dm_names.h"

namespace thinpool {
namespace {

constexpr std::string_view kThinPoolTarget = "thin-pool";
constexpr std::string_view kThinTarget = "thin";

// Every "<major>:<minor>" among a table line's parameters: the devices its target is built on
// (linear, striped, mirror, raid, cache, multipath, ... all name them so). Added once each.
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

}  // namespace

void DeviceTables::begin_read(bool changed) {
  ++read_;
  if (changed) {
    valid_since_ = read_;
  }
}

Expected<const DeviceTable*> DeviceTables::lookup(const DmDevice& device,
                                                  DeviceMapper& device_mapper,
                                                  std::optional<SkipReason>& skip) {
  auto [it, inserted] = tables_.try_emplace(device.dev);
  Entry& entry = it->second;
  const bool same_device = !inserted && entry.table.named(device.name);
  if (same_device && entry.valid_in >= valid_since_) {
    entry.seen_in = read_;
    return &entry.table;
  }
  auto report = device_mapper.table(device);
  if (!report) {
    if (report.error().is(ErrorKind::kPermission)) {
      return report.error();
    }
    skip = SkipReason{"table", "", report.error().message};
    return nullptr;
  }
  if (!report->exists) {
    return nullptr;  // removed since the list
  }
  DeviceTable table;
  auto keep_ids = [&](DeviceTable::Stack& stack) {
    stack.name = device.name;
    stack.uuid = report->uuid;
  };
  const std::string_view type =
      report->targets.size() == 1 ? std::string_view(report->targets[0].type) : "";
  if (type == kThinPoolTarget) {
    auto parsed = parse_thin_pool_table(report->targets[0].params);
    if (!parsed) {
      skip = SkipReason{"parse", std::string(kThinPoolTarget), parsed.error().message};
      return nullptr;
    }
    table.kind = DeviceKind::kPool;
    auto stack = std::make_unique<DeviceTable::Stack>();
    keep_ids(*stack);
    stack->pool = *parsed;
    table.stack = std::move(stack);
    table.length_sectors = report->targets[0].length;
  } else if (type == kThinTarget) {
    auto parsed = parse_thin_table(report->targets[0].params);
    if (!parsed) {
      skip = SkipReason{"parse", std::string(kThinTarget), parsed.error().message};
      return nullptr;
    }
    table.kind = DeviceKind::kThin;
    table.length_sectors = report->targets[0].length;
    table.uuid_hash_ = std::hash<std::string_view>{}(report->uuid);
    table.lvm_ = lvm::is_lvm_uuid(report->uuid);
    // Once its pool has failed the kernel hides a volume's table ("Fail"); keep what was read
    // before, while it is the same volume.
    const bool same_volume = same_device && entry.table.kind == DeviceKind::kThin &&
                             entry.table.uuid_hash_ == table.uuid_hash_;
    table.thin = parsed->pool_failed && same_volume ? entry.table.thin : *parsed;
    // Same name and uuid: the labels stay while the pool's name and the device id do
    // (labelled_names() checks).
    if (same_volume) {
      table.volume_names = entry.table.volume_names;
    }
  } else {
    auto stack = std::make_unique<DeviceTable::Stack>();
    keep_ids(*stack);
    for (const DmTarget& target : report->targets) {
      add_devices_named_in(target, stack->below);
    }
    table.stack = std::move(stack);
  }
  if (table.volume_names == nullptr && entry.table.volume_names != nullptr) {
    names_->release(*entry.table.volume_names);
  }
  entry.table = std::move(table);
  entry.valid_in = read_;
  entry.seen_in = read_;
  return &entry.table;
}

const VolumeNames* DeviceTables::labelled_names(const DmDevice& device,
                                                std::string_view escaped_pool,
                                                std::string_view device_id) {
  auto it = tables_.find(device.dev);
  if (it == tables_.end() || it->second.seen_in != read_ ||
      it->second.table.kind != DeviceKind::kThin) {
    return nullptr;
  }
  Entry& entry = it->second;
  const VolumeNames* names = entry.table.volume_names;
  if (names == nullptr || !names->has_labels(escaped_pool, device_id)) {
    entry.table.volume_names = names_->add(device.name, entry.table.lvm_, escaped_pool, device_id);
    if (names != nullptr) {
      names_->release(*names);
    }
  }
  return entry.table.volume_names;
}

bool DeviceTable::named(std::string_view name) const {
  if (stack != nullptr) {
    return stack->name == name;
  }
  return volume_names != nullptr && volume_names->dm_name() == name;
}

void DeviceTables::end_read() {
  std::erase_if(tables_, [&](const auto& entry) {
    const DeviceTable& table = entry.second.table;
    if (entry.second.seen_in == read_) {
      return false;
    }
    if (table.volume_names != nullptr) {
      names_->release(*table.volume_names);
    }
    return true;
  });
  if (names_->mostly_unused()) {
    auto copied = std::make_shared<VolumeNamesStore>();
    for (auto& [dev, entry] : tables_) {
      if (entry.table.volume_names != nullptr) {
        entry.table.volume_names = copied->add_copy(*entry.table.volume_names);
      }
    }
    names_ = std::move(copied);
  }
}

}  // namespace thinpool
