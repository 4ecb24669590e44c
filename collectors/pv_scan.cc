#include "collectors/pv_scan.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "base/text.h"

namespace thinpool {
namespace {

namespace fs = std::filesystem;

// The first line of a sysfs attribute, or "" when it cannot be read.
std::string read_attribute(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

bool path_exists(const fs::path& path) {
  std::error_code ignored;
  return fs::exists(path, ignored);
}

std::string dm_uuid(const fs::path& block) {
  return read_attribute(block / "dm" / "uuid");
}

// A device that another one stacks on in a way lvm2 reads through the upper device: a path of a
// multipath map, a member of an MD array.
bool is_component(const fs::path& block) {
  std::error_code error;
  for (const auto& holder : fs::directory_iterator(block / "holders", error)) {
    const std::string name = holder.path().filename().string();
    if (name.starts_with("md")) {
      return true;
    }
    if (name.starts_with("dm-") && dm_uuid(block.parent_path() / name).starts_with("mpath-")) {
      return true;
    }
  }
  return false;
}

// A whole disk with partitions: lvm2 ignores it (its "partitioned" filter) and reads the
// partitions.
bool has_partitions(const fs::path& block, const std::string& name) {
  std::error_code error;
  for (const auto& child : fs::directory_iterator(block, error)) {
    const std::string child_name = child.path().filename().string();
    if (child_name.starts_with(name) && child_name != name &&
        path_exists(child.path() / "partition")) {
      return true;
    }
  }
  return false;
}

// Every /dev/disk/by-*/ link, by the device it points at.
std::multimap<DeviceNumber, std::string> disk_links() {
  std::multimap<DeviceNumber, std::string> links;
  std::error_code error;
  for (const auto& kind : fs::directory_iterator("/dev/disk", error)) {
    std::error_code inner;
    for (const auto& link : fs::directory_iterator(kind.path(), inner)) {
      struct stat st {};
      if (::stat(link.path().c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
        links.emplace(DeviceNumber{major(st.st_rdev), minor(st.st_rdev)}, link.path().string());
      }
    }
  }
  return links;
}

// Where a block device's node may be, from sysfs (which answers whatever the device does):
// /dev/mapper/<name> for a device-mapper device (a multipath map, a dm-crypt mapping), the
// kernel's DEVNAME (/dev/sdb1, /dev/dm-3), and /dev/block/<major>:<minor> last.
std::vector<std::string> node_paths(DeviceNumber dev) {
  const std::string sys = fmt::format("/sys/dev/block/{}/", to_string(dev));
  std::vector<std::string> paths;
  std::string line;
  if (std::ifstream dm_name(sys + "dm/name"); std::getline(dm_name, line) && !line.empty()) {
    paths.push_back("/dev/mapper/" + line);
  }
  std::ifstream uevent(sys + "uevent");
  while (std::getline(uevent, line)) {
    if (line.starts_with("DEVNAME=")) {
      paths.push_back("/dev/" + line.substr(8));
    }
  }
  paths.push_back(fmt::format("/dev/block/{}", to_string(dev)));
  return paths;
}

class SysfsBlockDevices final : public BlockDeviceSource {
 public:
  explicit SysfsBlockDevices(fs::path class_block) : class_block_(std::move(class_block)) {}

  std::string generation() override { return read_attribute("/sys/kernel/uevent_seqnum"); }

  Expected<std::vector<BlockDevice>> list(bool scan_lvs,
                                          const std::vector<DeviceNumber>& known_lvm_lvs) override {
    std::error_code error;
    fs::directory_iterator entries(class_block_, error);
    if (error) {
      return Error{fmt::format("list {}: {}", class_block_.string(), error.message())};
    }
    const std::multimap<DeviceNumber, std::string> links = disk_links();
    std::vector<BlockDevice> devices;
    for (const auto& entry : entries) {
      const std::string name = entry.path().filename().string();
      const fs::path& block = entry.path();
      // LVs first: a host with 10,000 thin volumes lists them all here. Those the caller knows
      // cost no read (a device-mapper device is "dm-<minor>", drivers/md/dm.c, and every one has
      // device-mapper's major, which the known ones give), the others one: their uuid.
      const bool is_dm = name.starts_with("dm-");
      if (is_dm && !scan_lvs) {
        if (is_known(name, known_lvm_lvs) || dm_uuid(block).starts_with("LVM-")) {
          continue;
        }
      }
      auto dev = parse_device_number(read_attribute(block / "dev"));
      const std::string size = read_attribute(block / "size");
      if (!dev || size.empty() || size == "0") {
        continue;
      }
      BlockDevice device;
      device.dev = *dev;
      std::string devname = name;
      std::ifstream uevent(block / "uevent");
      for (std::string line; std::getline(uevent, line);) {
        if (line.starts_with("DEVNAME=")) {
          devname = line.substr(8);
        }
      }
      device.names.push_back("/dev/" + devname);
      if (is_dm) {
        if (read_attribute(block / "dm" / "suspended") == "1") {
          continue;
        }
        device.names.push_back("/dev/mapper/" + read_attribute(block / "dm" / "name"));
      }
      if (is_component(block) ||
          (!path_exists(block / "partition") && has_partitions(block, name))) {
        continue;
      }
      auto [first, last] = links.equal_range(device.dev);
      for (auto link = first; link != last; ++link) {
        device.names.push_back(link->second);
      }
      device.identity =
          fmt::format("{} {} {}", to_string(device.dev), size, read_attribute(block / "diskseq"));
      devices.push_back(std::move(device));
    }
    std::sort(devices.begin(), devices.end(),
              [](const BlockDevice& a, const BlockDevice& b) { return a.dev < b.dev; });
    return devices;
  }

 private:
  // Whether the device-mapper device `name` ("dm-<minor>") is one of `known` (sorted).
  static bool is_known(std::string_view name, const std::vector<DeviceNumber>& known) {
    const std::optional<uint64_t> minor = parse_u64(name.substr(3));
    return !known.empty() && minor && *minor <= UINT32_MAX &&
           std::binary_search(known.begin(), known.end(),
                              DeviceNumber{known.front().major, static_cast<uint32_t>(*minor)});
  }

  fs::path class_block_;
};

}  // namespace

// The first of its node_paths that sysfs
// named, or "<major>:<minor>".
std::string device_node(DeviceNumber dev) {
  std::vector<std::string> paths = node_paths(dev);
  return paths.size() > 1 ? std::move(paths.front()) : to_string(dev);
}

namespace {

bool is_node_of(const std::string& path, DeviceNumber dev) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode) && major(st.st_rdev) == dev.major &&
         minor(st.st_rdev) == dev.minor;
}

// open_block_device, also saying which node it opened (into `opened`).
Expected<std::unique_ptr<lvm::BlockReader>> open_node_of(DeviceNumber dev, std::string& opened) {
  std::string reasons;
  for (const std::string& path : node_paths(dev)) {
    if (!is_node_of(path, dev)) {
      reasons += fmt::format("{}{} is not block device {}", reasons.empty() ? "" : "; ", path,
                             to_string(dev));
      continue;
    }
    auto reader = lvm::FileBlockReader::open(path);
    if (!reader) {
      return reader.error();
    }
    opened = path;
    return std::unique_ptr<lvm::BlockReader>(std::move(*reader));
  }
  return Error{fmt::format("no device node for {}: {}", to_string(dev), reasons)};
}

}  // namespace

Expected<std::unique_ptr<lvm::BlockReader>> open_block_device(DeviceNumber dev) {
  std::string opened;
  return open_node_of(dev, opened);
}

std::function<Expected<std::unique_ptr<lvm::BlockReader>>(DeviceNumber)>
remembering_block_device_opener() {
  struct Nodes {
    std::mutex mutex;
    std::map<DeviceNumber, std::string> path;  // the node last opened for each device
  };
  auto nodes = std::make_shared<Nodes>();
  return [nodes](DeviceNumber dev) -> Expected<std::unique_ptr<lvm::BlockReader>> {
    std::string known;
    {
      std::lock_guard lock(nodes->mutex);
      if (auto it = nodes->path.find(dev); it != nodes->path.end()) {
        known = it->second;
      }
    }
    if (!known.empty() && is_node_of(known, dev)) {
      if (auto reader = lvm::FileBlockReader::open(known); reader) {
        return std::unique_ptr<lvm::BlockReader>(std::move(*reader));
      }
    }
    // Not opened yet, or its node is gone or now another device's: sysfs says where it is.
    std::string opened;
    auto reader = open_node_of(dev, opened);
    std::lock_guard lock(nodes->mutex);
    if (reader) {
      nodes->path[dev] = opened;
    } else {
      nodes->path.erase(dev);
    }
    return reader;
  };
}

std::unique_ptr<BlockDeviceSource> sysfs_block_devices(std::string class_block) {
  return std::make_unique<SysfsBlockDevices>(std::move(class_block));
}

PvScanner::PvScanner(std::unique_ptr<BlockDeviceSource> source, Options options)
    : source_(std::move(source)), options_(std::move(options)) {}

void PvScanner::set_options(Options options) {
  options_ = std::move(options);
  generation_.reset();
}

Expected<std::vector<ScannedDevice>> PvScanner::scan(
    const LabelReader& read_label,
    const std::function<std::vector<DeviceNumber>()>& known_lvm_lvs) {
  const auto now = std::chrono::steady_clock::now();
  std::string generation = source_->generation();
  if (!generation_ || generation.empty() || generation != *generation_ ||
      now - listed_at_ >= options_.rescan_interval) {
    std::vector<DeviceNumber> known;
    if (known_lvm_lvs && !options_.scan_lvs) {
      known = known_lvm_lvs();
      std::sort(known.begin(), known.end());
    }
    auto listed = source_->list(options_.scan_lvs, known);
    ++stats_.lists;
    if (!listed) {
      return listed.error();
    }
    candidates_.clear();
    for (BlockDevice& device : *listed) {
      if (!options_.accept || options_.accept(device)) {
        candidates_.push_back(std::move(device));
      }
    }
    // Labels of devices that went away, or were listed before the interval passed, are read again.
    if (generation_ && now - listed_at_ >= options_.rescan_interval) {
      labels_.clear();
    }
    std::erase_if(labels_, [this](const auto& label) {
      return std::none_of(candidates_.begin(), candidates_.end(), [&](const BlockDevice& device) {
        return device.identity == label.first;
      });
    });
    generation_ = std::move(generation);
    listed_at_ = now;
  }
  std::vector<ScannedDevice> found;
  for (const BlockDevice& device : candidates_) {
    auto known = labels_.find(device.identity);
    if (known == labels_.end()) {
      std::optional<Expected<lvm::PvLabel>> label = read_label(device);
      if (!label) {
        continue;  // did not answer in time: asked again at the next scan
      }
      ++stats_.label_reads;
      std::optional<lvm::PvLabel> pv;
      if (label->ok()) {
        pv = std::move(**label);
      }
      known = labels_.emplace(device.identity, std::move(pv)).first;
    }
    if (known->second && (!options_.accept_pv || options_.accept_pv(device, *known->second))) {
      found.push_back({device, known->second});
    }
  }
  return found;
}

}  // namespace thinpool
