#include "lvm/vg_model.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <map>
#include <utility>

namespace thinpool::lvm {
namespace {

// The LV status flags lvm2 2.03 writes for the LVs it makes (lib/format_text/flags.c, _lv_flags).
constexpr std::array<std::string_view, 10> kKnownLvFlags = {
    "READ",   "WRITE",  "WRITE_LOCKED", "VISIBLE", "FIXED_MINOR",
    "PVMOVE", "LOCKED", "NOTSYNCED",    "REBUILD", "ACTIVATION_SKIP"};
static_assert(kKnownLvFlags.size() <= 16, "LvStatus::known_ has 16 bits");

// The bit of a known flag, or 0.
uint16_t known_flag_bit(std::string_view flag) {
  for (size_t i = 0; i < kKnownLvFlags.size(); ++i) {
    if (kKnownLvFlags[i] == flag) {
      return static_cast<uint16_t>(1u << i);
    }
  }
  return 0;
}

}  // namespace

LvStatus::LvStatus(const std::vector<std::string>& flags) {
  for (const std::string& flag : flags) {
    if (const uint16_t bit = known_flag_bit(flag); bit != 0) {
      known_ |= bit;
    } else {
      others_.push_back(flag);
    }
  }
}

bool LvStatus::contains(std::string_view flag) const {
  const uint16_t bit = known_flag_bit(flag);
  return bit != 0 ? (known_ & bit) != 0
                  : std::find(others_.begin(), others_.end(), flag) != others_.end();
}

std::vector<std::string> LvStatus::flags() const {
  std::vector<std::string> flags;
  for (size_t i = 0; i < kKnownLvFlags.size(); ++i) {
    if ((known_ & (1u << i)) != 0) {
      flags.emplace_back(kKnownLvFlags[i]);
    }
  }
  flags.insert(flags.end(), others_.begin(), others_.end());
  return flags;
}

LvStatus LvStatus::from_known_bits(uint16_t bits) {
  LvStatus status;
  status.known_ = bits;
  return status;
}

bool ThinLvTable::fits(const LogicalVolume& lv, uint64_t segment_count) {
  constexpr size_t kMaxName = std::numeric_limits<uint16_t>::max();
  if (segment_count != 1 || lv.segments.size() != 1 || !lv.profile.empty() ||
      !lv.status.only_known() || lv.visible != lv.status.contains("VISIBLE") ||
      lv.name.size() > kMaxName) {
    return false;
  }
  const Segment& segment = lv.segments[0];
  if (!segment.thin || segment.thin_pool || segment.name != "segment1" || segment.type != "thin" ||
      !segment.type_flags.empty() || !segment.areas.empty() || segment.start_extent != 0 ||
      segment.stripe_size_sectors != 0 || segment.area_extents != 0 ||
      segment.extent_count > std::numeric_limits<uint32_t>::max()) {
    return false;
  }
  const ThinVolumeSegment& thin = *segment.thin;
  return thin.origin.size() <= kMaxName && thin.external_origin.size() <= kMaxName;
}

bool ThinLvTable::add(const LogicalVolume& lv, uint32_t position) {
  const ThinVolumeSegment& thin = *lv.segments[0].thin;
  const size_t names = lv.name.size() + thin.origin.size() + thin.external_origin.size();
  if (text_.size() + names > std::numeric_limits<uint32_t>::max() ||
      records_.size() >= std::numeric_limits<uint32_t>::max()) {
    return false;
  }
  Record record;
  record.text_at = static_cast<uint32_t>(text_.size());
  record.name_size = static_cast<uint16_t>(lv.name.size());
  record.origin_size = static_cast<uint16_t>(thin.origin.size());
  record.external_origin_size = static_cast<uint16_t>(thin.external_origin.size());
  record.status = lv.status.known_bits();
  // A VG has a few pools and thousands of thin LVs: the last one named is most likely named again.
  auto pool = std::find(pools_.rbegin(), pools_.rend(), thin.thin_pool);
  if (pool == pools_.rend()) {
    pools_.push_back(thin.thin_pool);
    record.pool = static_cast<uint32_t>(pools_.size() - 1);
  } else {
    record.pool = static_cast<uint32_t>(pools_.rend() - pool - 1);
  }
  record.position = position;
  record.extent_count = static_cast<uint32_t>(lv.segments[0].extent_count);
  record.device_id = thin.device_id;
  record.transaction_id = thin.transaction_id;
  record.creation_time = lv.creation_time;
  text_ += lv.name;
  text_ += thin.origin;
  text_ += thin.external_origin;
  records_.push_back(record);
  return true;
}

void ThinLvTable::finish() {
  if (!std::is_sorted(records_.begin(), records_.end(),
                      [](const Record& a, const Record& b) { return a.position < b.position; })) {
    std::stable_sort(records_.begin(), records_.end(),
                     [](const Record& a, const Record& b) { return a.position < b.position; });
  }
  records_.shrink_to_fit();
  text_.shrink_to_fit();
}

ThinVolumeSummary ThinLvTable::operator[](size_t i) const {
  const Record& record = records_[i];
  const std::string_view text(text_);
  ThinVolumeSummary summary;
  summary.name = text.substr(record.text_at, record.name_size);
  summary.origin = text.substr(record.text_at + record.name_size, record.origin_size);
  summary.external_origin = text.substr(record.text_at + record.name_size + record.origin_size,
                                        record.external_origin_size);
  summary.thin_pool = pools_[record.pool];
  summary.extent_count = record.extent_count;
  summary.device_id = record.device_id;
  summary.transaction_id = record.transaction_id;
  summary.creation_time = record.creation_time;
  summary.visible = LvStatus::from_known_bits(record.status).contains("VISIBLE");
  return summary;
}

LogicalVolume ThinLvTable::whole(size_t i) const {
  const ThinVolumeSummary summary = (*this)[i];
  LogicalVolume lv;
  lv.name = summary.name;
  lv.status = LvStatus::from_known_bits(records_[i].status);
  lv.visible = summary.visible;
  lv.creation_time = summary.creation_time;
  Segment segment;
  segment.name = "segment1";
  segment.extent_count = summary.extent_count;
  segment.type = "thin";
  ThinVolumeSegment thin;
  thin.thin_pool = summary.thin_pool;
  thin.transaction_id = summary.transaction_id;
  thin.device_id = summary.device_id;
  thin.origin = summary.origin;
  thin.external_origin = summary.external_origin;
  segment.thin = std::move(thin);
  lv.segments.push_back(std::move(segment));
  return lv;
}

bool PhysicalVolume::flagged_missing() const {
  return std::find(flags.begin(), flags.end(), "MISSING") != flags.end() ||
         std::find(status.begin(), status.end(), "MISSING") != status.end();
}

uint64_t LogicalVolume::extent_count() const {
  uint64_t total = 0;
  for (const Segment& segment : segments) {
    total += segment.extent_count;
  }
  return total;
}

uint64_t VolumeGroup::total_extents() const {
  uint64_t total = 0;
  for (const PhysicalVolume& pv : pvs) {
    total += pv.pe_count;
  }
  return total;
}

uint64_t VolumeGroup::allocated_extents() const {
  uint64_t allocated = 0;
  for (const LogicalVolume& lv : lvs) {
    for (const Segment& segment : lv.segments) {
      for (const SegmentArea& area : segment.areas) {
        if (area.kind == AreaKind::kPhysicalVolume) {
          allocated += segment.area_extents;
        }
      }
    }
  }
  return allocated;
}

VolumeGroup VolumeGroup::without_lvs() const {
  // Bound by name so that a member added to VolumeGroup stops this from compiling until it is
  // copied here too.
  const auto& [vg_name, vg_id, vg_seqno, vg_extent_size_sectors, vg_status, vg_profile, vg_format,
               vg_pvs, vg_lvs, vg_thin_lvs, vg_description, vg_creation_host, vg_creation_time] =
      *this;
  VolumeGroup copy;
  copy.name = vg_name;
  copy.id = vg_id;
  copy.seqno = vg_seqno;
  copy.extent_size_sectors = vg_extent_size_sectors;
  copy.status = vg_status;
  copy.profile = vg_profile;
  copy.format = vg_format;
  copy.pvs = vg_pvs;
  static_cast<void>(vg_lvs);  // left out
  static_cast<void>(vg_thin_lvs);
  copy.description = vg_description;
  copy.creation_host = vg_creation_host;
  copy.creation_time = vg_creation_time;
  return copy;
}

const LogicalVolume* VolumeGroup::find_lv(std::string_view lv_name) const {
  for (const LogicalVolume& lv : lvs) {
    if (lv.name == lv_name) {
      return &lv;
    }
  }
  return nullptr;
}

std::vector<LogicalVolume> VolumeGroup::all_lvs() const {
  std::vector<LogicalVolume> all;
  all.reserve(lv_count());
  size_t whole = 0;
  for (size_t thin = 0; thin < thin_lvs.size(); ++thin) {
    while (all.size() < thin_lvs.position(thin) && whole < lvs.size()) {
      all.push_back(lvs[whole++]);
    }
    all.push_back(thin_lvs.whole(thin));
  }
  all.insert(all.end(), lvs.begin() + static_cast<std::ptrdiff_t>(whole), lvs.end());
  return all;
}

std::vector<ThinPoolSummary> thin_pools(const VolumeGroup& vg) {
  std::vector<ThinPoolSummary> pools;
  std::map<std::string_view, size_t> pool_index;
  for (const LogicalVolume& lv : vg.lvs) {
    for (const Segment& segment : lv.segments) {
      if (!segment.thin_pool) {
        continue;
      }
      ThinPoolSummary pool;
      pool.lv = lv.name;
      pool.transaction_id = segment.thin_pool->transaction_id;
      pool.metadata_lv = segment.thin_pool->metadata_lv;
      pool.data_lv = segment.thin_pool->data_lv;
      pool.chunk_size_bytes = segment.thin_pool->chunk_size_sectors * kSectorBytes;
      pool.profile = lv.profile.empty() ? vg.profile : lv.profile;
      if (const LogicalVolume* meta = vg.find_lv(pool.metadata_lv)) {
        pool.metadata_size_bytes = meta->extent_count() * vg.extent_size_bytes();
      }
      if (const LogicalVolume* data = vg.find_lv(pool.data_lv)) {
        pool.data_size_bytes = data->extent_count() * vg.extent_size_bytes();
      }
      pool_index.emplace(lv.name, pools.size());
      pools.push_back(std::move(pool));
      break;  // a pool LV has one thin-pool segment
    }
  }
  // One pass over the thin LVs for every pool's: a VG may hold 10,000 of them.
  for_each_thin_volume(vg, [&](const ThinVolumeSummary& thin) {
    auto pool = pool_index.find(thin.thin_pool);
    if (pool == pool_index.end()) {
      return;
    }
    ThinPoolSummary& summary = pools[pool->second];
    ++summary.thin_volume_count;
    summary.provisioned_bytes += thin.extent_count * vg.extent_size_bytes();
    if (!thin.origin.empty() || !thin.external_origin.empty()) {
      ++summary.snapshot_count;
    }
  });
  return pools;
}

void for_each_thin_volume(const VolumeGroup& vg,
                          const std::function<void(const ThinVolumeSummary&)>& visit) {
  // The thin LVs of `lvs` (those ThinLvTable does not fit) among thin_lvs' by position.
  size_t position = 0;
  size_t table = 0;
  for (const LogicalVolume& lv : vg.lvs) {
    while (table < vg.thin_lvs.size() && vg.thin_lvs.position(table) == position) {
      visit(vg.thin_lvs[table++]);
      ++position;
    }
    ++position;
    const auto thin = std::find_if(lv.segments.begin(), lv.segments.end(),
                                   [](const Segment& segment) { return segment.thin.has_value(); });
    if (thin == lv.segments.end()) {
      continue;
    }
    visit({lv.name, thin->thin->thin_pool, thin->thin->origin, thin->thin->external_origin,
           lv.extent_count(), thin->thin->device_id, thin->thin->transaction_id, lv.creation_time,
           lv.visible});
  }
  while (table < vg.thin_lvs.size()) {
    visit(vg.thin_lvs[table++]);
  }
}

uint64_t missing_pv_count(const VolumeGroup& vg,
                          const std::function<bool(const PhysicalVolume&)>& present) {
  uint64_t missing = 0;
  for (const PhysicalVolume& pv : vg.pvs) {
    if (pv.flagged_missing() || (present && !present(pv))) {
      ++missing;
    }
  }
  return missing;
}

}  // namespace thinpool::lvm
