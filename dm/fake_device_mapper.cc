#include "dm/fake_device_mapper.h"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include "base/text.h"

namespace thinpool {
namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (!line.empty() && line != "No devices found") {
      lines.push_back(line);
    }
    if (newline == std::string_view::npos) {
      break;
    }
    text.remove_prefix(newline + 1);
  }
  return lines;
}

// Splits "name: 0 2097152 thin-pool ..." into the name and the target line. A mangled name
// cannot contain ": " (dmsetup writes a blank as \x20), so the first ": " ends it.
Expected<std::pair<std::string, std::string_view>> split_named_line(std::string_view line) {
  auto sep = line.find(": ");
  if (sep == std::string_view::npos) {
    return Error::parse(fmt::format("line \"{}\" is not \"<name>: <target line>\"", line));
  }
  return std::pair{unmangle_dm_name(line.substr(0, sep)), line.substr(sep + 2)};
}

Expected<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{fmt::format("open {}: cannot read", path)};
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::string unmangle_dm_name(std::string_view mangled) {
  std::string out;
  for (size_t i = 0; i < mangled.size(); ++i) {
    if (mangled[i] == '\\' && i + 3 < mangled.size() && mangled[i + 1] == 'x') {
      unsigned value = 0;
      auto hex = mangled.substr(i + 2, 2);
      auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
      if (ec == std::errc() && end == hex.data() + hex.size()) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(mangled[i]);
  }
  return out;
}

Expected<DmTarget> parse_target_line(std::string_view line) {
  auto fields = split_fields(line);
  if (fields.size() < 3) {
    return Error::parse(
        fmt::format("target line \"{}\" is not \"<start> <length> <type> <params>\"", line));
  }
  auto start = parse_u64(fields[0]);
  auto length = parse_u64(fields[1]);
  if (!start || !length) {
    return Error::parse(fmt::format("target line \"{}\": start and length must be numbers", line));
  }
  DmTarget target;
  target.start = *start;
  target.length = *length;
  target.type = std::string(fields[2]);
  // Keep params exactly as the kernel wrote them, trailing blank included.
  size_t params_at = static_cast<size_t>(fields[2].data() + fields[2].size() - line.data());
  if (params_at < line.size()) {
    target.params = std::string(line.substr(params_at + 1));
  }
  return target;
}

Expected<FakeDeviceMapper> FakeDeviceMapper::from_dmsetup_text(std::string_view info,
                                                               std::string_view table,
                                                               std::string_view status) {
  FakeDeviceMapper fake;
  for (std::string_view line : split_lines(info)) {
    auto fields = split_fields(line);
    if (fields.size() < 3 || fields.size() > 4) {
      return Error::parse(
          fmt::format("info line \"{}\" is not \"<name> <major> <minor> [<uuid>]\"", line));
    }
    auto major = parse_u64(fields[1]);
    auto minor = parse_u64(fields[2]);
    if (!major || !minor) {
      return Error::parse(fmt::format("info line \"{}\": major and minor must be numbers", line));
    }
    Device device;
    device.device.name = unmangle_dm_name(fields[0]);
    device.device.dev = {static_cast<uint32_t>(*major), static_cast<uint32_t>(*minor)};
    if (fields.size() == 4) {
      device.uuid = unmangle_dm_name(fields[3]);
    }
    fake.devices_.push_back(std::move(device));
  }
  for (std::string_view line : split_lines(table)) {
    auto named = split_named_line(line);
    if (!named) {
      return Error{"table: " + named.error().message, named.error().kind};
    }
    Device* device = fake.find(named->first);
    if (device == nullptr) {
      return Error::parse(fmt::format("table: device \"{}\" is not in info", named->first));
    }
    auto target = parse_target_line(named->second);
    if (!target) {
      return Error{"table: " + target.error().message, target.error().kind};
    }
    device->table.push_back(std::move(*target));
  }
  for (std::string_view line : split_lines(status)) {
    auto named = split_named_line(line);
    if (!named) {
      return Error{"status: " + named.error().message, named.error().kind};
    }
    Device* device = fake.find(named->first);
    if (device == nullptr) {
      return Error::parse(fmt::format("status: device \"{}\" is not in info", named->first));
    }
    auto target = parse_target_line(named->second);
    if (!target) {
      return Error{"status: " + target.error().message, target.error().kind};
    }
    if (!device->status) {
      device->status.emplace();
    }
    device->status->push_back(std::move(*target));
  }
  return fake;
}

Expected<FakeDeviceMapper> FakeDeviceMapper::from_directory(const std::string& dir) {
  auto info = read_file(dir + "/info");
  if (!info) {
    return info.error();
  }
  auto table = read_file(dir + "/table");
  if (!table) {
    return table.error();
  }
  auto status = read_file(dir + "/status");
  if (!status) {
    return status.error();
  }
  auto fake = from_dmsetup_text(*info, *table, *status);
  if (!fake) {
    return Error{fmt::format("fixtures {}: {}", dir, fake.error().message), fake.error().kind};
  }
  return fake;
}

FakeDeviceMapper::FakeDeviceMapper(FakeDeviceMapper&& other) noexcept {
  std::lock_guard lock(other.mutex_);
  devices_ = std::move(other.devices_);
  list_error_ = std::move(other.list_error_);
  calls_ = other.calls_;
  changes_ = other.changes_;
  changes_seen_ = other.changes_seen_;
  // Positions in devices_, which moved as a whole: still right.
  index_ = std::move(other.index_);
  other.index_.clear();
}

FakeDeviceMapper& FakeDeviceMapper::operator=(FakeDeviceMapper&& other) noexcept {
  if (this != &other) {
    std::scoped_lock lock(mutex_, other.mutex_);
    devices_ = std::move(other.devices_);
    list_error_ = std::move(other.list_error_);
    calls_ = other.calls_;
    changes_ = other.changes_;
    changes_seen_ = other.changes_seen_;
    index_ = std::move(other.index_);
    other.index_.clear();
  }
  return *this;
}

FakeDeviceMapper::Device* FakeDeviceMapper::find(const std::string& name) {
  // Devices are only appended or erased, so a stale index has the wrong size (remove_device
  // clears it). With duplicate names the first one wins, as in a linear search.
  if (index_.size() != devices_.size()) {
    index_.clear();
    for (size_t i = 0; i < devices_.size(); ++i) {
      index_.emplace(devices_[i].device.name, i);
    }
  }
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &devices_[it->second];
}

void FakeDeviceMapper::add_device(std::string name, DeviceNumber dev, std::string uuid,
                                  std::string_view table_line,
                                  std::optional<std::string_view> status_line) {
  std::lock_guard lock(mutex_);
  Device device;
  device.device = {std::move(name), dev};
  device.uuid = std::move(uuid);
  if (auto target = parse_target_line(table_line)) {
    device.table.push_back(std::move(*target));
  }
  if (status_line) {
    device.status.emplace();
    if (auto target = parse_target_line(*status_line)) {
      device.status->push_back(std::move(*target));
    }
  }
  devices_.push_back(std::move(device));
  ++changes_;
}

void FakeDeviceMapper::remove_device(const std::string& name) {
  std::lock_guard lock(mutex_);
  std::erase_if(devices_, [&](const Device& d) { return d.device.name == name; });
  index_.clear();
  ++changes_;
}

void FakeDeviceMapper::set_list_error(std::optional<Error> error) {
  std::lock_guard lock(mutex_);
  list_error_ = std::move(error);
  ++changes_;
}

void FakeDeviceMapper::set_status_error(const std::string& name, Error error) {
  std::lock_guard lock(mutex_);
  if (Device* device = find(name)) {
    device->status_error = std::move(error);
  }
}

void FakeDeviceMapper::set_event_nr(const std::string& name, uint32_t event_nr) {
  std::lock_guard lock(mutex_);
  if (Device* device = find(name)) {
    device->event_nr = event_nr;
  }
  ++changes_;
}

void FakeDeviceMapper::set_status_line(const std::string& name, std::string_view status_line) {
  std::lock_guard lock(mutex_);
  if (Device* device = find(name)) {
    device->status.emplace();
    if (auto target = parse_target_line(status_line)) {
      device->status->push_back(std::move(*target));
    }
  }
  ++changes_;
}

void FakeDeviceMapper::set_table_line(const std::string& name, std::string_view table_line) {
  std::lock_guard lock(mutex_);
  if (Device* device = find(name)) {
    device->table.clear();
    if (auto target = parse_target_line(table_line)) {
      device->table.push_back(std::move(*target));
    }
  }
  ++changes_;
}

void FakeDeviceMapper::set_suspended(const std::string& name, bool suspended) {
  std::lock_guard lock(mutex_);
  if (Device* device = find(name)) {
    device->suspended = suspended;
  }
  ++changes_;
}

void FakeDeviceMapper::set_before_status(const std::string& name,
                                         std::function<void()> before_status) {
  std::lock_guard lock(mutex_);
  if (Device* device = find(name)) {
    device->before_status = std::move(before_status);
  }
}

void FakeDeviceMapper::note_change() {
  std::lock_guard lock(mutex_);
  ++changes_;
}

FakeDeviceMapper::Calls FakeDeviceMapper::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

Expected<std::vector<DmDevice>> FakeDeviceMapper::list_devices() {
  std::lock_guard lock(mutex_);
  ++calls_.list;
  if (list_error_) {
    return *list_error_;
  }
  std::vector<DmDevice> list;
  list.reserve(devices_.size());
  for (const auto& device : devices_) {
    list.push_back(device.device);
  }
  return list;
}

Expected<DmReport> FakeDeviceMapper::status(const DmDevice& wanted) {
  std::unique_lock lock(mutex_);
  ++calls_.status;
  if (Device* device = find(wanted.name); device != nullptr && device->before_status) {
    std::function<void()> before_status = device->before_status;
    lock.unlock();
    before_status();
    lock.lock();
  }
  Device* device = find(wanted.name);
  if (device == nullptr || !device->status) {
    return DmReport::vanished();
  }
  if (device->status_error) {
    return *device->status_error;
  }
  return DmReport{true, device->uuid, device->event_nr, *device->status};
}

Expected<DmReport> FakeDeviceMapper::table(const DmDevice& wanted) {
  std::lock_guard lock(mutex_);
  ++calls_.table;
  Device* device = find(wanted.name);
  if (device == nullptr) {
    return DmReport::vanished();
  }
  if (device->table_error) {
    return *device->table_error;
  }
  return DmReport{true, device->uuid, device->event_nr, device->table};
}

Expected<DmInfo> FakeDeviceMapper::info(const DmDevice& wanted) {
  std::lock_guard lock(mutex_);
  ++calls_.info;
  Device* device = find(wanted.name);
  DmInfo info;
  if (device == nullptr) {
    info.exists = false;
    return info;
  }
  info.suspended = device->suspended;
  return info;
}

Expected<bool> FakeDeviceMapper::changed_since_last_call() {
  std::lock_guard lock(mutex_);
  const bool changed = changes_ != changes_seen_;
  changes_seen_ = changes_;
  return changed;
}

Expected<DmVersions> FakeDeviceMapper::versions() {
  return DmVersions{"fake (captured dmsetup text)", "fake"};
}

}  // namespace thinpool
