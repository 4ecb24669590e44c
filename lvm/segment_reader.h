// Reading one LV segment (linear, striped, mirror, raid, thin-pool, thin) out of a parsed
// metadata tree, with the checks lvm2 makes. Internal to collectors/lvm (vg_reader.cc).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "base/result.h"
#include "lvm/config_parser.h"
#include "lvm/vg_model.h"

namespace thinpool::lvm {

// What a segment may name: the VG's PVs (name -> index in VolumeGroup::pvs) and all its LVs.
struct SegmentReferences {
  const std::map<std::string, size_t, std::less<>>& pv_index;
  const std::set<std::string, std::less<>>& lv_names;
};

// `node` is a segment section ("segment1 { ... }"); areas and LV references must name what
// `references` holds.
Expected<Segment> read_segment(const ConfigNode& node, const SegmentReferences& references);

}  // namespace thinpool::lvm
