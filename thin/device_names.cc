#include "thin/device_names.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "exposition/metric_writer.h"
#include "lvm/dm_names.h"

namespace thinpool {

DeviceNames make_device_names(const DmDevice& device, const std::string& uuid) {
  DeviceNames names{device.name, device.dev, "", ""};
  if (lvm::is_lvm_uuid(uuid)) {
    lvm::LvmName split = lvm::split_lvm_name(device.name);
    names.vg = std::move(split.vg);
    names.lv = std::move(split.lv);
  }
  return names;
}

const VolumeNames* VolumeNamesStore::add(std::string_view dm_name, bool lvm,
                                         std::string_view escaped_pool,
                                         std::string_view device_id) {
  static_assert(kVolumeLabelNames[0] == "volume" && kVolumeLabelNames[1] == "pool" &&
                    kVolumeLabelNames[2] == "vg" && kVolumeLabelNames[3] == "lv" &&
                    kVolumeLabelNames[4] == "device_id",
                "the label text below is written in kVolumeLabelNames' order");
  lvm::LvmName split;
  if (lvm) {
    split = lvm::split_lvm_name(dm_name);
  }
  VolumeNames::Layout at;
  std::string& text = scratch_;
  text.clear();
  // `name="` (after a comma but for the first label), where the value goes, and its closing quote.
  auto open_label = [&text](std::string_view name) {
    if (!text.empty()) {
      text.push_back(',');
    }
    text.append(name).append("=\"");
    const auto value_at = static_cast<uint32_t>(text.size());
    text.push_back('"');
    return value_at;
  };
  // A label with its value escaped; true when escaping left the value as it was.
  auto label = [&](std::string_view name, std::string_view value, uint32_t& start, uint32_t& end) {
    start = open_label(name);
    text.pop_back();
    append_label_value(value, text);
    end = static_cast<uint32_t>(text.size());
    text.push_back('"');
    return end - start == value.size();
  };
  // A label whose value is escaped already.
  auto escaped_label = [&](std::string_view name, std::string_view value, uint32_t& start,
                           uint32_t& end) {
    start = open_label(name);
    text.pop_back();
    text.append(value);
    end = static_cast<uint32_t>(text.size());
    text.push_back('"');
  };
  bool as_is = label(kVolumeLabelNames[0], dm_name, at.dm_at, at.dm_end);
  escaped_label(kVolumeLabelNames[1], escaped_pool, at.pool_at, at.pool_end);
  as_is = label(kVolumeLabelNames[2], split.vg, at.vg_at, at.vg_end) && as_is;
  as_is = label(kVolumeLabelNames[3], split.lv, at.lv_at, at.lv_end) && as_is;
  escaped_label(kVolumeLabelNames[4], device_id, at.device_id_at, at.device_id_end);
  at.label_end = static_cast<uint32_t>(text.size());
  // The names as they are when escaping changed one (a '"', '\\' or newline in a dm name).
  auto append = [&text](std::string_view value, uint32_t& start, uint32_t& end) {
    start = static_cast<uint32_t>(text.size());
    text.append(value);
    end = static_cast<uint32_t>(text.size());
  };
  if (!as_is) {
    append(dm_name, at.dm_at, at.dm_end);
    append(split.vg, at.vg_at, at.vg_end);
    append(split.lv, at.lv_at, at.lv_end);
  }
  at.size = static_cast<uint32_t>(text.size());
  return place(at, text.data());
}

const VolumeNames* VolumeNamesStore::add_copy(const VolumeNames& names) {
  return place(names.at_, names.text());
}

void VolumeNamesStore::release(const VolumeNames& names) {
  used_ -= bytes_of(names.at_.size);
}

size_t VolumeNamesStore::bytes_of(uint32_t text_size) {
  // Each one starts aligned for its header.
  constexpr size_t kAlign = alignof(VolumeNames);
  return (sizeof(VolumeNames) + text_size + kAlign - 1) / kAlign * kAlign;
}

const VolumeNames* VolumeNamesStore::place(const VolumeNames::Layout& layout, const char* text) {
  const size_t bytes = bytes_of(layout.size);
  if (blocks_.empty() || last_size_ - free_at_ < bytes) {
    // Names too long for a block (a dm name is at most 127 bytes, so only a caller's own) get a
    // block of their size.
    last_size_ = std::max(kBlockBytes, bytes);
    blocks_.push_back(std::make_unique_for_overwrite<std::byte[]>(last_size_));
    free_at_ = 0;
    held_ += last_size_;
  }
  std::byte* at = blocks_.back().get() + free_at_;
  free_at_ += bytes;
  used_ += bytes;
  std::memcpy(at + sizeof(VolumeNames), text, layout.size);
  return new (at) VolumeNames(layout);
}

}  // namespace thinpool
