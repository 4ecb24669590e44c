// One consistent read of every thin pool and thin volume the kernel knows.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/condition_log.h"
#include "base/single_flight.h"
#include "dm/device_mapper.h"
#include "thin/device_names.h"
#include "thin/device_tables.h"
#include "thin/pool_status_reader.h"
#include "thin/thin_parsers.h"

namespace thinpool {

struct ThinPool {
  DeviceNames names;
  std::string uuid;  // the dm uuid (LVM's "LVM-<vg uuid><lv uuid>-tpool" for LVM pools)
  uint64_t length_sectors = 0;
  ThinPoolTable table;
  ThinPoolStatus status;
  // The pool's status was not read: its calls block (PoolStatusReader). Its mode and usage are
  // unknown then, and so is what its volumes have mapped.
  bool status_blocked = false;
  uint64_t thin_volume_count = 0;
  uint64_t provisioned_sectors = 0;  // sum of the pool's thin volume sizes
  // What the pool stands on: the device-mapper devices below it (its metadata and data devices,
  // LVM's _tmeta and _tdata, and whatever those are built on: raid images, a multipath map, ...),
  // and, on each way down, the first device that is not one of LVM's LVs: where its PVs are (a
  // disk, a partition, or a multipath map or dm-crypt mapping used as a PV).
  std::vector<DmDevice> sub_devices;
  std::vector<DeviceNumber> physical_devices;
  // The names of the devices of the stack, the pool's own included, that are suspended.
  std::vector<std::string> suspended_devices;
};

struct ThinVolume {
  DeviceNumber dev;
  const VolumeNames& names() const { return *volume_names; }
  // Kept with the device's table between reads, made again when the device is renamed or
  // recreated, or its pool's name or its device id change; in the inventory's names_store.
  const VolumeNames* volume_names = nullptr;
  uint64_t size_sectors = 0;
  ThinTable table;
  ThinStatus status;
  bool status_blocked = false;  // not read: its pool's status calls block
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
  // Where the volumes' names are (the thin-table cache's, as it was in this read).
  std::shared_ptr<const VolumeNamesStore> names_store;
};

using InventoryRef = std::shared_ptr<const ThinInventory>;

// Reads the inventory: the device list, and each device's table (DeviceTables), again only when
// device-mapper changed something since the last read (a create, remove, rename or table swap
// moves the counter DeviceMapper::changed_since_last_call() watches) or the device is new; the
// status of each pool and thin volume, a pool at a time on a worker (PoolStatusReader);
// DM_DEV_STATUS of the devices under each pool. Devices of other kinds cost nothing but their
// place in the list.
//
// A device that vanishes mid-read is left out silently. Any other failure tied to one device (its
// table or status ioctl failing, a line the parser refuses, a pool whose calls block) leaves that
// device out, counts it in device_errors() by reason and is logged once per reason; every other
// device is read. The whole read fails only when device-mapper cannot be used at all (no device
// list) or the process lacks the privilege.
class InventoryReader {
 public:
  explicit InventoryReader(
      DeviceMapper& device_mapper,
      const std::shared_ptr<BlockingCallPool>& threads = std::make_shared<BlockingCallPool>());

  // A read that finishes by `deadline` (the status of a pool that does not answer by half the
  // time left is given up). Concurrent callers share the read in progress, each waiting at most
  // until its own deadline.
  Expected<InventoryRef> read(Clock::time_point deadline);
  Expected<InventoryRef> read();  // with a deadline of ten seconds from now

  // Lines that could not be parsed so far, per dm target type ("thin-pool", "thin").
  std::array<std::pair<std::string_view, uint64_t>, 2> parse_error_counts() const;
  // The same for one target type.
  uint64_t parse_errors(std::string_view target) const;

  // Devices left out of a read so far, per reason: "table" and "status" (the ioctl failed),
  // "parse" (a line the parser refuses), "blocked" (a pool whose status calls block, and its
  // volumes).
  static constexpr std::array<std::string_view, 4> kDeviceErrorReasons = {"table", "status",
                                                                          "parse", "blocked"};
  std::array<std::pair<std::string_view, uint64_t>, 4> device_error_counts() const;

 private:
  // A listed device and what its table says it is.
  struct Classified {
    const DmDevice* device;
    const DeviceTable* table;
    uint32_t index;    // in the read's device list
    size_t group = 0;  // its status group, for thin volumes
  };

  Expected<InventoryRef> read_now(Clock::time_point deadline);
  // Each pool's stack: the dm devices below it, found breadth first through the tables of the
  // listed devices that are neither pools nor thin volumes (`others`, by number), and the devices
  // at the bottom. No ioctl: the tables are DeviceTables'.
  static void find_pool_stacks(const std::map<DeviceNumber, Classified>& others,
                               ThinInventory& inventory);
  // One status group per pool, in the order of `pools`, then one per pool device that is not
  // listed; sets each volume's group, and each pool's suspended devices (DM_DEV_STATUS).
  std::vector<StatusGroup> status_groups(const std::vector<Classified>& pools,
                                         std::vector<Classified>& volumes,
                                         ThinInventory& inventory);
  // Leaves a device out of this read: counted and logged once per reason.
  void skip(const DmDevice& device, std::string_view reason, std::string_view detail,
            std::array<bool, 4>& logged);
  void count_parse_error(std::string_view target);

  DeviceMapper& device_mapper_;
  SingleFlight<Expected<InventoryRef>> reads_;
  // The device list of the last read: used again while device-mapper changes nothing, written over
  // by the next list unless still shared.
  std::shared_ptr<std::vector<DmDevice>> last_list_;
  DeviceTables tables_;
  PoolStatusReader statuses_;
  ConditionLog skipped_{spdlog::level::warn, "leaving devices out ({}): {}",
                        "no device left out ({}) any more"};
  std::atomic<uint64_t> pool_parse_errors_{0};
  std::atomic<uint64_t> thin_parse_errors_{0};
  std::array<std::atomic<uint64_t>, 4> device_errors_{};
};

}  // namespace thinpool
