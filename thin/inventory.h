// One consistent read of every thin pool and thin volume the kernel knows.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "dm/device_mapper.h"
#include "lvm/dm_names.h"
#include "thin/device_names.h"
#include "thin/thin_parsers.h"

namespace thinpool {

struct ThinPool {
  DeviceNames names;
  std::string uuid;  // the dm uuid (LVM's "LVM-<vg uuid><lv uuid>-tpool" for LVM pools)
  uint64_t length_sectors = 0;
  ThinPoolTable table;
  ThinPoolStatus status;
  uint64_t thin_volume_count = 0;
  uint64_t provisioned_sectors = 0;  // sum of the pool's thin volume sizes
};

struct ThinVolume {
  const VolumeNames& names() const { return *shared_names; }
  // Kept in the thin-table cache between reads, made again when the device's name or uuid changes.
  std::shared_ptr<const VolumeNames> shared_names;
  uint64_t size_sectors = 0;
  ThinTable table;
  ThinStatus status;
  // The dm name of the pool device, or "<major>:<minor>" when the pool was not seen; empty when
  // the pool has failed (the volume's table no longer says which pool it is).
  std::string_view pool_name() const {
    return shared_pool_name ? std::string_view(*shared_pool_name) : std::string_view();
  }
  // One string per pool, shared by its volumes (10,000 volumes: 0.6 MiB less than a copy each).
  std::shared_ptr<const std::string> shared_pool_name;
};

struct ThinInventory {
  std::vector<ThinPool> pools;
  std::vector<ThinVolume> volumes;
  uint64_t devices_seen = 0;
  // The devices the pools' tables name (metadata and data), for collectors that follow them to
  // the PVs below. Only these: every listed device would hold a second copy of a big host's names.
  std::map<DeviceNumber, DmDevice> pool_sub_devices;
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
  // Keyed by device number. A rename or a volume recreated under the same number changes the name
  // or the uuid; the uuid is kept as a hash (std::hash, 64 bits), the name in `names`.
  struct CachedThinTable {
    std::shared_ptr<const VolumeNames> names;  // what the volume's labels are made of
    size_t uuid_hash = 0;
    uint64_t length = 0;
    uint32_t event_nr = 0;
    ThinTable table;
    // The read() that last saw the volume: entries of volumes that are gone are dropped at the
    // end of each read (the cache is updated in place, not rebuilt, for hosts with thousands).
    uint64_t seen_in_read = 0;
  };

  // The device's single table target, of type `target`, parsed with `parse` (a function of the
  // parameters returning Expected<T>). Empty when the device is skipped: gone since the list,
  // reloaded with another target, its table unreadable (logged) or unparsable (logged and
  // counted as a parse error of `target`). An error only when the process lacks the privilege,
  // which ends the whole read.
  template <typename Parse>
  auto read_table(const DmDevice& device, std::string_view target, Parse parse) -> Expected<
      std::optional<typename std::invoke_result_t<Parse, std::string_view>::value_type>>;
  // Each adds the device to `inventory`, or skips it (logged, parse errors counted), and returns
  // nothing; or the error that ends the whole read (no privilege). `status` holds one target of
  // its type. (Not a Status: its string costs about 50 instructions per device and scrape,
  // callgrind.)
  std::optional<Error> read_pool(const DmDevice& device, const DmReport& status,
                                 ThinInventory& inventory);
  // Reads the volume's table only when the thin-table cache has no entry that is still valid.
  std::optional<Error> read_volume(const DmDevice& device, const DmReport& status,
                                   uint64_t this_read, ThinInventory& inventory);

  void record_parse_error(const std::string& target, const std::string& dm_name,
                          const std::string& detail);
  // Logs why a device was skipped: at warning level the first time, at debug level while the
  // same reason repeats on later scrapes.
  void log_skipped(const std::string& dm_name, const std::string& reason);

  DeviceMapper& device_mapper_;
  std::mutex read_mutex_;
  std::map<DeviceNumber, CachedThinTable> thin_tables_;
  uint64_t reads_ = 0;
  // Skip reasons already logged at warning level (kept while they are still seen).
  std::set<std::string> logged_skips_;
  std::set<std::string> seen_skips_;
  std::atomic<uint64_t> pool_parse_errors_{0};
  std::atomic<uint64_t> thin_parse_errors_{0};
};

}  // namespace thinpool
