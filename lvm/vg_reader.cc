// Reading a VolumeGroup out of a parsed metadata tree, with the checks lvm2 makes.
//
// parse_volume_group reads each LV as soon as the parser closes its section and lets the parser
// drop it, so that the tree never holds all the LVs at once (at 10,000 thin LVs the whole tree
// took 50 MiB). What an LV cannot check alone (the names its segments give, which may be LVs
// further down; segment_count, gaps, sizes) waits until the whole text is parsed, and then runs
// in the order and with the messages of a read of the whole tree: an LV whose own checks fail is
// kept in the tree and read with the others, since an earlier check that waits might fail first.
// A thin LV as lvm2 writes them goes into the VG's ThinLvTable as it is taken (vg_model.h): the
// LVs held at the parse's peak are then about a fifth of what they took as LogicalVolumes. The
// LV's own reading and checks: lv_reader.h.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

#include "lvm/config_getters.h"
#include "lvm/lv_reader.h"
#include "lvm/segment_reader.h"
#include "lvm/vg_model.h"

namespace thinpool::lvm {
namespace {

class VolumeGroupReader {
 public:
  // `lv_sections`: room made at once for that many LVs.
  explicit VolumeGroupReader(size_t lv_sections = 0) : lv_sections_(lv_sections) {
    thin_lvs_.reserve(lv_sections);
    taken_lvs_.reserve(lv_sections);  // room touched only as far as LVs not thin are taken
    taken_checks_.reserve(lv_sections);
    taken_sites_.reserve(lv_sections);  // a segment each, as thin LVs have
  }

  // For parse_config: the room to make in the VG's logical_volumes section as it opens, for the
  // stand-ins of the LVs take_lv takes.
  size_t section_size_hint(const std::vector<const ConfigNode*>& parents,
                           const ConfigNode& section) const {
    if (parents.size() != 2 || section.key != "logical_volumes" || !is_vg_section(parents)) {
      return 0;
    }
    return lv_sections_;
  }

  // For parse_config: takes each section `<vg>/logical_volumes/<lv>` of the VG (the first
  // section at the top level) whose own checks pass.
  SectionHandover take_lv(const std::vector<const ConfigNode*>& parents,
                          const ConfigNode& section) {
    if (parents.size() != 3 || parents[2]->key != "logical_volumes") {
      return SectionHandover::kKept;
    }
    if (!is_vg_section(parents)) {
      return SectionHandover::kKept;
    }
    LogicalVolume lv;
    LvChecks checks;
    checks.child_index = static_cast<size_t>(&section - parents[2]->children.data());
    checks.first_site = taken_sites_.size();
    if (!read_lv_items(section, references(), &taken_sites_, lv, checks).ok()) {
      taken_sites_.resize(checks.first_site);
      return SectionHandover::kKept;  // read with the others after the parse, errors in order
    }
    checks.index = thin_lvs_.size();
    checks.in_table = ThinLvTable::fits(lv, checks.segment_count) &&
                      thin_lvs_.add(lv, 0);  // placed by finish_taken_lv
    if (!checks.in_table) {
      checks.index = taken_lvs_.size();
      taken_lvs_.push_back(std::move(lv));
    }
    taken_checks_.push_back(checks);
    return SectionHandover::kTaken;
  }

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
    if (Status status = check_pv_allocations(vg_, pv_index_); !status.ok()) {
      return status.error();
    }
    return std::move(vg_);
  }

 private:
  // Whether parents[1] is the VG's section: the first section at the top level.
  static bool is_vg_section(const std::vector<const ConfigNode*>& parents) {
    const std::vector<ConfigNode>& top = parents[0]->children;
    const auto vg = std::find_if(top.begin(), top.end(),
                                 [](const ConfigNode& node) { return node.is_section(); });
    return vg != top.end() && &*vg == parents[1];
  }

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
    size_t lv_count = 0;
    lv_names_.reserve(lvs->children.size());
    for (const ConfigNode& lv_node : lvs->children) {
      if (lv_node.is_section()) {
        lv_names_.add(lv_node.key);
        ++lv_count;
      }
    }
    lv_names_.seal();
    if (taken_checks_.size() == lv_count &&
        std::is_sorted(
            taken_checks_.begin(), taken_checks_.end(),
            [](const LvChecks& a, const LvChecks& b) { return a.child_index < b.child_index; })) {
      return finish_taken_lvs(*lvs);
    }
    // Some LVs are read only now, or were taken in another order (a path key made one before
    // its section): each in its place.
    std::map<size_t, size_t> taken_at;  // child index -> index in taken_checks_
    for (size_t k = 0; k < taken_checks_.size(); ++k) {
      taken_at.emplace(taken_checks_[k].child_index, k);
    }
    vg_.lvs.reserve(taken_lvs_.size());
    uint32_t position = 0;
    for (size_t i = 0; i < lvs->children.size(); ++i) {
      const ConfigNode& lv_node = lvs->children[i];
      if (!lv_node.is_section()) {
        continue;  // lvm2 ignores settings here too
      }
      if (!lv_node.handed_over) {
        if (Status status = read_lv(lv_node, position++); !status.ok()) {
          return status;
        }
        continue;
      }
      auto taken = taken_at.find(i);
      if (taken == taken_at.end()) {
        return Error{fmt::format("{}/{}: read while parsing, then lost", lvs->path, lv_node.key)};
      }
      const LvChecks& checks = taken_checks_[taken->second];
      if (Status status =
              finish_taken_lv(fmt::format("{}/{}", lvs->path, lv_node.key), checks, position++);
          !status.ok()) {
        return status;
      }
      if (!checks.in_table) {
        vg_.lvs.push_back(std::move(taken_lvs_[checks.index]));
      }
    }
    thin_lvs_.finish();
    vg_.thin_lvs = std::move(thin_lvs_);
    return {};
  }

  // Every LV was taken while parsing, in order (what lvm2 writes): they are checked where they
  // are, and their vector and table become the VG's, without a copy of them all.
  Status finish_taken_lvs(const ConfigNode& lvs) {
    size_t k = 0;
    for (const ConfigNode& lv_node : lvs.children) {
      if (!lv_node.is_section()) {
        continue;
      }
      if (Status status = finish_taken_lv(fmt::format("{}/{}", lvs.path, lv_node.key),
                                          taken_checks_[k], static_cast<uint32_t>(k));
          !status.ok()) {
        return status;
      }
      ++k;
    }
    vg_.lvs = std::move(taken_lvs_);
    thin_lvs_.finish();
    vg_.thin_lvs = std::move(thin_lvs_);
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

  // Reads the `position`-th LV of the VG whole (not taken while parsing).
  Status read_lv(const ConfigNode& node, uint32_t position) {
    LogicalVolume lv;
    LvChecks checks;
    if (Status status = read_lv_items(node, references(), nullptr, lv, checks); !status.ok()) {
      return status;
    }
    if (Status status =
            finish_lv(node.path, lv, checks, nullptr, references(), vg_.extent_size_bytes());
        !status.ok()) {
      return status;
    }
    if (!ThinLvTable::fits(lv, checks.segment_count) || !thin_lvs_.add(lv, position)) {
      vg_.lvs.push_back(std::move(lv));
    }
    return {};
  }

  SegmentReferences references() const { return {pv_index_, lv_names_}; }

  // finish_lv for an LV taken while parsing, the `position`-th of the VG. One kept in thin_lvs_
  // fits it (one thin segment, segment1, from extent 0, segment_count 1): what is left to check
  // is the names it gives and its size.
  Status finish_taken_lv(std::string_view path, const LvChecks& checks, uint32_t position) {
    if (!checks.in_table) {
      return finish_lv(path, taken_lvs_[checks.index], checks, &taken_sites_, references(),
                       vg_.extent_size_bytes());
    }
    thin_lvs_.set_position(checks.index, position);
    return finish_table_lv(path, thin_lvs_[checks.index], taken_sites_[checks.first_site],
                           references(), vg_.extent_size_bytes());
  }

  size_t lv_sections_ = 0;
  VolumeGroup vg_;
  std::map<std::string, size_t, std::less<>> pv_index_;
  LvNames lv_names_;  // views of the tree's keys: read() only
  // LVs read while the text was parsed, in the order their sections closed, what is left to
  // check of each, and the sites of their segments' references: a few large blocks, given back
  // whole when freed (a small block per LV would leave holes between the VG's strings that stay
  // resident).
  std::vector<LogicalVolume> taken_lvs_;  // those that do not fit a ThinLvTable
  ThinLvTable thin_lvs_;                  // and those that do (read whole or taken)
  std::vector<LvChecks> taken_checks_;    // one per taken LV
  std::vector<SegmentReferenceSites> taken_sites_;
};

}  // namespace

Expected<VolumeGroup> extract_volume_group(const ConfigNode& root) {
  return VolumeGroupReader().read(root);
}

namespace {

// How many LV sections `text` holds: lvm2 writes `segment_count` once in each, hidden LVs
// included. Only sizes the LVs' vector: the same words elsewhere (a description) make it larger,
// at most one LV per kSmallestLvSection bytes of text, so that no text reserves much more memory
// than its own parse takes.
size_t count_lv_sections(std::string_view text) {
  constexpr std::string_view kKey = "segment_count";
  constexpr size_t kSmallestLvSection = 64;  // `a{id="" status=[] segment_count=1 segment1{...}}`
  size_t count = 0;
  const char* at = text.data();
  const char* const end = text.data() + text.size();
  while (const void* found = memmem(at, static_cast<size_t>(end - at), kKey.data(), kKey.size())) {
    ++count;
    at = static_cast<const char*>(found) + kKey.size();
  }
  return std::min(count, text.size() / kSmallestLvSection);
}

Expected<VolumeGroup> parse_and_read(std::string_view metadata_text) {
  VolumeGroupReader reader(count_lv_sections(metadata_text));
  const ClosedSectionHandler take_lv = [&reader](const std::vector<const ConfigNode*>& parents,
                                                 const ConfigNode& section) {
    return reader.take_lv(parents, section);
  };
  const SectionSizeHint size_hint = [&reader](const std::vector<const ConfigNode*>& parents,
                                              const ConfigNode& section) {
    return reader.section_size_hint(parents, section);
  };
  Expected<std::optional<ConfigNode>> tree = parse_config(metadata_text, take_lv, size_hint);
  if (!tree.ok()) {
    return tree.error();
  }
  if (!tree->has_value()) {
    // An LV's section opened again after it was taken (lvm2 merges the two): read it whole.
    Expected<ConfigNode> whole = parse_config(metadata_text);
    if (!whole.ok()) {
      return whole.error();
    }
    return extract_volume_group(*whole);
  }
  return reader.read(**tree);
}

}  // namespace

Expected<VolumeGroup> parse_volume_group(std::string_view metadata_text) {
  Expected<VolumeGroup> vg = parse_and_read(metadata_text);
  if (vg.ok()) {
    // Room left in the LVs' vector (at 10,001 LVs read without a count: room for 16,384, 3.3 MB
    // kept with the VG for 2.0 MB of LVs) is given back once the parse tree is gone, so that the
    // copy does not add to the parse's peak.
    vg->lvs.shrink_to_fit();  // ThinLvTable::finish() did the same for thin_lvs
  }
  return vg;
}

}  // namespace thinpool::lvm
