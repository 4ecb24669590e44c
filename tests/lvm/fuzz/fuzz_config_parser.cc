// libFuzzer target: LVM text metadata from a disk is untrusted input. Parses it, and reads a
// volume group from whatever parses.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lvm/config_parser.h"
#include "lvm/vg_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  thinpool::Expected<thinpool::lvm::ConfigNode> tree = thinpool::lvm::parse_config(text);
  if (!tree.ok()) {
    return 0;
  }
  thinpool::Expected<thinpool::lvm::VolumeGroup> vg = thinpool::lvm::extract_volume_group(*tree);
  if (vg.ok()) {
    // Checked by extract_volume_group: never more allocated than there is.
    if (vg->allocated_extents() > vg->total_extents()) {
      __builtin_trap();
    }
    (void)vg->free_bytes();
    (void)thinpool::lvm::thin_pools(*vg);
  }
  return 0;
}
