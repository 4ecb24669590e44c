// One consistent read of every thin pool and thin volume the kernel knows.
#pragma once

#include <array>
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
#include <utility>
#include <vector>

#include "base/condition_log.h"
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
  // What the pool stands on: the device-mapper devices below it (its metadata and data devices,
  // LVM's _tmeta and _tdata, and whatever those are built on: raid images, ...), and the other
  // block devices at the bottom of that stack (for an LVM pool: its PVs).
  std::vector<DmDevice> sub_devices;
  std::vector<DeviceNumber> bottom_devices;
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
};

// Reads the inventory with one DM_DEVICE_LIST, one noflush status per device, a table per
// pool and per device below a pool, and a table per thin volume only when the volume is new or
// its device changed: a thin table changes only with a table reload, which shows in the uuid, the
// length or event_nr.
//
// Devices that vanish mid-read are skipped silently; a malformed line skips its device, counts a
// parse error for its target type and is logged (at warning level the first time it is seen).
// Thread-safe: reads are serialized.
class InventoryReader {
 public:
  explicit InventoryReader(DeviceMapper& device_mapper) : device_mapper_(device_mapper) {}

  Expected<ThinInventory> read();

  // Parse errors so far, per dm target type ("thin-pool", "thin").
  std::array<std::pair<std::string_view, uint64_t>, 2> parse_error_counts() const;
  // The same for one target type.
  uint64_t parse_errors(std::string_view target) const;

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
  // Follows each pool's metadata and data devices down through the tables of the dm devices
  // below them (`others`: the listed devices that are neither pools nor thin volumes) to the block
  // devices at the bottom.
  std::optional<Error> read_pool_stacks(const std::vector<const DmDevice*>& others,
                                        ThinInventory& inventory);

  void record_parse_error(std::string_view target, const std::string& dm_name,
                          const std::string& detail);

  DeviceMapper& device_mapper_;
  std::mutex read_mutex_;
  std::map<DeviceNumber, CachedThinTable> thin_tables_;
  uint64_t reads_ = 0;
  // Why devices were skipped: at warning level when it starts, at debug level while the same
  // reason repeats on later reads; forgotten once a read no longer skips the device.
  ConditionLog skipped_{spdlog::level::warn, "skipping device {}: {}", "device {} reads again"};
  std::atomic<uint64_t> pool_parse_errors_{0};
  std::atomic<uint64_t> thin_parse_errors_{0};
};

}  // namespace thinpool
