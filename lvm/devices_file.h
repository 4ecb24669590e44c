// lvm2's devices file (lib/device/device_id.c in lvm2 2.03.16): with devices/use_devicesfile = 1
// and <lvm dir>/devices/<devicesfile> present, lvm2 uses only the devices the file lists, and
// ignores devices/filter and devices/global_filter (filter-regex.c _accept_p). With the setting
// on and no file, lvm2 uses no devices file (dev-cache.c setup_devices).
//
//   # LVM uses devices listed in this file.
//   VERSION=1.1.2
//   IDTYPE=sys_wwid IDNAME=naa.600... DEVNAME=/dev/sdb PVID=Kx7m...  PART=1
//   IDTYPE=devname IDNAME=/dev/vdc DEVNAME=/dev/vdc PVID=TW0dad...
//
// Parsing follows device_ids_read: a line starting with '#' is a comment; SYSTEMID= and
// VERSION= lines are headers; any other line needs IDTYPE and IDNAME, else it is skipped. Each
// field is found by its name anywhere in the line, its value runs from after the '=' (spaces
// skipped) to the next space: only spaces separate fields, so a tab stays inside a value (lvm2
// then does not know the IDTYPE and the line matches nothing). "." means no value. PVIDs are
// compared as written: 32 characters without dashes, as lvm2 writes them; a PVID written with
// dashes matches no device in lvm2, nor here. The PVID of a device is given in either form.
//
// Which device an entry stands for (device_ids_match, device_ids_validate,
// device_ids_find_renamed_devs), and what match_devices_file does with what the caller passes:
//   - The entry's PART must be the device's partition number (0 for a whole device).
//   - IDTYPE=devname: IDNAME must be the device's name (the first of its names, the /dev node
//     lvm2 shows), or for a device-mapper device any of its /dev/mapper/ or /dev/dm- names. Once
//     the PV label is read, an entry's PVID must be the device's, or lvm2 drops the match.
//   - Other IDTYPEs (sys_wwid, sys_serial, mpath_uuid, crypt_uuid, lvmlv_uuid, md_uuid,
//     loop_file): IDNAME must equal the device's id of that type, which lvm2 reads from sysfs.
//     This library reads nothing: the caller passes the ids it has (DeviceIdentity::ids).
//   - A devname entry whose name now belongs to another device is found again by its PVID on a
//     device that has no stable id of its own (devices/search_for_devnames = "auto", the
//     default; "all" searches every device, "none" none).
// The gap to lvm2: for an IDTYPE whose id the caller did not pass, the entry is taken to stand
// for the device when its PVID is the device's (or, before the label is read, when its DEVNAME is
// the device's name); lvm2 would compare the id instead. Such a match is reported as kUnverified.
// lvm2 also skips the PVID search when an earlier command found nothing (/run/lvm/
// searched_devnames); this library always searches.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "lvm/device_filter.h"
#include "lvm/lvm_config.h"

namespace thinpool::lvm {

struct DevicesFileEntry {
  std::string idtype;   // as written: "sys_wwid", "devname", ...
  std::string idname;   // empty when absent or "."
  std::string devname;  // the name the device had when written: a hint
  std::string pvid;     // as written; empty when absent or "."
  int part = 0;         // partition number; 0 for a whole device
  int line = 0;         // 1-based, in the file
};

struct DevicesFile {
  std::string version;    // VERSION=
  std::string system_id;  // SYSTEMID=
  std::vector<DevicesFileEntry> entries;
  FileFingerprint fingerprint;  // set by read_devices_file
};

// Never fails: lvm2 skips the lines it cannot use.
DevicesFile parse_devices_file(std::string_view text);

// `pvid` without dashes: "twodad-bHkQ-..." (format_lvm_uuid) -> "twodadbHkQ...".
std::string normalize_pvid(std::string_view pvid);

// What the caller knows about a block device.
struct DeviceIdentity {
  std::vector<std::string> names;  // the /dev node first, then the symlinks to it
  std::optional<int> partition;    // 0 for a whole device; nullopt: PART is not checked
  // Ids the caller read, by lvm2's IDTYPE name: {"sys_wwid", "naa.600..."}. Any id other than
  // "devname" makes the device one with a stable id (no PVID search for renamed devices).
  std::vector<std::pair<std::string, std::string>> ids;
  // nullopt until the PV label is read; then the PV's uuid, or "" for no PV label.
  std::optional<std::string> pvid;
};

enum class DevicesFileMatch {
  kNotListed,
  kById,        // IDTYPE/IDNAME equal to an id the caller passed
  kByDevname,   // IDTYPE=devname, IDNAME one of the device's names
  kByPvid,      // IDTYPE=devname entry found again by its PVID (a renamed device)
  kUnverified,  // the caller did not pass the entry's IDTYPE; matched by PVID or DEVNAME
};

struct DevicesFileVerdict {
  DevicesFileMatch match = DevicesFileMatch::kNotListed;
  const DevicesFileEntry* entry = nullptr;  // into the DevicesFile; nullptr when not listed

  bool listed() const { return match != DevicesFileMatch::kNotListed; }
};

DevicesFileVerdict match_devices_file(const DevicesFile& file, const DeviceIdentity& device,
                                      std::string_view search_for_devnames = "auto");

// Which devices lvm2 uses, from a loaded LvmConfig: those the devices file lists when it is in
// use, else those global_filter and filter accept. Other filters lvm2 applies (device types,
// partitioned disks, md and multipath components, signatures) are not part of this.
class DeviceSelection {
 public:
  // Reads the devices file when devices/use_devicesfile is set and the file exists. Errors name
  // the file: "open /etc/lvm/devices/system.devices: Permission denied".
  static Expected<DeviceSelection> load(const LvmConfig& config);

  const std::optional<DevicesFile>& devices_file() const { return devices_file_; }
  bool uses_devices_file() const { return devices_file_.has_value(); }
  bool selects(const DeviceIdentity& device) const;

  // The devices file (present or not) as read; empty when devices/use_devicesfile is 0.
  const ConfigFingerprint& fingerprint() const { return fingerprint_; }
  bool changed() const { return fingerprint_.changed(); }

 private:
  std::optional<DevicesFile> devices_file_;
  DeviceFilter filter_;
  std::string search_for_devnames_ = "auto";
  ConfigFingerprint fingerprint_;
};

}  // namespace thinpool::lvm
