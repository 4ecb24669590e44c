// libFuzzer target: LVM text metadata from a disk is untrusted input. Parses it, and reads a
// volume group from whatever parses: once from the whole tree, once as parse_volume_group does
// (each LV read as its section closes, vg_reader.cc), which must give the same VG or error.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "lvm/config_parser.h"
#include "lvm/vg_model.h"

namespace {

using thinpool::lvm::VolumeGroup;

bool same_volume_groups(const VolumeGroup& a, const VolumeGroup& b) {
  if (a.name != b.name || a.lvs.size() != b.lvs.size() || a.thin_lvs.size() != b.thin_lvs.size() ||
      a.pvs.size() != b.pvs.size() || a.allocated_extents() != b.allocated_extents()) {
    return false;
  }
  const std::vector<thinpool::lvm::LogicalVolume> all_a = a.all_lvs();
  const std::vector<thinpool::lvm::LogicalVolume> all_b = b.all_lvs();
  if (all_a.size() != all_b.size()) {
    return false;
  }
  for (size_t i = 0; i < all_a.size(); ++i) {
    const auto& lv_a = all_a[i];
    const auto& lv_b = all_b[i];
    if (lv_a.name != lv_b.name || lv_a.status != lv_b.status ||
        lv_a.segments.size() != lv_b.segments.size()) {
      return false;
    }
    for (size_t s = 0; s < lv_a.segments.size(); ++s) {
      const auto& seg_a = lv_a.segments[s];
      const auto& seg_b = lv_b.segments[s];
      if (seg_a.name != seg_b.name || seg_a.extent_count != seg_b.extent_count ||
          seg_a.areas.size() != seg_b.areas.size()) {
        return false;
      }
      for (size_t k = 0; k < seg_a.areas.size(); ++k) {
        if (seg_a.areas[k].kind != seg_b.areas[k].kind ||
            seg_a.areas[k].name != seg_b.areas[k].name) {
          return false;
        }
      }
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  thinpool::Expected<VolumeGroup> streamed = thinpool::lvm::parse_volume_group(text);
  thinpool::Expected<thinpool::lvm::ConfigNode> tree = thinpool::lvm::parse_config(text);
  if (!tree.ok()) {
    if (streamed.ok() || streamed.error().message != tree.error().message) {
      __builtin_trap();
    }
    return 0;
  }
  thinpool::Expected<VolumeGroup> vg = thinpool::lvm::extract_volume_group(*tree);
  if (vg.ok() != streamed.ok() || (!vg.ok() && vg.error().message != streamed.error().message) ||
      (vg.ok() && !same_volume_groups(*vg, *streamed))) {
    __builtin_trap();
  }
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
