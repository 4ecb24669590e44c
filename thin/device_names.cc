#include "thin/device_names.h"

#include "exposition/exposition_writer.h"
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

VolumeNames::VolumeNames(const DmDevice& device, const std::string& uuid) {
  std::string_view dm_name = device.name;
  lvm::LvmName split;
  if (lvm::is_lvm_uuid(uuid)) {
    split = lvm::split_lvm_name(dm_name);
  }
  std::string& text = label_text_;
  text.reserve(dm_name.size() + split.vg.size() + split.lv.size() + 40);
  auto append_value = [&text](std::string_view value, uint32_t& at, uint32_t& end) {
    at = static_cast<uint32_t>(text.size());
    append_label_value(value, text);
    end = static_cast<uint32_t>(text.size());
    return end - at == value.size();  // unchanged by escaping
  };
  text.append("volume=\"");
  bool as_is = append_value(dm_name, dm_at_, dm_end_);
  text.append("\",pool=\"");
  pool_value_at_ = static_cast<uint32_t>(text.size());
  text.append("\",vg=\"");
  as_is = append_value(split.vg, vg_at_, vg_end_) && as_is;
  text.append("\",lv=\"");
  as_is = append_value(split.lv, lv_at_, lv_end_) && as_is;
  text.append("\",device_id=\"");
  text.shrink_to_fit();
  if (!as_is) {
    unescaped_names_ = std::make_unique<std::string>();
    std::string& names = *unescaped_names_;
    names.append(dm_name).append(split.vg).append(split.lv);
    dm_at_ = 0;
    dm_end_ = vg_at_ = static_cast<uint32_t>(dm_name.size());
    vg_end_ = lv_at_ = static_cast<uint32_t>(dm_name.size() + split.vg.size());
    lv_end_ = static_cast<uint32_t>(names.size());
  }
}

}  // namespace thinpool
