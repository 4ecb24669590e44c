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
  // What only pools and other devices keep, apart, so that thin volumes, most of a big host's
  // devices, do not carry it.
  struct Stack {
    std::string name;
    std::string uuid;    // the dm uuid ("" when the device has none)
    ThinPoolTable pool;  // kPool
    // kOther: every "<major>:<minor>" its targets name, the devices it is built on (a pool's
    // _tdata on a raid LV, a PV on a multipath map, ...).
    std::vector<DeviceNumber> below;
  };
  std::unique_ptr<const Stack> stack;  // kPool, kOther
  // kThin: the volume's names and label text, made by labelled_names() once per device and pool
  // (in DeviceTables' names store); null until then.
  const VolumeNames* volume_names = nullptr;

 private:
  friend class DeviceTables;
  // Whether this is the device `name` was, as far as kept: a thin volume's name is kept only with
  // its labels.
  bool named(std::string_view name) const;

  // kThin: of its dm uuid, only a hash (whether a volume read again after a change is the one
  // that was: a recreated one has another uuid) and whether it is LVM's (its name is then split
  // into VG and LV).
  uint64_t uuid_hash_ = 0;
  bool lvm_ = false;
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

  // The names and label text of the thin volume `device`, looked up in this read, with these
  // values of `pool` and `device_id` (see VolumeNames): the kept ones while they hold them, else
  // made now and kept. Null for a device this read did not look up as a thin volume. They are in
  // names_store() as it is until end_read().
  const VolumeNames* labelled_names(const DmDevice& device, std::string_view escaped_pool,
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
