// Reading a VolumeGroup out of a parsed metadata tree, with the checks lvm2 makes.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "lvm/config_getters.h"
#include "lvm/segment_reader.h"
#include "lvm/vg_model.h"

namespace thinpool::lvm {
namespace {

class VolumeGroupReader {
 public:
  Expected<VolumeGroup> read(const ConfigNode& root) {
    if (Status status = check_header(root); !status.ok()) {
      return status.error();
    }
    const ConfigNode* vg_node = nullptr;
    for (const ConfigNode& child : root.children) {
      if (child.is_section()) {
        vg_node = &child;
        break;
      }
    }
    if (vg_node == nullptr) {
      return Error::parse("no volume group section in the metadata");
    }
    vg_.name = vg_node->key;
    if (Status status = read_vg(*vg_node); !status.ok()) {
      return status.error();
    }
    if (Status status = check_allocations(); !status.ok()) {
      return status.error();
    }
    return std::move(vg_);
  }

 private:
  Status check_header(const ConfigNode& root) {
    Expected<std::string> contents = root.get_string("contents");
    if (!contents.ok()) {
      return with_context("not LVM volume group metadata", contents.error());
    }
    if (*contents != "Text Format Volume Group") {
      return Error::parse(
          fmt::format("not LVM volume group metadata: contents is \"{}\"", *contents));
    }
    Expected<int64_t> version = root.get_int("version");
    if (!version.ok()) {
      return with_context("not LVM volume group metadata", version.error());
    }
    if (*version != 1) {
      return Error::parse(
          fmt::format("unsupported LVM metadata format version {} (only 1 is known)", *version));
    }
    if (auto error = assign(vg_.description, get_optional_string(root, "description"))) {
      return *error;
    }
    if (auto error = assign(vg_.creation_host, get_optional_string(root, "creation_host"))) {
      return *error;
    }
    std::optional<uint64_t> creation_time;
    if (auto error = assign(creation_time, get_optional_uint(root, "creation_time"))) {
      return *error;
    }
    vg_.creation_time = creation_time.value_or(0);
    return {};
  }

  Status read_vg(const ConfigNode& node) {
    if (auto error = assign(vg_.id, node.get_string("id"))) {
      return *error;
    }
    if (auto error = assign(vg_.seqno, get_uint32(node, "seqno"))) {
      return *error;
    }
    if (auto error = assign(vg_.status, node.get_string_list("status"))) {
      return *error;
    }
    if (auto error = assign(vg_.format, get_optional_string(node, "format"))) {
      return *error;
    }
    if (auto error = assign(vg_.profile, get_optional_string(node, "profile"))) {
      return *error;
    }
    if (auto error = assign(vg_.extent_size_sectors, get_uint32(node, "extent_size"))) {
      return *error;
    }
    if (vg_.extent_size_sectors == 0) {
      return Error::parse(fmt::format("{}/extent_size: must not be 0", node.path));
    }
    const ConfigNode* pvs = nullptr;
    if (auto error = assign(pvs, node.get_section("physical_volumes"))) {
      return *error;
    }
    for (const ConfigNode& pv_node : pvs->children) {
      if (Status status = read_pv(pv_node); !status.ok()) {
        return status;
      }
    }
    const ConfigNode* lvs = node.find("logical_volumes");
    if (lvs == nullptr) {
      return {};
    }
    if (!lvs->is_section()) {
      return Error::parse(
          fmt::format("{}: expected a section, found {}", lvs->path, describe_node(*lvs)));
    }
    // Segments name LVs defined further down: learn every name first.
    for (const ConfigNode& lv_node : lvs->children) {
      if (lv_node.is_section()) {
        lv_names_.insert(lv_node.key);
      }
    }
    for (const ConfigNode& lv_node : lvs->children) {
      if (!lv_node.is_section()) {
        continue;  // lvm2 ignores settings here too
      }
      if (Status status = read_lv(lv_node); !status.ok()) {
        return status;
      }
    }
    return {};
  }

  Status read_pv(const ConfigNode& node) {
    if (!node.is_section()) {
      return Error::parse(
          fmt::format("{}: expected a PV section, found {}", node.path, describe_node(node)));
    }
    PhysicalVolume pv;
    pv.name = node.key;
    if (auto error = assign(pv.id, node.get_string("id"))) {
      return *error;
    }
    if (auto error = assign(pv.device_hint, get_optional_string(node, "device"))) {
      return *error;
    }
    if (auto error = assign(pv.status, node.get_string_list("status"))) {
      return *error;
    }
    if (node.find("flags") != nullptr) {
      if (auto error = assign(pv.flags, node.get_string_list("flags"))) {
        return *error;
      }
    }
    std::optional<uint64_t> dev_size;
    if (auto error = assign(dev_size, get_optional_uint(node, "dev_size"))) {
      return *error;
    }
    pv.dev_size_sectors = dev_size.value_or(0);
    if (auto error = assign(pv.pe_start_sectors, node.get_uint("pe_start"))) {
      return *error;
    }
    if (auto error = assign(pv.pe_count, get_uint32(node, "pe_count"))) {
      return *error;
    }
    pv_index_[pv.name] = vg_.pvs.size();
    vg_.pvs.push_back(std::move(pv));
    return {};
  }

  Status read_lv(const ConfigNode& node) {
    LogicalVolume lv;
    lv.name = node.key;
    if (auto error = assign(lv.id, node.get_string("id"))) {
      return *error;
    }
    if (auto error = assign(lv.status, node.get_string_list("status"))) {
      return *error;
    }
    lv.visible = contains(lv.status, "VISIBLE");
    if (auto error = assign(lv.creation_host, get_optional_string(node, "creation_host"))) {
      return *error;
    }
    if (auto error = assign(lv.profile, get_optional_string(node, "profile"))) {
      return *error;
    }
    std::optional<uint64_t> creation_time;
    if (auto error = assign(creation_time, get_optional_uint(node, "creation_time"))) {
      return *error;
    }
    lv.creation_time = creation_time.value_or(0);
    uint64_t segment_count = 0;
    if (auto error = assign(segment_count, node.get_uint("segment_count"))) {
      return *error;
    }
    for (const ConfigNode& child : node.children) {
      if (!child.is_section()) {
        continue;
      }
      Expected<Segment> segment = read_segment(child, {pv_index_, lv_names_});
      if (!segment.ok()) {
        return segment.error();
      }
      lv.segments.push_back(std::move(*segment));
    }
    if (lv.segments.size() != segment_count) {
      return Error::parse(fmt::format("{}: segment_count is {} but there are {} segments",
                                      node.path, segment_count, lv.segments.size()));
    }
    std::sort(lv.segments.begin(), lv.segments.end(),
              [](const Segment& a, const Segment& b) { return a.start_extent < b.start_extent; });
    uint64_t next_extent = 0;
    for (const Segment& segment : lv.segments) {
      if (segment.start_extent != next_extent) {
        return Error::parse(fmt::format("{}/{}: starts at extent {}, expected {} (gap or overlap)",
                                        node.path, segment.name, segment.start_extent,
                                        next_extent));
      }
      next_extent += segment.extent_count;
    }
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(next_extent, vg_.extent_size_bytes(), &bytes)) {
      return Error::parse(fmt::format("{}: size overflows 64 bits", node.path));
    }
    vg_.lvs.push_back(std::move(lv));
    return {};
  }

  // Every PV area within its PV and no PV extent held twice: then free extents are exact.
  Status check_allocations() {
    struct Extent {
      uint64_t begin;
      uint64_t end;
      const std::string* lv;
    };
    std::map<std::string, std::vector<Extent>> by_pv;
    for (const LogicalVolume& lv : vg_.lvs) {
      for (const Segment& segment : lv.segments) {
        for (const SegmentArea& area : segment.areas) {
          if (area.kind != AreaKind::kPhysicalVolume) {
            continue;
          }
          const PhysicalVolume& pv = vg_.pvs[pv_index_.at(area.name)];
          const uint64_t end = area.start_extent + segment.area_extents;
          if (end > pv.pe_count) {
            return Error::parse(fmt::format(
                "{}/{}: extents {}..{} lie beyond the end of {} ({} "
                "extents)",
                lv.name, segment.name, area.start_extent, end - 1, pv.name, pv.pe_count));
          }
          if (segment.area_extents > 0) {
            by_pv[area.name].push_back({area.start_extent, end, &lv.name});
          }
        }
      }
    }
    for (auto& [pv_name, extents] : by_pv) {
      std::sort(extents.begin(), extents.end(),
                [](const Extent& a, const Extent& b) { return a.begin < b.begin; });
      for (size_t i = 1; i < extents.size(); ++i) {
        if (extents[i].begin < extents[i - 1].end) {
          return Error::parse(fmt::format("extent {} of {} is allocated to both {} and {}",
                                          extents[i].begin, pv_name, *extents[i - 1].lv,
                                          *extents[i].lv));
        }
      }
    }
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(vg_.total_extents(), vg_.extent_size_bytes(), &bytes)) {
      return Error::parse(fmt::format("{}: size overflows 64 bits", vg_.name));
    }
    return {};
  }

  VolumeGroup vg_;
  std::map<std::string, size_t, std::less<>> pv_index_;
  std::set<std::string, std::less<>> lv_names_;
};

}  // namespace

Expected<VolumeGroup> extract_volume_group(const ConfigNode& root) {
  return VolumeGroupReader().read(root);
}

Expected<VolumeGroup> parse_volume_group(std::string_view metadata_text) {
  Expected<ConfigNode> tree = parse_config(metadata_text);
  if (!tree.ok()) {
    return tree.error();
  }
  return extract_volume_group(*tree);
}

}  // namespace thinpool::lvm
