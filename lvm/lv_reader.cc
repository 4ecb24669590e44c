#include "lvm/lv_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "lvm/config_getters.h"

namespace thinpool::lvm {
namespace {

Status check_size(std::string_view path, uint64_t extents, uint64_t extent_size_bytes) {
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(extents, extent_size_bytes, &bytes)) {
    return Error::parse(fmt::format("{}: size overflows 64 bits", path));
  }
  return {};
}

}  // namespace

Status read_lv_items(const ConfigNode& node, const SegmentReferences& references,
                     std::vector<SegmentReferenceSites>* sites, LogicalVolume& lv,
                     LvChecks& checks) {
  lv.name = node.key;
  if (Expected<std::string> id = node.get_string("id"); !id.ok()) {
    return id.error();
  }
  Expected<std::vector<std::string>> status = node.get_string_list("status");
  if (!status.ok()) {
    return status.error();
  }
  lv.status = LvStatus(*status);
  lv.visible = lv.status.contains("VISIBLE");
  if (Expected<std::string> host = get_optional_string(node, "creation_host"); !host.ok()) {
    return host.error();
  }
  if (auto error = assign(lv.profile, get_optional_string(node, "profile"))) {
    return *error;
  }
  std::optional<uint64_t> creation_time;
  if (auto error = assign(creation_time, get_optional_uint(node, "creation_time"))) {
    return *error;
  }
  lv.creation_time = creation_time.value_or(0);
  if (auto error = assign(checks.segment_count, node.get_uint("segment_count"))) {
    return *error;
  }
  for (const ConfigNode& child : node.children) {
    if (!child.is_section()) {
      continue;
    }
    Expected<Segment> segment = sites == nullptr
                                    ? read_segment(child, references)
                                    : read_segment_deferred(child, sites->emplace_back());
    if (!segment.ok()) {
      return segment.error();
    }
    lv.segments.push_back(std::move(*segment));
  }
  return {};
}

Status finish_lv(std::string_view path, LogicalVolume& lv, const LvChecks& checks,
                 const std::vector<SegmentReferenceSites>* sites,
                 const SegmentReferences& references, uint64_t extent_size_bytes) {
  for (size_t i = 0; sites != nullptr && i < lv.segments.size(); ++i) {
    Segment& segment = lv.segments[i];
    if (Status status =
            resolve_segment_references(fmt::format("{}/{}", path, segment.name), segment,
                                       (*sites)[checks.first_site + i], references);
        !status.ok()) {
      return status;
    }
  }
  if (lv.segments.size() != checks.segment_count) {
    return Error::parse(fmt::format("{}: segment_count is {} but there are {} segments", path,
                                    checks.segment_count, lv.segments.size()));
  }
  std::sort(lv.segments.begin(), lv.segments.end(),
            [](const Segment& a, const Segment& b) { return a.start_extent < b.start_extent; });
  uint64_t next_extent = 0;
  for (const Segment& segment : lv.segments) {
    if (segment.start_extent != next_extent) {
      return Error::parse(fmt::format("{}/{}: starts at extent {}, expected {} (gap or overlap)",
                                      path, segment.name, segment.start_extent, next_extent));
    }
    next_extent += segment.extent_count;
  }
  return check_size(path, next_extent, extent_size_bytes);
}

Status finish_table_lv(std::string_view path, const ThinVolumeSummary& thin,
                       const SegmentReferenceSites& sites, const SegmentReferences& references,
                       uint64_t extent_size_bytes) {
  if (Status status = resolve_thin_references(fmt::format("{}/segment1", path), thin.thin_pool,
                                              thin.origin, thin.external_origin, sites, references);
      !status.ok()) {
    return status;
  }
  return check_size(path, thin.extent_count, extent_size_bytes);
}

}  // namespace thinpool::lvm
