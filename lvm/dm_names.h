// LVM's naming of device-mapper devices.
#pragma once

#include <string>
#include <string_view>

namespace thinpool::lvm {

struct LvmName {
  std::string vg;
  std::string lv;
  std::string layer;  // "tpool" for a thin pool's own target, empty for most LVs
};

// Splits a dm name `<vg>-<lv>[-<layer>]` the way lvm2's dm_split_lvm_name() does: a single '-'
// separates, a doubled '--' stands for one '-' inside a name.
// "cinder--volumes-cinder--volumes--pool-tpool" -> {"cinder-volumes", "cinder-volumes-pool",
// "tpool"}
LvmName split_lvm_name(std::string_view dm_name);

// True for the uuids lvm2 gives its devices: "LVM-" + VG id + LV id [+ "-" + layer].
bool is_lvm_uuid(std::string_view uuid);

}  // namespace thinpool::lvm
