// Reading one LV segment (linear, striped, mirror, raid, thin-pool, thin) out of a parsed
// metadata tree, with the checks lvm2 makes, and the check of every segment's PV extents. Internal
// to collectors/lvm (vg_reader.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "lvm/config_parser.h"
#include "lvm/vg_model.h"

namespace thinpool::lvm {

// The names of a VG's LVs while it is read: views of the parse tree's keys, which outlive the
// read, sorted (16 bytes per LV, where a set of their copies took about 110: 1.1 MB at the
// parse's peak with 10,000 LVs).
class LvNames {
 public:
  void reserve(size_t count) { names_.reserve(count); }
  // Before seal().
  void add(std::string_view name) { names_.push_back(name); }
  // Once every name is added, before contains().
  void seal();
  bool contains(std::string_view name) const;

 private:
  std::vector<std::string_view> names_;
};

// What a segment may name: the VG's PVs (name -> index in VolumeGroup::pvs) and all its LVs.
struct SegmentReferences {
  const std::map<std::string, size_t, std::less<>>& pv_index;
  const LvNames& lv_names;
};

// `node` is a segment section ("segment1 { ... }"); areas and LV references must name what
// `references` holds.
Expected<Segment> read_segment(const ConfigNode& node, const SegmentReferences& references);

// Where a segment names other volumes: what read_segment_deferred leaves for
// resolve_segment_references to check once every PV and LV of the VG is known.
struct SegmentReferenceSites {
  enum class AreaList : uint8_t { kNone, kStripes, kMirrors, kRaids };
  AreaList area_list = AreaList::kNone;
  SourcePosition area_list_position;  // of `stripes = [...]` or `mirrors = [...]`, for errors
  bool has_origin = false;            // `origin` set, even to "" (an error then)
  bool has_external_origin = false;
};

// read_segment for an LV read while the VG is still being parsed (its LVs further down are not
// known yet): the same checks but those of the names areas and LV references hold, whose sites
// go to `sites`; areas are left as kPhysicalVolume.
Expected<Segment> read_segment_deferred(const ConfigNode& node, SegmentReferenceSites& sites);

// The checks read_segment_deferred left out, in read_segment's order and with its messages;
// sets each area's kind. `segment_path` is the segment's section path: "vg0/logical_volumes/lv/
// segment1".
Status resolve_segment_references(std::string_view segment_path, Segment& segment,
                                  const SegmentReferenceSites& sites,
                                  const SegmentReferences& references);

// The part of resolve_segment_references for a thin segment (its LV references; it has no
// areas), for a thin LV kept in a ThinLvTable: the same checks and messages.
Status resolve_thin_references(std::string_view segment_path, std::string_view thin_pool,
                               std::string_view origin, std::string_view external_origin,
                               const SegmentReferenceSites& sites,
                               const SegmentReferences& references);

// Once every LV is read: each PV area lies within its PV and no PV extent is held twice (then the
// free extents are exact), and the VG's size fits 64 bits. `pv_index` as in SegmentReferences.
Status check_pv_allocations(const VolumeGroup& vg,
                            const std::map<std::string, size_t, std::less<>>& pv_index);

}  // namespace thinpool::lvm
