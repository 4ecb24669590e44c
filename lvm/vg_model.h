// A volume group as its LVM metadata describes it, and the reader from a parsed metadata tree.
//
// Covers what the exporter needs (thin pools and their transaction ids, sizes, free space),
// read the way lvm2 2.03's import_vsn1.c reads it: the VG is the first section at the top
// level, PVs are named pv0, pv1, ... inside it, segment areas name a PV (and its first extent)
// or another LV. Sizes in the metadata are 512-byte sectors; the *_bytes helpers convert.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "lvm/config_parser.h"

namespace thinpool::lvm {

inline constexpr uint64_t kSectorBytes = 512;

struct PhysicalVolume {
  std::string name;         // the key segments refer to: "pv0"
  std::string id;           // "fk2kNV-sDQn-..." (the PV label's uuid)
  std::string device_hint;  // "/dev/sdb" when last written; names change, ids do not
  std::vector<std::string> status;
  std::vector<std::string> flags;  // lvm2 2.03 writes MISSING here
  uint64_t dev_size_sectors = 0;   // 0 when the metadata does not say (very old lvm2)
  uint64_t pe_start_sectors = 0;
  uint64_t pe_count = 0;

  // "MISSING" in flags (where lvm2 2.03 writes it) or status (older lvm2): lvm2 committed the VG
  // without this PV's device (`vgreduce --removemissing` not run yet).
  bool flagged_missing() const;
};

enum class AreaKind { kPhysicalVolume, kLogicalVolume };

// One stripe / mirror leg / raid image of a segment.
struct SegmentArea {
  AreaKind kind = AreaKind::kPhysicalVolume;
  std::string name;           // PV name ("pv0") or LV name
  uint64_t start_extent = 0;  // first extent on that PV or LV
};

// The "thin-pool" segment type: the pool as LVM expects the kernel to hold it.
struct ThinPoolSegment {
  std::string metadata_lv;  // "pool_tmeta"
  std::string data_lv;      // "pool_tdata" (the key is "pool")
  uint64_t transaction_id = 0;
  uint64_t chunk_size_sectors = 0;  // the kernel's data block size
  std::string discards;             // "passdown", "nopassdown", "ignore" or "" (not written)
  bool zero_new_blocks = false;
};

// The "thin" segment type: a thin volume.
struct ThinVolumeSegment {
  std::string thin_pool;  // the pool LV's name
  uint64_t transaction_id = 0;
  uint64_t device_id = 0;
  std::string origin;           // a thin snapshot's origin, or ""
  std::string external_origin;  // or ""
};

// An optional value kept on the heap: std::optional's interface for what most segments do not
// have (a thin LV's segment has no thin-pool part, a pool's no thin part), so that each costs a
// pointer instead of its whole size in every segment (120 bytes each in 10,000 thin LVs).
template <typename T>
class HeapOptional {
 public:
  HeapOptional() = default;
  HeapOptional(const HeapOptional& other)
      : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  HeapOptional(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(const HeapOptional& other) {
    if (this != &other) {
      value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    }
    return *this;
  }
  HeapOptional& operator=(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(T value) {
    value_ = std::make_unique<T>(std::move(value));
    return *this;
  }
  ~HeapOptional() = default;

  bool has_value() const { return value_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  const T& operator*() const { return *value_; }
  T& operator*() { return *value_; }
  const T* operator->() const { return value_.get(); }
  T* operator->() { return value_.get(); }

 private:
  std::unique_ptr<T> value_;
};

struct Segment {
  std::string name;  // "segment1"
  uint64_t start_extent = 0;
  uint64_t extent_count = 0;
  std::string type;                     // "striped", "thin-pool", "thin", "raid1", ...
  std::vector<std::string> type_flags;  // from "type = \"thin-pool+METADATA_FORMAT\""
  uint64_t stripe_size_sectors = 0;     // striped with more than one stripe
  std::vector<SegmentArea> areas;       // from stripes = [...], mirrors = [...], raids = [...]
  // Extents each PV area occupies: extent_count / stripes for striped, extent_count for
  // mirror legs (pvmove). What lvm2 counts as allocated on the PV.
  uint64_t area_extents = 0;
  HeapOptional<ThinPoolSegment> thin_pool;
  HeapOptional<ThinVolumeSegment> thin;
};

// An LV's status flags: those lvm2 sets on the LVs it makes (lib/format_text/flags.c,
// _lv_flags) as bits, any other by name, so that the status of each of 10,000 thin LVs takes no
// memory of its own (a vector of strings took 136 bytes).
class LvStatus {
 public:
  LvStatus() = default;
  explicit LvStatus(const std::vector<std::string>& flags);

  bool contains(std::string_view flag) const;
  // The known flags in lvm2's order, then the others as the metadata lists them.
  std::vector<std::string> flags() const;

  // Whether every flag is one lvm2 sets, and those flags as bits (ThinLvTable keeps them so).
  bool only_known() const { return others_.empty(); }
  uint16_t known_bits() const { return known_; }
  static LvStatus from_known_bits(uint16_t bits);

  bool operator==(const LvStatus& other) const = default;

 private:
  uint16_t known_ = 0;  // bit i: kKnownLvFlags[i] (vg_model.cc)
  std::vector<std::string> others_;
};

// An LV. Its id and creation_host are checked as lvm2 reads them but not kept: nothing reports
// them, and they took 128 bytes of each of 10,000 thin LVs.
struct LogicalVolume {
  std::string name;
  LvStatus status;
  bool visible = false;           // "VISIBLE" in status; pool sub-LVs (_tmeta, _tdata) are hidden
  uint64_t creation_time = 0;     // seconds since the epoch; 0 when the metadata does not say
  std::string profile;            // `lvchange --metadataprofile`: overrides the VG's; "" for none
  std::vector<Segment> segments;  // sorted by start_extent

  uint64_t extent_count() const;
};

// A thin LV as LVM's metadata describes it, active or not: views into the VG it was read from.
struct ThinVolumeSummary {
  std::string_view name;
  std::string_view thin_pool;        // the pool LV's name
  std::string_view origin;           // a thin snapshot's origin, or ""
  std::string_view external_origin;  // or ""
  uint64_t extent_count = 0;
  uint64_t device_id = 0;
  uint64_t transaction_id = 0;
  uint64_t creation_time = 0;  // seconds since the epoch; 0 when the metadata does not say
  bool visible = false;
};

// A VG's thin LVs in the form lvm2 writes nearly all of them (one "thin" segment, segment1, from
// extent 0; only status flags lvm2 sets; no metadata profile): about 48 bytes each and their names
// in one buffer, where a LogicalVolume with its segment took about 520 bytes in five allocations
// with OpenStack Cinder's names. The reader keeps them so while it parses (lvm/vg_reader.cc), and
// what the parse of a 10,000-LV VG holds at its peak is mostly them.
class ThinLvTable {
 public:
  // Whether `lv` can be kept here with nothing the model holds of it lost; `segment_count` as its
  // section says.
  static bool fits(const LogicalVolume& lv, uint64_t segment_count);

  void reserve(size_t lvs) { records_.reserve(lvs); }
  // Appends `lv` (fits() holds) as the VG's `position`-th LV in metadata order (0-based, every
  // LV of the VG counted); set_position() may place it later. False, and nothing added, once the
  // names would pass the 4 GiB a record can point into: the LV is then kept whole.
  bool add(const LogicalVolume& lv, uint32_t position);
  void set_position(size_t i, uint32_t position) { records_[i].position = position; }
  // Sorts by position (LVs added out of metadata order) and gives back room not used.
  void finish();

  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  ThinVolumeSummary operator[](size_t i) const;
  uint32_t position(size_t i) const { return records_[i].position; }
  // LV `i` as a LogicalVolume, as it was read.
  LogicalVolume whole(size_t i) const;

 private:
  struct Record {
    uint32_t text_at = 0;  // the name, then the origin, then the external origin, in text_
    uint16_t name_size = 0;
    uint16_t origin_size = 0;
    uint16_t external_origin_size = 0;
    uint16_t status = 0;  // LvStatus::known_bits()
    uint32_t pool = 0;    // in pools_
    uint32_t position = 0;
    uint32_t extent_count = 0;  // lvm2's extent_count is 32 bits (lvm/config_getters.h)
    uint64_t device_id = 0;
    uint64_t transaction_id = 0;
    uint64_t creation_time = 0;
  };
  std::vector<Record> records_;
  std::string text_;
  std::vector<std::string> pools_;  // the thin pools the LVs name, each once
};

struct VolumeGroup {
  std::string name;
  std::string id;
  uint64_t seqno = 0;  // bumped by every change lvm2 commits
  uint64_t extent_size_sectors = 0;
  std::vector<std::string> status;
  std::string
      profile;  // `vgchange --metadataprofile`: a profile lvm2 applies to its LVs; "" for none
  std::string format;  // "lvm2"
  std::vector<PhysicalVolume> pvs;
  // Every LV of the VG is in one of these two, each in metadata order: the thin LVs that fit
  // ThinLvTable in thin_lvs (as the reader leaves them), every other one in lvs.
  std::vector<LogicalVolume> lvs;
  ThinLvTable thin_lvs;
  // From the text's header (outside the VG section); empty/0 when absent.
  std::string description;
  std::string creation_host;
  uint64_t creation_time = 0;  // seconds since the epoch

  uint64_t total_extents() const;
  // Extents some LV segment holds on a PV (each area counted: stripes, mirror legs).
  uint64_t allocated_extents() const;
  uint64_t free_extents() const { return total_extents() - allocated_extents(); }
  uint64_t extent_size_bytes() const { return extent_size_sectors * kSectorBytes; }
  // What `vgs -o vg_size,vg_free --units b` shows.
  uint64_t size_bytes() const { return total_extents() * extent_size_bytes(); }
  uint64_t free_bytes() const { return free_extents() * extent_size_bytes(); }

  // An LV of `lvs` (the pools and their sub-LVs are always there), or null: thin LVs in
  // thin_lvs are found through for_each_thin_volume().
  const LogicalVolume* find_lv(std::string_view lv_name) const;
  size_t lv_count() const { return lvs.size() + thin_lvs.size(); }
  // Every LV in metadata order, those of thin_lvs made whole: a copy, for tests and tools.
  std::vector<LogicalVolume> all_lvs() const;

  // A copy of everything but the LVs (what a VG's readers keep once they derived what they need
  // from its LVs: lvm/metadata_cache.h). Its allocated_extents() and free space count no LV.
  VolumeGroup without_lvs() const;
};

// A thin pool of the VG, with the numbers an alert on it needs.
struct ThinPoolSummary {
  std::string lv;               // the pool LV: "pool"
  uint64_t transaction_id = 0;  // what LVM expects the kernel's pool to report
  std::string metadata_lv;      // "pool_tmeta"
  uint64_t metadata_size_bytes = 0;
  std::string data_lv;  // "pool_tdata"
  uint64_t data_size_bytes = 0;
  uint64_t chunk_size_bytes = 0;
  uint64_t thin_volume_count = 0;  // thin LVs whose thin_pool is this pool, active or not
  uint64_t provisioned_bytes = 0;  // their virtual sizes, summed
  uint64_t snapshot_count = 0;     // those that are thin snapshots (they have an origin)
  std::string profile;             // the pool LV's metadata profile, else the VG's; "" for none
};

// Reads the VG from a parsed metadata text (a metadata area's or a backup file's). Checks what
// lvm2 checks before trusting it: `contents = "Text Format Volume Group"`, `version = 1`,
// every area naming a known PV or LV, stripes dividing the extent count, PV extents in range,
// segment_count matching the segments. Integer sizes are checked for overflow.
Expected<VolumeGroup> extract_volume_group(const ConfigNode& root);

// parse_config + extract_volume_group. The LVs' vector is sized once from the LV sections the text
// holds, counted before the parse, instead of doubling while it runs (at 10,000 LVs: room for
// 16,384 and the half-size vector beside it at the parse's peak).
Expected<VolumeGroup> parse_volume_group(std::string_view metadata_text);

// Every LV with a thin-pool segment, in metadata order.
std::vector<ThinPoolSummary> thin_pools(const VolumeGroup& vg);

// Every LV with a thin segment, in metadata order (views into `vg`), handed to `visit` one at a
// time: a VG's 10,000 thin LVs need no vector of them.
void for_each_thin_volume(const VolumeGroup& vg,
                          const std::function<void(const ThinVolumeSummary&)>& visit);

// PVs the metadata lists that are flagged MISSING or for which `present(pv)` is false: what
// `vgs -o vg_missing_pv_count` counts. `present` may be empty (only the flags count).
uint64_t missing_pv_count(const VolumeGroup& vg,
                          const std::function<bool(const PhysicalVolume&)>& present);

}  // namespace thinpool::lvm
