// What the series of a pool or a thin volume are labelled with: the device's names as users know
// them (the dm name and, for LVM devices, VG and LV), and the label names, in the order every
// family of those series lists them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dm/device_mapper.h"

namespace thinpool {

// The labels of every per-pool series: the dm name of the device holding the thin-pool target,
// and LVM's VG and pool LV (empty unless the dm uuid says LVM).
inline constexpr std::array<std::string_view, 3> kPoolLabelNames = {"pool", "vg", "lv"};

// The labels of every per-volume series: the volume's dm name, its pool's (or the pool's
// "<major>:<minor>" when the pool device is not seen), LVM's VG and LV, and the thin device id.
inline constexpr std::array<std::string_view, 5> kVolumeLabelNames = {"volume", "pool", "vg", "lv",
                                                                      "device_id"};

// `names` followed by `more`: the label names of a family that adds labels to a set above.
template <size_t N, typename... More>
constexpr std::array<std::string_view, N + sizeof...(More)> label_names_with(
    const std::array<std::string_view, N>& names, More... more) {
  std::array<std::string_view, N + sizeof...(More)> all{};
  for (size_t i = 0; i < N; ++i) {
    all[i] = names[i];
  }
  size_t i = N;
  ((all[i++] = std::string_view(more)), ...);
  return all;
}

// Names of a device as users know them.
struct DeviceNames {
  std::string dm_name;
  DeviceNumber dev;
  std::string vg;  // empty unless the dm uuid says LVM
  std::string lv;  // for a pool's "-tpool" device, the pool LV

  // The values of kPoolLabelNames.
  std::array<std::string_view, 3> pool_label_values() const { return {dm_name, vg, lv}; }
};

DeviceNames make_device_names(const DmDevice& device, const std::string& uuid);

// A thin volume's dm name, VG and LV, and its series' whole label text (kVolumeLabelNames'
// `name="value"` pairs, values escaped), derived once per device and pool: the inventory keeps it
// in its thin-table cache and makes it again only when the device is renamed or recreated, or its
// pool's name or its device id change; the thin collector writes it as it is (splitting LVM names,
// escaping and joining label values on every scrape was a fifth of a 10,000-volume scrape). All of
// it is one text right after this header, in a VolumeNamesStore: the label text, and the names
// apart only when escaping changed one (else they are read inside the label text).
class VolumeNames {
 public:
  VolumeNames(const VolumeNames&) = delete;
  VolumeNames& operator=(const VolumeNames&) = delete;

  std::string_view dm_name() const { return piece(at_.dm_at, at_.dm_end); }
  std::string_view vg() const { return piece(at_.vg_at, at_.vg_end); }
  std::string_view lv() const { return piece(at_.lv_at, at_.lv_end); }
  std::string_view label_text() const { return piece(0, at_.label_end); }
  // Whether the label text holds these values of `pool` and `device_id`.
  bool has_labels(std::string_view escaped_pool, std::string_view device_id) const {
    return piece(at_.pool_at, at_.pool_end) == escaped_pool &&
           piece(at_.device_id_at, at_.device_id_end) == device_id;
  }

 private:
  friend class VolumeNamesStore;
  // Where each piece is in the text.
  struct Layout {
    uint32_t size = 0;  // of the text
    uint32_t label_end = 0;
    uint32_t dm_at = 0;
    uint32_t dm_end = 0;
    uint32_t vg_at = 0;
    uint32_t vg_end = 0;
    uint32_t lv_at = 0;
    uint32_t lv_end = 0;
    uint32_t pool_at = 0;
    uint32_t pool_end = 0;
    uint32_t device_id_at = 0;
    uint32_t device_id_end = 0;
  };
  explicit VolumeNames(const Layout& layout) : at_(layout) {}

  const char* text() const { return reinterpret_cast<const char*>(this) + sizeof(VolumeNames); }
  std::string_view piece(uint32_t start, uint32_t end) const {
    return std::string_view(text() + start, end - start);
  }

  Layout at_;
};

// Where a thin-table cache keeps its volumes' VolumeNames: one after another in blocks of 64 KiB,
// never moved or freed while the store lives, so that 10,000 volumes' names are 47 allocations,
// not 20,000 (each with a header, a control block and a reference count that every scrape moved
// twice). An inventory holds the store its volumes' names are in. Names the cache replaces or
// forgets leave their bytes unused until it copies what it still uses into a new store
// (mostly_unused()). Adding is not thread-safe; reading names that were added is.
class VolumeNamesStore {
 public:
  // The names of the volume `dm_name`, split into VG and LV when its dm uuid is LVM's (`lvm`);
  // `escaped_pool` and `device_id` are the label values as written (append_label_value; the id
  // in decimal, or empty when the volume's pool failed before its table was read).
  const VolumeNames* add(std::string_view dm_name, bool lvm, std::string_view escaped_pool,
                         std::string_view device_id);
  // A copy of `names`, from another store.
  const VolumeNames* add_copy(const VolumeNames& names);
  // The cache no longer uses `names` (of this store).
  void release(const VolumeNames& names);

  // Bytes of the blocks, and of the names in use.
  size_t held_bytes() const { return held_; }
  size_t used_bytes() const { return used_; }
  // Whether more than half of what is held is unused: a copy of the names in use would free it.
  bool mostly_unused() const { return held_ > 2 * used_ + kBlockBytes; }

 private:
  static constexpr size_t kBlockBytes = size_t{64} * 1024;
  static size_t bytes_of(uint32_t text_size);
  // The names laid out as `layout` says, with `text`, placed after the last ones.
  const VolumeNames* place(const VolumeNames::Layout& layout, const char* text);

  std::vector<std::unique_ptr<std::byte[]>> blocks_;
  size_t free_at_ = 0;    // in the last block
  size_t last_size_ = 0;  // of the last block
  size_t held_ = 0;
  size_t used_ = 0;
  std::string scratch_;  // the text being made
};

}  // namespace thinpool
