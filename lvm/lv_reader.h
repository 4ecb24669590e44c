// Reading one LV out of a parsed metadata tree, with the checks lvm2 makes: its own settings and
// segments, then what needs the VG's other LVs. Internal to lvm/ (vg_reader.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "lvm/config_parser.h"
#include "lvm/segment_reader.h"
#include "lvm/vg_model.h"

namespace thinpool::lvm {

// What read_lv_items leaves for finish_lv, and where the VG's reader put an LV it took while
// parsing.
struct LvChecks {
  uint64_t segment_count = 0;
  size_t first_site = 0;   // its segments' sites: LVs taken while parsing
  size_t child_index = 0;  // its place in logical_volumes: LVs taken while parsing
  bool in_table = false;   // taken into a ThinLvTable, else kept whole
  size_t index = 0;        // there
};

// The LV's own settings and its segments, in file order. With `sites`, the names the segments
// give are not looked up yet (see read_segment_deferred): their sites are appended to it; without,
// they are looked up in `references`.
Status read_lv_items(const ConfigNode& node, const SegmentReferences& references,
                     std::vector<SegmentReferenceSites>* sites, LogicalVolume& lv,
                     LvChecks& checks);

// The checks that need the VG's other LVs: the names the segments give (when read with `sites`:
// not checked yet), segment_count, gaps between segments, the size. `path`: the LV's section path.
Status finish_lv(std::string_view path, LogicalVolume& lv, const LvChecks& checks,
                 const std::vector<SegmentReferenceSites>* sites,
                 const SegmentReferences& references, uint64_t extent_size_bytes);

// finish_lv for a thin LV taken while parsing into a ThinLvTable, which only holds one that needs
// no other check (one thin segment, segment1, from extent 0, segment_count 1): the names it gives
// and its size, with finish_lv's messages.
Status finish_table_lv(std::string_view path, const ThinVolumeSummary& thin,
                       const SegmentReferenceSites& sites, const SegmentReferences& references,
                       uint64_t extent_size_bytes);

}  // namespace thinpool::lvm
