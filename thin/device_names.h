// What a thin volume's labels are made of, derived from its dm name once per device: the inventory
// keeps it in its thin-table cache until the device is renamed or recreated, and the thin
// collector writes it. (Splitting LVM names and escaping the label values on every scrape was a
// fifth of a 10,000-volume scrape.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "dm/device_mapper.h"

namespace thinpool {

// Names of a device as users know them: the dm name and, for LVM devices, VG and LV.
struct DeviceNames {
  std::string dm_name;
  DeviceNumber dev;
  std::string vg;  // empty unless the dm uuid says LVM
  std::string lv;  // for a pool's "-tpool" device, the pool LV
};

DeviceNames make_device_names(const DmDevice& device, const std::string& uuid);

// A thin volume's dm name, VG and LV, and its series' labels as exposition text (values escaped)
// with the pool's value and the device id left out: `volume="<dm name>",pool="` +
// `",vg="<vg>",lv="<lv>",device_id="`, split at pool_value_at(); a series is `name{` + this with
// the two values in + `"} value`. The names are kept once: inside the label text, or apart only
// when escaping changed one (10,000 volumes: 2.9 MiB, where a DeviceNames and the text were 5).
class VolumeNames {
 public:
  VolumeNames(const DmDevice& device, const std::string& uuid);

  std::string_view dm_name() const { return source().substr(dm_at_, dm_end_ - dm_at_); }
  std::string_view vg() const { return source().substr(vg_at_, vg_end_ - vg_at_); }
  std::string_view lv() const { return source().substr(lv_at_, lv_end_ - lv_at_); }
  std::string_view label_text() const { return label_text_; }
  size_t pool_value_at() const { return pool_value_at_; }

 private:
  // Where the names are: label_text_, or unescaped_names_ when escaping changed one.
  std::string_view source() const {
    return unescaped_names_ ? std::string_view(*unescaped_names_) : std::string_view(label_text_);
  }

  std::string label_text_;
  std::unique_ptr<std::string> unescaped_names_;  // dm name + vg + lv, when escaping changed one
  uint32_t dm_at_ = 0;
  uint32_t dm_end_ = 0;
  uint32_t vg_at_ = 0;
  uint32_t vg_end_ = 0;
  uint32_t lv_at_ = 0;
  uint32_t lv_end_ = 0;
  uint32_t pool_value_at_ = 0;
};

}  // namespace thinpool
