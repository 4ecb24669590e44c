#include "lvm/devices_file.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>

namespace thinpool::lvm {
namespace {

// The IDTYPEs lvm2 2.03.16 knows (device_id.c idtype_from_str); any other matches nothing.
constexpr std::array<std::string_view, 8> kKnownIdTypes = {"sys_wwid",   "sys_serial", "devname",
                                                           "mpath_uuid", "crypt_uuid", "lvmlv_uuid",
                                                           "md_uuid",    "loop_file"};

// The value of the field whose name starts at `at`, as device_id.c _copy_idline_str reads it:
// after the next '=', leading spaces skipped, up to the next space.
std::string field_value(std::string_view line, size_t at) {
  const size_t equals = line.find('=', at);
  if (equals == std::string_view::npos) {
    return {};
  }
  size_t begin = equals + 1;
  while (begin < line.size() && line[begin] == ' ') {
    ++begin;
  }
  const size_t end = std::min(line.find(' ', begin), line.size());
  return std::string(line.substr(begin, end - begin));
}

// The value of `name` anywhere in the line (lvm2 uses strstr); nullopt when it is not there.
std::optional<std::string> field(std::string_view line, std::string_view name) {
  const size_t at = line.find(name);
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  return field_value(line, at);
}

// "." and "" both mean no value.
std::string optional_value(const std::optional<std::string>& value) {
  return value && *value != "." ? *value : std::string();
}

// atoi(3), as lvm2 reads PART: optional sign and leading digits; anything else gives 0.
int leading_int(std::string_view text) {
  size_t i = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    i = 1;
  }
  int64_t value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    value = std::min<int64_t>(value * 10 + (text[i] - '0'), INT_MAX);
  }
  return static_cast<int>(negative ? -value : value);
}

bool is_known_idtype(std::string_view idtype) {
  return std::find(kKnownIdTypes.begin(), kKnownIdTypes.end(), idtype) != kKnownIdTypes.end();
}

const std::string* id_of(const DeviceIdentity& device, std::string_view idtype) {
  for (const auto& [type, name] : device.ids) {
    if (type == idtype) {
      return &name;
    }
  }
  return nullptr;
}

bool has_stable_id(const DeviceIdentity& device) {
  return std::any_of(device.ids.begin(), device.ids.end(),
                     [](const auto& id) { return id.first != "devname"; });
}

// IDTYPE=devname: the device's own name, or any device-mapper name of it (device_id.c
// _match_dm_devnames accepts /dev/mapper/x and /dev/dm-N for the same device).
bool names_device(const DeviceIdentity& device, std::string_view idname) {
  if (device.names.empty()) {
    return false;
  }
  if (device.names.front() == idname) {
    return true;
  }
  const bool dm_name = idname.starts_with("/dev/mapper/") || idname.starts_with("/dev/dm-");
  return dm_name &&
         std::find(device.names.begin(), device.names.end(), idname) != device.names.end();
}

}  // namespace

DevicesFile parse_devices_file(std::string_view text) {
  DevicesFile file;
  int line_number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    if (line.starts_with('#')) {
      continue;
    }
    if (line.starts_with("SYSTEMID")) {
      file.system_id = field_value(line, 0);
      continue;
    }
    if (line.starts_with("VERSION")) {
      file.version = field_value(line, 0);
      continue;
    }
    const std::optional<std::string> idtype = field(line, "IDTYPE");
    const std::optional<std::string> idname = field(line, "IDNAME");
    if (!idtype || !idname) {
      continue;
    }
    DevicesFileEntry entry;
    entry.idtype = *idtype;
    entry.idname = optional_value(idname);
    entry.devname = optional_value(field(line, "DEVNAME"));
    entry.pvid = optional_value(field(line, "PVID"));
    entry.part = leading_int(optional_value(field(line, "PART")));
    entry.line = line_number;
    file.entries.push_back(std::move(entry));
  }
  return file;
}

std::string normalize_pvid(std::string_view pvid) {
  std::string out;
  for (const char c : pvid) {
    if (c != '-') {
      out += c;
    }
  }
  return out;
}

DevicesFileVerdict match_devices_file(const DevicesFile& file, const DeviceIdentity& device,
                                      std::string_view search_for_devnames) {
  const std::string pvid = device.pvid ? normalize_pvid(*device.pvid) : std::string();
  const auto part_matches = [&](const DevicesFileEntry& entry) {
    return !device.partition || entry.part == *device.partition;
  };
  const auto usable = [&](const DevicesFileEntry& entry) {
    return !entry.idname.empty() && is_known_idtype(entry.idtype) && part_matches(entry);
  };
  // By id: device_ids_match, then device_ids_validate's PVID check for devname entries.
  for (const DevicesFileEntry& entry : file.entries) {
    if (!usable(entry)) {
      continue;
    }
    if (entry.idtype == "devname") {
      const bool wrong_pvid = device.pvid && !entry.pvid.empty() && entry.pvid != pvid;
      if (names_device(device, entry.idname) && !wrong_pvid) {
        return {DevicesFileMatch::kByDevname, &entry};
      }
    } else if (const std::string* id = id_of(device, entry.idtype); id && *id == entry.idname) {
      return {DevicesFileMatch::kById, &entry};
    }
  }
  // A renamed device: device_ids_find_renamed_devs looks for devname entries' PVIDs.
  const bool search =
      search_for_devnames != "none" && (search_for_devnames != "auto" || !has_stable_id(device));
  if (search && !pvid.empty()) {
    for (const DevicesFileEntry& entry : file.entries) {
      if (entry.idtype == "devname" && entry.pvid == pvid) {
        return {DevicesFileMatch::kByPvid, &entry};
      }
    }
  }
  // Ids the caller could not give: the PVID, or before the label is read the DEVNAME hint.
  for (const DevicesFileEntry& entry : file.entries) {
    if (!usable(entry) || entry.idtype == "devname" || id_of(device, entry.idtype) != nullptr) {
      continue;
    }
    const bool matches = device.pvid && !entry.pvid.empty()
                             ? entry.pvid == pvid
                             : !device.names.empty() && entry.devname == device.names.front();
    if (matches) {
      return {DevicesFileMatch::kUnverified, &entry};
    }
  }
  return {};
}

Expected<DeviceSelection> DeviceSelection::load(const LvmConfig& config) {
  DeviceSelection selection;
  selection.filter_ = config.device_filter();
  selection.search_for_devnames_ = config.search_for_devnames();
  if (!config.use_devicesfile()) {
    return selection;
  }
  Expected<ConfigFileText> text = read_config_file(config.devices_file_path().string(), true);
  if (!text.ok()) {
    return text.error();
  }
  selection.fingerprint_.files.push_back(text->fingerprint);
  if (text->fingerprint.exists()) {
    DevicesFile file = parse_devices_file(text->text);
    file.fingerprint = text->fingerprint;
    selection.devices_file_ = std::move(file);
  }
  return selection;
}

bool DeviceSelection::selects(const DeviceIdentity& device) const {
  if (devices_file_) {
    return match_devices_file(*devices_file_, device, search_for_devnames_).listed();
  }
  return filter_.accepts(device.names);
}

}  // namespace thinpool::lvm
