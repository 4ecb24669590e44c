#include "thin/device_names.h"

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

VolumeNames::VolumeNames(std::string_view dm_name, std::string_view uuid,
                         std::string_view escaped_pool, std::string_view device_id) {
  static_assert(kVolumeLabelNames[0] == "volume" && kVolumeLabelNames[1] == "pool" &&
                    kVolumeLabelNames[2] == "vg" && kVolumeLabelNames[3] == "lv" &&
                    kVolumeLabelNames[4] == "device_id",
                "the label text below is written in kVolumeLabelNames' order");
  lvm::LvmName split;
  if (lvm::is_lvm_uuid(uuid)) {
    split = lvm::split_lvm_name(dm_name);
  }
  std::string& text = text_;
  text.reserve(dm_name.size() + escaped_pool.size() + split.vg.size() + split.lv.size() +
               device_id.size() + uuid.size() + 40);
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
  auto label = [&](std::string_view name, std::string_view value, uint32_t& at, uint32_t& end) {
    at = open_label(name);
    text.pop_back();
    append_label_value(value, text);
    end = static_cast<uint32_t>(text.size());
    text.push_back('"');
    return end - at == value.size();
  };
  // A label whose value is escaped already.
  auto escaped_label = [&](std::string_view name, std::string_view value, uint32_t& at,
                           uint32_t& end) {
    at = open_label(name);
    text.pop_back();
    text.append(value);
    end = static_cast<uint32_t>(text.size());
    text.push_back('"');
  };
  bool as_is = label(kVolumeLabelNames[0], dm_name, dm_at_, dm_end_);
  escaped_label(kVolumeLabelNames[1], escaped_pool, pool_at_, pool_end_);
  as_is = label(kVolumeLabelNames[2], split.vg, vg_at_, vg_end_) && as_is;
  as_is = label(kVolumeLabelNames[3], split.lv, lv_at_, lv_end_) && as_is;
  escaped_label(kVolumeLabelNames[4], device_id, device_id_at_, device_id_end_);
  label_end_ = static_cast<uint32_t>(text.size());
  // The uuid, then the names as they are when escaping changed one (a '"', '\\' or newline in
  // a dm name).
  auto append = [&text](std::string_view value, uint32_t& at, uint32_t& end) {
    at = static_cast<uint32_t>(text.size());
    text.append(value);
    end = static_cast<uint32_t>(text.size());
  };
  append(uuid, uuid_at_, uuid_end_);
  if (!as_is) {
    append(dm_name, dm_at_, dm_end_);
    append(split.vg, vg_at_, vg_end_);
    append(split.lv, lv_at_, lv_end_);
  }
  text.shrink_to_fit();
}

}  // namespace thinpool
