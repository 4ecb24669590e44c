// What each device-mapper device is, from its table, kept between inventory reads for as long
// as device-mapper provably changed nothing.
//
// A device's table changes only by a table swap (load + resume), and its name, uuid and number
// only by a create, remove or rename. Each of those moves the kernel's global event counter
// (drivers/md/dm-ioctl.c: dm_issue_global_event() in do_resume, dm_create, dev_remove, dev_rename,
// and the dm_table_event callback), which DeviceMapper::changed_since_last_call() watches. So the
// tables read since the counter last moved are the live tables. A device's own event counter is
// no such proof: a table swap leaves it alone (a thin volume reverted with `lvconvert --merge`
// gets another thin id and keeps event_nr 0), which is how a cache keyed on it went stale.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/device_number.h"
#include "base/result.h"
#include "dm/device_mapper.h"
#include "thin/device_names.h"
#include "thin/thin_parsers.h"

namespace thinpool {

enum class DeviceKind { kPool, kThin, kOther };

struct DeviceTable {
  DeviceKind kind = DeviceKind::kOther;
  uint64_t length_sectors = 0;  // of the single target of a pool or thin volume
  ThinTable thin;               // kThin
  // What only pools and other devices have, apart, so that thin volumes, most of a big host's
  // devices, do not carry it.
  struct Stack {
    ThinPoolTable pool;  // kPool
    // kOther: every "<major>:<minor>" its targets name, the devices it is built on (a pool's
    // _tdata on a raid LV, a PV on a multipath map, ...).
    std::vector<DeviceNumber> below;
  };
  std::unique_ptr<const Stack> stack;  // kPool, kOther
  // kThin: the volume's names, uuid and label text, made by labelled_names() once per device and
  // pool (in DeviceTables' names store); null until then.
  const VolumeNames* volume_names = nullptr;

  // The dm uuid ("" when the device has none).
  std::string_view uuid() const {
    return volume_names != nullptr ? volume_names->uuid()
                                   : std::string_view(ids_).substr(name_size_);
  }

 private:
  friend class DeviceTables;
  std::string_view name() const {
    return volume_names != nullptr ? volume_names->dm_name()
                                   : std::string_view(ids_).substr(0, name_size_);
  }
  // The device's name and uuid in `ids_`, or in `names` (a thin volume's, once they are made).
  void set_ids(std::string_view name, std::string_view uuid);
  void keep_names(const VolumeNames* names);

  // The device's name and then its uuid; empty (no allocation) once volume_names hold both.
  std::string ids_;
  uint32_t name_size_ = 0;
};

// Why a device was left out of a read.
struct SkipReason {
  std::string reason;  // "table" (the ioctl failed) or "parse" (a table line the parser refuses)
  std::string target;  // with "parse": the dm target type, "thin-pool" or "thin"
  std::string detail;  // the error, quoting the line
};

class DeviceTables {
 public:
  // Starts a read. When device-mapper changed anything since the previous read (`changed`),
  // every table kept is read again as its device is looked up.
  void begin_read(bool changed);

  // The device's table, kept or read now (DeviceMapper::table, which does not block). nullopt
  // when the device is left out: gone since the list or reloaded as it was read (silently), or
  // `skip` says why. An Error only for a missing privilege, which ends the read.
  Expected<const DeviceTable*> lookup(const DmDevice& device, DeviceMapper& device_mapper,
                                      std::optional<SkipReason>& skip);

  // The names and label text of the thin volume at `dev`, looked up in this read, with these
  // values of `pool` and `device_id` (see VolumeNames): the kept ones while they hold them, else
  // made now and kept. Null for a device this read did not look up as a thin volume. They are in
  // names_store() as it is until end_read().
  const VolumeNames* labelled_names(DeviceNumber dev, std::string_view escaped_pool,
                                    std::string_view device_id);
  // Where the names labelled_names() gives in this read are: what an inventory holds on to.
  std::shared_ptr<const VolumeNamesStore> names_store() const { return names_; }

  // Ends the read: devices that were not looked up are forgotten; when most of the names store
  // is no longer used, the names still used are copied into a new one (the old one lives on
  // while an inventory holds it).
  void end_read();

  size_t size() const { return tables_.size(); }

 private:
  struct Entry {
    DeviceTable table;      // with the device's name
    uint64_t valid_in = 0;  // the read whose change check this table passed
    uint64_t seen_in = 0;   // the last read that looked it up
  };

  // Hashed: a steady scrape of 10,000 volumes looks every one up (a tree lookup chased 14
  // pointers for each).
  std::unordered_map<DeviceNumber, Entry> tables_;
  uint64_t read_ = 0;
  uint64_t valid_since_ = 0;  // the first read since device-mapper last changed anything
  std::shared_ptr<VolumeNamesStore> names_ = std::make_shared<VolumeNamesStore>();
};

}  // namespace thinpool
