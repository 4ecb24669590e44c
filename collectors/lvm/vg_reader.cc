// Reading a VolumeGroup out of a parsed metadata tree, with the checks lvm2 makes.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "collectors/lvm/vg_model.h"

namespace thinpool::lvm {
namespace {

constexpr uint64_t kUint32Max = std::numeric_limits<uint32_t>::max();

// Moves the value of `value` into `out`, or returns its error:
//   if (auto error = assign(vg_.id, node.get_string("id"))) { return *error; }
template <typename T, typename U>
std::optional<Error> assign(T& out, Expected<U> value) {
  if (!value.ok()) {
    return value.error();
  }
  out = std::move(value.value());
  return std::nullopt;
}

Error with_context(std::string_view context, const Error& error) {
  return Error{fmt::format("{}: {}", context, error.message), error.errno_value};
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// A uint setting that lvm2 keeps in 32 bits (seqno, extent counts, extent size).
Expected<uint64_t> get_uint32(const ConfigNode& node, std::string_view key) {
  Expected<uint64_t> value = node.get_uint(key);
  if (value.ok() && *value > kUint32Max) {
    return Error{fmt::format("{}/{}: {} does not fit in 32 bits", node.path, key, *value)};
  }
  return value;
}

// An optional setting: absent is fine, present with the wrong type is not.
Expected<std::optional<uint64_t>> get_optional_uint(const ConfigNode& node, std::string_view key) {
  if (node.find(key) == nullptr) {
    return std::optional<uint64_t>();
  }
  Expected<uint64_t> value = node.get_uint(key);
  if (!value.ok()) {
    return value.error();
  }
  return std::optional<uint64_t>(*value);
}

Expected<std::string> get_optional_string(const ConfigNode& node, std::string_view key) {
  if (node.find(key) == nullptr) {
    return std::string();
  }
  return node.get_string(key);
}

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
      return Error{"no volume group section in the metadata"};
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
      return Error{fmt::format("not LVM volume group metadata: contents is \"{}\"", *contents)};
    }
    Expected<int64_t> version = root.get_int("version");
    if (!version.ok()) {
      return with_context("not LVM volume group metadata", version.error());
    }
    if (*version != 1) {
      return Error{
          fmt::format("unsupported LVM metadata format version {} (only 1 is known)", *version)};
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
    if (auto error = assign(vg_.extent_size_sectors, get_uint32(node, "extent_size"))) {
      return *error;
    }
    if (vg_.extent_size_sectors == 0) {
      return Error{fmt::format("{}/extent_size: must not be 0", node.path)};
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
      return Error{fmt::format("{}: expected a section, found {}", lvs->path, describe_node(*lvs))};
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
      return Error{
          fmt::format("{}: expected a PV section, found {}", node.path, describe_node(node))};
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
    uint64_t segment_count = 0;
    if (auto error = assign(segment_count, node.get_uint("segment_count"))) {
      return *error;
    }
    for (const ConfigNode& child : node.children) {
      if (!child.is_section()) {
        continue;
      }
      Expected<Segment> segment = read_segment(child);
      if (!segment.ok()) {
        return segment.error();
      }
      lv.segments.push_back(std::move(*segment));
    }
    if (lv.segments.size() != segment_count) {
      return Error{fmt::format("{}: segment_count is {} but there are {} segments", node.path,
                               segment_count, lv.segments.size())};
    }
    std::sort(lv.segments.begin(), lv.segments.end(),
              [](const Segment& a, const Segment& b) { return a.start_extent < b.start_extent; });
    uint64_t next_extent = 0;
    for (const Segment& segment : lv.segments) {
      if (segment.start_extent != next_extent) {
        return Error{fmt::format("{}/{}: starts at extent {}, expected {} (gap or overlap)",
                                 node.path, segment.name, segment.start_extent, next_extent)};
      }
      next_extent += segment.extent_count;
    }
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(next_extent, vg_.extent_size_bytes(), &bytes)) {
      return Error{fmt::format("{}: size overflows 64 bits", node.path)};
    }
    vg_.lvs.push_back(std::move(lv));
    return {};
  }

  Expected<Segment> read_segment(const ConfigNode& node) {
    Segment segment;
    segment.name = node.key;
    if (auto error = assign(segment.start_extent, get_uint32(node, "start_extent"))) {
      return *error;
    }
    if (auto error = assign(segment.extent_count, get_uint32(node, "extent_count"))) {
      return *error;
    }
    std::string type;
    if (auto error = assign(type, node.get_string("type"))) {
      return *error;
    }
    // "thin-pool+METADATA_FORMAT": the segment type, then LV flags lvm2 keeps in it.
    size_t plus = type.find('+');
    segment.type = type.substr(0, plus);
    while (plus != std::string::npos) {
      const size_t next = type.find('+', plus + 1);
      segment.type_flags.push_back(type.substr(plus + 1, next - plus - 1));
      plus = next;
    }
    if (Status status = read_areas(node, segment); !status.ok()) {
      return status.error();
    }
    if (segment.type == "thin-pool") {
      Expected<ThinPoolSegment> pool = read_thin_pool(node);
      if (!pool.ok()) {
        return pool.error();
      }
      segment.thin_pool = std::move(*pool);
    } else if (segment.type == "thin") {
      Expected<ThinVolumeSegment> thin = read_thin(node);
      if (!thin.ok()) {
        return thin.error();
      }
      segment.thin = std::move(*thin);
    }
    return segment;
  }

  Status read_areas(const ConfigNode& node, Segment& segment) {
    if (node.find("stripes") != nullptr) {
      if (auto error = assign(segment.areas, read_area_pairs(node, "stripes"))) {
        return *error;
      }
      uint64_t stripe_count = 0;
      if (auto error = assign(stripe_count, get_uint32(node, "stripe_count"))) {
        return *error;
      }
      if (stripe_count == 0 || stripe_count != segment.areas.size()) {
        return Error{fmt::format("{}: stripe_count is {} but stripes lists {} areas", node.path,
                                 stripe_count, segment.areas.size())};
      }
      if (segment.extent_count % stripe_count != 0) {
        return Error{fmt::format("{}: extent_count {} is not a multiple of stripe_count {}",
                                 node.path, segment.extent_count, stripe_count)};
      }
      segment.area_extents = segment.extent_count / stripe_count;
      std::optional<uint64_t> stripe_size;
      if (auto error = assign(stripe_size, get_optional_uint(node, "stripe_size"))) {
        return *error;
      }
      segment.stripe_size_sectors = stripe_size.value_or(0);
    } else if (node.find("mirrors") != nullptr) {
      // Mirror legs (pvmove's temporary LV puts them straight on PVs): each holds it all.
      if (auto error = assign(segment.areas, read_area_pairs(node, "mirrors"))) {
        return *error;
      }
      segment.area_extents = segment.extent_count;
    } else if (node.find("raids") != nullptr) {
      // raid images and their metadata sub-LVs, by name; their own segments hold the PVs.
      std::vector<std::string> names;
      if (auto error = assign(names, node.get_string_list("raids"))) {
        return *error;
      }
      for (std::string& name : names) {
        if (!lv_names_.contains(name)) {
          return Error{fmt::format("{}/raids: unknown LV \"{}\"", node.path, name)};
        }
        segment.areas.push_back({AreaKind::kLogicalVolume, std::move(name), 0});
      }
    }
    return {};
  }

  // ["pv0", 0, "pv1", 0]: pairs of a volume name and its first extent.
  Expected<std::vector<SegmentArea>> read_area_pairs(const ConfigNode& node, std::string_view key) {
    const ConfigNode* list = node.find(key);
    const std::string context =
        fmt::format("{} (line {}:{})", list->path, list->position.line, list->position.column);
    if (list->is_section()) {
      return Error{fmt::format("{}: expected an array of areas, found a section", context)};
    }
    const std::vector<ConfigScalar>& items = list->value->items;
    if (items.empty() || items.size() % 2 != 0) {
      return Error{fmt::format("{}: expected pairs of volume name and extent, found {} items",
                               context, items.size())};
    }
    std::vector<SegmentArea> areas;
    for (size_t i = 0; i < items.size(); i += 2) {
      const auto* name = std::get_if<std::string>(&items[i]);
      const auto* extent = std::get_if<int64_t>(&items[i + 1]);
      if (name == nullptr || extent == nullptr || *extent < 0 ||
          static_cast<uint64_t>(*extent) > kUint32Max) {
        return Error{fmt::format("{}: area {} is not a volume name and an extent", context, i / 2)};
      }
      SegmentArea area;
      area.name = *name;
      area.start_extent = static_cast<uint64_t>(*extent);
      if (pv_index_.contains(*name)) {
        area.kind = AreaKind::kPhysicalVolume;
      } else if (lv_names_.contains(*name)) {
        area.kind = AreaKind::kLogicalVolume;
      } else {
        return Error{
            fmt::format("{}: area {} names \"{}\", which is neither a PV nor an LV of "
                        "the VG",
                        context, i / 2, *name)};
      }
      areas.push_back(std::move(area));
    }
    return areas;
  }

  Expected<std::string> get_lv_reference(const ConfigNode& node, std::string_view key) {
    Expected<std::string> name = node.get_string(key);
    if (name.ok() && !lv_names_.contains(*name)) {
      return Error{fmt::format("{}/{}: unknown LV \"{}\"", node.path, key, *name)};
    }
    return name;
  }

  Expected<ThinPoolSegment> read_thin_pool(const ConfigNode& node) {
    ThinPoolSegment pool;
    if (auto error = assign(pool.metadata_lv, get_lv_reference(node, "metadata"))) {
      return *error;
    }
    if (auto error = assign(pool.data_lv, get_lv_reference(node, "pool"))) {
      return *error;
    }
    if (auto error = assign(pool.transaction_id, node.get_uint("transaction_id"))) {
      return *error;
    }
    // lvm2 before 2.02.89 called the chunk size data_block_size.
    const std::string_view chunk_key =
        node.find("chunk_size") == nullptr && node.find("data_block_size") != nullptr
            ? "data_block_size"
            : "chunk_size";
    if (auto error = assign(pool.chunk_size_sectors, get_uint32(node, chunk_key))) {
      return *error;
    }
    if (auto error = assign(pool.discards, get_optional_string(node, "discards"))) {
      return *error;
    }
    std::optional<uint64_t> zero;
    if (auto error = assign(zero, get_optional_uint(node, "zero_new_blocks"))) {
      return *error;
    }
    pool.zero_new_blocks = zero.value_or(0) != 0;
    return pool;
  }

  Expected<ThinVolumeSegment> read_thin(const ConfigNode& node) {
    ThinVolumeSegment thin;
    if (auto error = assign(thin.thin_pool, get_lv_reference(node, "thin_pool"))) {
      return *error;
    }
    if (auto error = assign(thin.transaction_id, node.get_uint("transaction_id"))) {
      return *error;
    }
    if (auto error = assign(thin.device_id, get_uint32(node, "device_id"))) {
      return *error;
    }
    if (node.find("origin") != nullptr) {
      if (auto error = assign(thin.origin, get_lv_reference(node, "origin"))) {
        return *error;
      }
    }
    if (node.find("external_origin") != nullptr) {
      if (auto error = assign(thin.external_origin, get_lv_reference(node, "external_origin"))) {
        return *error;
      }
    }
    return thin;
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
            return Error{fmt::format(
                "{}/{}: extents {}..{} lie beyond the end of {} ({} "
                "extents)",
                lv.name, segment.name, area.start_extent, end - 1, pv.name, pv.pe_count)};
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
          return Error{fmt::format("extent {} of {} is allocated to both {} and {}",
                                   extents[i].begin, pv_name, *extents[i - 1].lv, *extents[i].lv)};
        }
      }
    }
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(vg_.total_extents(), vg_.extent_size_bytes(), &bytes)) {
      return Error{fmt::format("{}: size overflows 64 bits", vg_.name)};
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
