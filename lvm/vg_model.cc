#include "lvm/vg_model.h"

#include <algorithm>
#include <array>
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
               vg_pvs, vg_lvs, vg_description, vg_creation_host, vg_creation_time] = *this;
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
  // One pass over the LVs for every pool's thin volumes: a VG may hold 10,000 of them.
  for (const LogicalVolume& lv : vg.lvs) {
    const auto thin = std::find_if(lv.segments.begin(), lv.segments.end(),
                                   [](const Segment& segment) { return segment.thin.has_value(); });
    if (thin == lv.segments.end()) {
      continue;
    }
    auto pool = pool_index.find(thin->thin->thin_pool);
    if (pool == pool_index.end()) {
      continue;
    }
    ThinPoolSummary& summary = pools[pool->second];
    ++summary.thin_volume_count;
    summary.provisioned_bytes += lv.extent_count() * vg.extent_size_bytes();
    if (!thin->thin->origin.empty() || !thin->thin->external_origin.empty()) {
      ++summary.snapshot_count;
    }
  }
  return pools;
}

std::vector<ThinVolumeSummary> thin_volumes(const VolumeGroup& vg) {
  std::vector<ThinVolumeSummary> volumes;
  for (const LogicalVolume& lv : vg.lvs) {
    for (const Segment& segment : lv.segments) {
      if (segment.thin) {
        volumes.push_back({&lv, &*segment.thin});
        break;  // a thin LV has one thin segment
      }
    }
  }
  return volumes;
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
