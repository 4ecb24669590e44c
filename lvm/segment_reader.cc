#include "lvm/segment_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "lvm/config_getters.h"

namespace thinpool::lvm {

void LvNames::seal() {
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
}

bool LvNames::contains(std::string_view name) const {
  return std::binary_search(names_.begin(), names_.end(), name);
}

namespace {

// Area `index` of a stripes or mirrors list: a PV or else an LV of the VG.
std::optional<Error> resolve_area(std::string_view context, size_t index, SegmentArea& area,
                                  const SegmentReferences& references) {
  if (references.pv_index.contains(area.name)) {
    area.kind = AreaKind::kPhysicalVolume;
  } else if (references.lv_names.contains(area.name)) {
    area.kind = AreaKind::kLogicalVolume;
  } else {
    return Error::parse(
        fmt::format("{}: area {} names \"{}\", which is neither a PV nor an LV of the VG", context,
                    index, area.name));
  }
  return std::nullopt;
}

// `key` of the segment at `path` names an LV of the VG.
std::optional<Error> check_lv_reference(std::string_view path, std::string_view key,
                                        std::string_view name,
                                        const SegmentReferences& references) {
  if (!references.lv_names.contains(name)) {
    return Error::parse(fmt::format("{}/{}: unknown LV \"{}\"", path, key, name));
  }
  return std::nullopt;
}

class SegmentReader {
 public:
  // `references` null: the names are not looked up, their sites go to `sites`.
  SegmentReader(const SegmentReferences* references, SegmentReferenceSites* sites)
      : references_(references), sites_(sites) {}

  Expected<Segment> read(const ConfigNode& node) {
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

 private:
  Status read_areas(const ConfigNode& node, Segment& segment) {
    if (node.find("stripes") != nullptr) {
      note_area_list(SegmentReferenceSites::AreaList::kStripes, *node.find("stripes"));
      if (auto error = assign(segment.areas, read_area_pairs(node, "stripes"))) {
        return *error;
      }
      uint64_t stripe_count = 0;
      if (auto error = assign(stripe_count, get_uint32(node, "stripe_count"))) {
        return *error;
      }
      if (stripe_count == 0 || stripe_count != segment.areas.size()) {
        return Error::parse(fmt::format("{}: stripe_count is {} but stripes lists {} areas",
                                        node.path, stripe_count, segment.areas.size()));
      }
      if (segment.extent_count % stripe_count != 0) {
        return Error::parse(fmt::format("{}: extent_count {} is not a multiple of stripe_count {}",
                                        node.path, segment.extent_count, stripe_count));
      }
      segment.area_extents = segment.extent_count / stripe_count;
      std::optional<uint64_t> stripe_size;
      if (auto error = assign(stripe_size, get_optional_uint(node, "stripe_size"))) {
        return *error;
      }
      segment.stripe_size_sectors = stripe_size.value_or(0);
    } else if (node.find("mirrors") != nullptr) {
      // Mirror legs (pvmove's temporary LV puts them straight on PVs): each holds it all.
      note_area_list(SegmentReferenceSites::AreaList::kMirrors, *node.find("mirrors"));
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
      note_area_list(SegmentReferenceSites::AreaList::kRaids, *node.find("raids"));
      for (std::string& name : names) {
        if (references_ != nullptr && !references_->lv_names.contains(name)) {
          return Error::parse(fmt::format("{}/raids: unknown LV \"{}\"", node.path, name));
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
      return Error::parse(fmt::format("{}: expected an array of areas, found a section", context));
    }
    const std::vector<ConfigScalar>& items = list->value->items;
    if (items.empty() || items.size() % 2 != 0) {
      return Error::parse(fmt::format(
          "{}: expected pairs of volume name and extent, found {} items", context, items.size()));
    }
    std::vector<SegmentArea> areas;
    for (size_t i = 0; i < items.size(); i += 2) {
      const auto* name = std::get_if<std::string>(&items[i]);
      const auto* extent = std::get_if<int64_t>(&items[i + 1]);
      if (name == nullptr || extent == nullptr || *extent < 0 ||
          static_cast<uint64_t>(*extent) > kUint32Max) {
        return Error::parse(
            fmt::format("{}: area {} is not a volume name and an extent", context, i / 2));
      }
      SegmentArea area;
      area.name = *name;
      area.start_extent = static_cast<uint64_t>(*extent);
      if (references_ != nullptr) {
        if (auto error = resolve_area(context, i / 2, area, *references_)) {
          return *error;
        }
      }
      areas.push_back(std::move(area));
    }
    return areas;
  }

  Expected<std::string> get_lv_reference(const ConfigNode& node, std::string_view key) {
    Expected<std::string> name = node.get_string(key);
    if (name.ok() && references_ != nullptr) {
      if (auto error = check_lv_reference(node.path, key, *name, *references_)) {
        return *error;
      }
    }
    return name;
  }

  void note_area_list(SegmentReferenceSites::AreaList list, const ConfigNode& node) {
    if (sites_ != nullptr) {
      sites_->area_list = list;
      sites_->area_list_position = node.position;
    }
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
      if (sites_ != nullptr) {
        sites_->has_origin = true;
      }
      if (auto error = assign(thin.origin, get_lv_reference(node, "origin"))) {
        return *error;
      }
    }
    if (node.find("external_origin") != nullptr) {
      if (sites_ != nullptr) {
        sites_->has_external_origin = true;
      }
      if (auto error = assign(thin.external_origin, get_lv_reference(node, "external_origin"))) {
        return *error;
      }
    }
    return thin;
  }

  const SegmentReferences* references_;
  SegmentReferenceSites* sites_;
};

}  // namespace

Expected<Segment> read_segment(const ConfigNode& node, const SegmentReferences& references) {
  return SegmentReader(&references, nullptr).read(node);
}

Expected<Segment> read_segment_deferred(const ConfigNode& node, SegmentReferenceSites& sites) {
  return SegmentReader(nullptr, &sites).read(node);
}

Status resolve_segment_references(std::string_view segment_path, Segment& segment,
                                  const SegmentReferenceSites& sites,
                                  const SegmentReferences& references) {
  using AreaList = SegmentReferenceSites::AreaList;
  if (sites.area_list == AreaList::kStripes || sites.area_list == AreaList::kMirrors) {
    const std::string context =
        fmt::format("{}/{} (line {}:{})", segment_path,
                    sites.area_list == AreaList::kStripes ? "stripes" : "mirrors",
                    sites.area_list_position.line, sites.area_list_position.column);
    for (size_t i = 0; i < segment.areas.size(); ++i) {
      if (auto error = resolve_area(context, i, segment.areas[i], references)) {
        return *error;
      }
    }
  } else if (sites.area_list == AreaList::kRaids) {
    for (SegmentArea& area : segment.areas) {
      if (!references.lv_names.contains(area.name)) {
        return Error::parse(fmt::format("{}/raids: unknown LV \"{}\"", segment_path, area.name));
      }
    }
  }
  if (segment.thin_pool) {
    if (auto error = check_lv_reference(segment_path, "metadata", segment.thin_pool->metadata_lv,
                                        references)) {
      return *error;
    }
    if (auto error =
            check_lv_reference(segment_path, "pool", segment.thin_pool->data_lv, references)) {
      return *error;
    }
  }
  if (segment.thin) {
    return resolve_thin_references(segment_path, segment.thin->thin_pool, segment.thin->origin,
                                   segment.thin->external_origin, sites, references);
  }
  return {};
}

Status resolve_thin_references(std::string_view segment_path, std::string_view thin_pool,
                               std::string_view origin, std::string_view external_origin,
                               const SegmentReferenceSites& sites,
                               const SegmentReferences& references) {
  if (auto error = check_lv_reference(segment_path, "thin_pool", thin_pool, references)) {
    return *error;
  }
  if (sites.has_origin) {
    if (auto error = check_lv_reference(segment_path, "origin", origin, references)) {
      return *error;
    }
  }
  if (sites.has_external_origin) {
    if (auto error =
            check_lv_reference(segment_path, "external_origin", external_origin, references)) {
      return *error;
    }
  }
  return {};
}

Status check_pv_allocations(const VolumeGroup& vg,
                            const std::map<std::string, size_t, std::less<>>& pv_index) {
  struct Extent {
    uint64_t begin;
    uint64_t end;
    const std::string* lv;
  };
  std::map<std::string, std::vector<Extent>> by_pv;
  for (const LogicalVolume& lv : vg.lvs) {
    for (const Segment& segment : lv.segments) {
      for (const SegmentArea& area : segment.areas) {
        if (area.kind != AreaKind::kPhysicalVolume) {
          continue;
        }
        const PhysicalVolume& pv = vg.pvs[pv_index.at(area.name)];
        const uint64_t end = area.start_extent + segment.area_extents;
        if (end > pv.pe_count) {
          return Error::parse(
              fmt::format("{}/{}: extents {}..{} lie beyond the end of {} ({} extents)", lv.name,
                          segment.name, area.start_extent, end - 1, pv.name, pv.pe_count));
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
  if (__builtin_mul_overflow(vg.total_extents(), vg.extent_size_bytes(), &bytes)) {
    return Error::parse(fmt::format("{}: size overflows 64 bits", vg.name));
  }
  return {};
}

}  // namespace thinpool::lvm
