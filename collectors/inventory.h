// One consistent read of every thin pool and thin volume the kernel knows.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "collectors/device_mapper.h"
#include "collectors/lvm_name.h"
#include "collectors/thin_parsers.h"

namespace thinpool {

// Names of a device as users know them: the dm name and, for LVM devices, VG and LV.
struct DeviceNames {
  std::string dm_name;
  DeviceNumber dev;
  std::string uuid;
  std::string vg;  // empty unless the uuid says LVM
  std::string lv;  // for a pool's "-tpool" device, the pool LV
};

struct ThinPool {
  DeviceNames names;
  uint64_t length_sectors = 0;
  ThinPoolTable table;
  ThinPoolStatus status;
  uint64_t thin_volume_count = 0;
  uint64_t provisioned_sectors = 0;  // sum of the pool's thin volume sizes
};

struct ThinVolume {
  DeviceNames names;
  uint64_t size_sectors = 0;
  ThinTable table;
  ThinStatus status;
  // The dm name of the pool device, or "<major>:<minor>" when the pool was not seen.
  std::string pool_name;
};

struct ThinInventory {
  std::vector<ThinPool> pools;
  std::vector<ThinVolume> volumes;
  uint64_t devices_seen = 0;
  // Every device of the list, for collectors that follow a table to another device.
  std::map<DeviceNumber, DmDevice> devices_by_number;
};

// Reads the inventory with one DM_DEVICE_LIST, one noflush status per device, a table per
// pool, and a table per thin volume only when the volume is new or its device changed: a thin
// table changes only with a table reload, which shows in the uuid, the length or event_nr.
//
// Devices that vanish mid-read are skipped silently; a malformed line skips its device, counts a
// parse error for its target type and is logged (at warning level the first time it is seen).
// Thread-safe: reads are serialized.
class InventoryReader {
 public:
  explicit InventoryReader(DeviceMapper& device_mapper) : device_mapper_(device_mapper) {}

  Expected<ThinInventory> read();

  // Parse errors so far for a target type ("thin-pool" or "thin").
  uint64_t parse_errors(const std::string& target) const;

 private:
  struct CachedThinTable {
    std::string uuid;
    uint64_t length = 0;
    uint32_t event_nr = 0;
    ThinTable table;
    // The read() that last saw the volume: entries of volumes that are gone are dropped at the
    // end of each read (the cache is updated in place, not rebuilt, for hosts with thousands).
    uint64_t seen_in_read = 0;
  };
  using CacheKey = std::tuple<DeviceNumber, std::string>;
  using CacheKeyView = std::tuple<DeviceNumber, std::string_view>;
  // Orders cache keys as the tuples do, and finds them by CacheKeyView without copying the name.
  struct CacheKeyLess {
    using is_transparent = void;
    static CacheKeyView view(const CacheKey& key) { return {std::get<0>(key), std::get<1>(key)}; }
    static CacheKeyView view(const CacheKeyView& key) { return key; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      const CacheKeyView x = view(a);
      const CacheKeyView y = view(b);
      if (std::get<0>(x) < std::get<0>(y) || std::get<0>(y) < std::get<0>(x)) {
        return std::get<0>(x) < std::get<0>(y);
      }
      return std::get<1>(x) < std::get<1>(y);
    }
  };

  void record_parse_error(const std::string& target, const std::string& dm_name,
                          const std::string& detail);
  // Logs why a device was skipped: at warning level the first time, at debug level while the
  // same reason repeats on later scrapes.
  void log_skipped(const std::string& dm_name, const std::string& reason);

  DeviceMapper& device_mapper_;
  std::mutex read_mutex_;
  std::map<CacheKey, CachedThinTable, CacheKeyLess> thin_tables_;
  uint64_t reads_ = 0;
  // Skip reasons already logged at warning level (kept while they are still seen).
  std::set<std::string> logged_skips_;
  std::set<std::string> seen_skips_;
  std::atomic<uint64_t> pool_parse_errors_{0};
  std::atomic<uint64_t> thin_parse_errors_{0};
};

DeviceNames make_device_names(const DmDevice& device, const std::string& uuid);

}  // namespace thinpool
