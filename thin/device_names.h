// What the series of a pool or a thin volume are labelled with: the device's names as users know
// them (the dm name and, for LVM devices, VG and LV), and the label names, in the order every
// family of those series lists them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

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

// A thin volume's dm name, uuid, VG and LV, and its series' whole label text (kVolumeLabelNames'
// `name="value"` pairs, values escaped), derived once per device and pool: the inventory keeps it
// in its thin-table cache and makes it again only when the device is renamed or recreated, or its
// pool's name or its device id change; the thin collector writes it as it is (splitting LVM names,
// escaping and joining label values on every scrape was a fifth of a 10,000-volume scrape). All of
// it is one string: the label text, the uuid after it, and the names apart only when escaping
// changed one (else they are read inside the label text).
class VolumeNames {
 public:
  // `escaped_pool` and `device_id` are the label values as written (append_label_value; the id
  // in decimal, or empty when the volume's pool failed before its table was read).
  VolumeNames(std::string_view dm_name, std::string_view uuid, std::string_view escaped_pool,
              std::string_view device_id);

  std::string_view dm_name() const { return piece(dm_at_, dm_end_); }
  std::string_view uuid() const { return piece(uuid_at_, uuid_end_); }
  std::string_view vg() const { return piece(vg_at_, vg_end_); }
  std::string_view lv() const { return piece(lv_at_, lv_end_); }
  std::string_view label_text() const { return piece(0, label_end_); }
  // Whether the label text holds these values of `pool` and `device_id`.
  bool has_labels(std::string_view escaped_pool, std::string_view device_id) const {
    return piece(pool_at_, pool_end_) == escaped_pool &&
           piece(device_id_at_, device_id_end_) == device_id;
  }

 private:
  std::string_view piece(uint32_t at, uint32_t end) const {
    return std::string_view(text_).substr(at, end - at);
  }

  std::string text_;
  uint32_t label_end_ = 0;
  uint32_t dm_at_ = 0;
  uint32_t dm_end_ = 0;
  uint32_t uuid_at_ = 0;
  uint32_t uuid_end_ = 0;
  uint32_t vg_at_ = 0;
  uint32_t vg_end_ = 0;
  uint32_t lv_at_ = 0;
  uint32_t lv_end_ = 0;
  uint32_t pool_at_ = 0;
  uint32_t pool_end_ = 0;
  uint32_t device_id_at_ = 0;
  uint32_t device_id_end_ = 0;
};

}  // namespace thinpool
