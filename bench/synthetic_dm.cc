#include "bench/synthetic_dm.h"

#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "collectors/registry.h"

namespace thinpool::bench {
namespace {

constexpr uint32_t kDmMajor = 254;
constexpr std::string_view kVg = "cinder-volumes";
// "LVM-" + 32-character VG id; the LV id and layer follow.
constexpr std::string_view kVgId = "aCOuZhT4Y2fj2XdrpgoKuJ9zVSPEpJ3u";

struct SyntheticDevice {
  std::string name;
  DeviceNumber dev;
  std::string uuid;
  std::string table_line;   // "<start> <length> <type> <params>"
  std::string status_line;  // the same form; the kernel ends thin-pool params with a blank
};

// LVM doubles every '-' inside the VG and LV names and joins them with a single '-'.
std::string lvm_dm_name(std::string_view vg, std::string_view lv, std::string_view layer = {}) {
  auto mangle = [](std::string_view part) {
    std::string out;
    for (char c : part) {
      out.push_back(c);
      if (c == '-') {
        out.push_back('-');
      }
    }
    return out;
  };
  std::string name = mangle(vg);
  name.push_back('-');
  name.append(mangle(lv));
  if (!layer.empty()) {
    name.push_back('-');
    name.append(layer);
  }
  return name;
}

// A 32-character LV id that differs per counter, like lvm2's random ids.
std::string lv_id(uint64_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(32, 'x');
  uint64_t x = n * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  for (char& c : id) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    c = kAlphabet[(x >> 40) % (sizeof(kAlphabet) - 1)];
  }
  return id;
}

// A Cinder volume name: "volume-" + a uuid.
std::string cinder_volume_name(uint64_t n) {
  uint64_t x = n * 0x9E3779B97F4A7C15ull;
  return fmt::format("volume-{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}", x >> 32, (x >> 16) & 0xffff,
                     (x >> 4) & 0xfff, (n * 7) & 0xfff, (x ^ (n << 20)) & 0xffffffffffffull);
}

std::vector<SyntheticDevice> synthetic_devices(const SyntheticShape& shape) {
  std::vector<SyntheticDevice> devices;
  devices.reserve(static_cast<size_t>(shape.pools) * (4 + shape.volumes_per_pool));
  uint32_t minor = 0;
  uint64_t lv_counter = 0;
  for (int p = 0; p < shape.pools; ++p) {
    const std::string pool_lv =
        p == 0 ? "cinder-volumes-pool" : fmt::format("cinder-volumes-pool{}", p);
    const std::string vg_prefix = fmt::format("LVM-{}", kVgId);
    const std::string pool_lv_id = lv_id(lv_counter++);
    const DeviceNumber tmeta{kDmMajor, minor++};
    const DeviceNumber tdata{kDmMajor, minor++};
    const DeviceNumber tpool{kDmMajor, minor++};
    const DeviceNumber linear{kDmMajor, minor++};
    const uint64_t data_sectors = 2577285120;  // 1.2 TiB of 1.5 MiB blocks
    const uint64_t data_blocks = data_sectors / 3072;
    devices.push_back({lvm_dm_name(kVg, pool_lv + "_tmeta"), tmeta,
                       vg_prefix + lv_id(lv_counter++) + "-tmeta", "0 4423680 linear 8:16 2048",
                       "0 4423680 linear "});
    devices.push_back({lvm_dm_name(kVg, pool_lv + "_tdata"), tdata,
                       vg_prefix + lv_id(lv_counter++) + "-tdata",
                       fmt::format("0 {} linear 8:16 4425728", data_sectors),
                       fmt::format("0 {} linear ", data_sectors)});
    devices.push_back(
        {lvm_dm_name(kVg, pool_lv, "tpool"), tpool, vg_prefix + pool_lv_id + "-tpool",
         fmt::format("0 {} thin-pool {}:{} {}:{} 3072 0 1 skip_block_zeroing", data_sectors,
                     tmeta.major, tmeta.minor, tdata.major, tdata.minor),
         fmt::format("0 {} thin-pool {} 8886/552960 {}/{} - rw discard_passdown "
                     "queue_if_no_space - 1024 ",
                     data_sectors, shape.volumes_per_pool + 19, data_blocks * 3 / 4, data_blocks)});
    devices.push_back({lvm_dm_name(kVg, pool_lv), linear, vg_prefix + pool_lv_id + "-pool",
                       fmt::format("0 {} linear {}:{} 0", data_sectors, tpool.major, tpool.minor),
                       fmt::format("0 {} linear ", data_sectors)});
    for (int v = 0; v < shape.volumes_per_pool; ++v) {
      const uint64_t n = lv_counter++;
      const uint64_t size = (uint64_t{1} + n % 64) * 2097152;  // 1..64 GiB
      const uint64_t mapped = size / (2 + n % 5) / 128 * 128;
      devices.push_back({lvm_dm_name(kVg, cinder_volume_name(n)), DeviceNumber{kDmMajor, minor++},
                         vg_prefix + lv_id(n),
                         fmt::format("0 {} thin {}:{} {}", size, tpool.major, tpool.minor, v + 1),
                         mapped == 0 ? fmt::format("0 {} thin 0 -", size)
                                     : fmt::format("0 {} thin {} {}", size, mapped, size - 1)});
    }
  }
  return devices;
}

}  // namespace

SyntheticDmsetupText synthetic_dmsetup_text(const SyntheticShape& shape) {
  SyntheticDmsetupText text;
  for (const SyntheticDevice& device : synthetic_devices(shape)) {
    text.info +=
        fmt::format("{} {} {} {}\n", device.name, device.dev.major, device.dev.minor, device.uuid);
    text.table += fmt::format("{}: {}\n", device.name, device.table_line);
    text.status += fmt::format("{}: {}\n", device.name, device.status_line);
  }
  return text;
}

FakeDeviceMapper synthetic_device_mapper(const SyntheticShape& shape) {
  FakeDeviceMapper fake;
  for (SyntheticDevice& device : synthetic_devices(shape)) {
    fake.add_device(std::move(device.name), device.dev, std::move(device.uuid), device.table_line,
                    std::string_view(device.status_line));
  }
  // The fake builds its name index on the first lookup: build it now, so that it counts as the
  // fake's state and not as the first scrape's memory.
  if (auto devices = fake.list_devices(); devices && !devices->empty()) {
    (void)fake.status(devices->front());
  }
  return fake;
}

std::string write_synthetic_fixture(const SyntheticShape& shape, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return fmt::format("mkdir {}: {}", dir, ec.message());
  }
  SyntheticDmsetupText text = synthetic_dmsetup_text(shape);
  for (const auto& [file, content] :
       {std::pair{"info", &text.info}, {"table", &text.table}, {"status", &text.status}}) {
    std::ofstream out(dir + "/" + file, std::ios::binary);
    out << *content;
    if (!out) {
      return fmt::format("write {}/{}: failed", dir, file);
    }
  }
  return "";
}

std::vector<Scraper::NamedCollector> device_mapper_collectors(InventoryReader& reader) {
  CollectorDependencies dependencies;
  dependencies.inventory = &reader;
  return make_collectors(registered_collectors(), {"thinpool", "thin"}, dependencies, {});
}

}  // namespace thinpool::bench
