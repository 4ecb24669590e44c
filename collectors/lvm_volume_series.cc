#include "collectors/lvm_volume_series.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace thinpool {
namespace {

constexpr std::string_view kVolumeLabels[] = {"pool", "vg", "lv"};
constexpr std::string_view kVolumeInfoLabels[] = {"pool", "vg", "lv", "origin"};

constexpr size_t kMaxVolumeText = std::numeric_limits<uint16_t>::max();

}  // namespace

constexpr Family kLvmVolumeCreation{
    "thinpool_lvm_volume_creation_timestamp_seconds",
    "When the thin LV was created (LVM's metadata), active or not; pool is the pool LV's name.",
    MetricType::Gauge, kVolumeLabels};
constexpr Family kLvmVolumeInfo{
    "thinpool_lvm_volume_info",
    "Constant 1 per thin LV in LVM's metadata, active or not; pool is the pool LV's name, origin "
    "the LV (or external origin) a thin snapshot was taken of, empty for other volumes.",
    MetricType::Gauge, kVolumeInfoLabels};

void LvmVolumeSeries::add(std::string_view vg, std::string_view pool, std::string_view lv,
                          std::string_view origin, uint64_t creation_time) {
  // A VG has few pools: the last one's index, else a search.
  uint32_t pool_index = 0;
  if (!volumes_.empty() && pool_names_[volumes_.back().pool] == pool) {
    pool_index = volumes_.back().pool;
  } else {
    const auto found = std::find(pool_names_.begin(), pool_names_.end(), pool);
    pool_index = static_cast<uint32_t>(found - pool_names_.begin());
    if (found == pool_names_.end()) {
      std::string label = "pool=\"";
      append_label_value(pool, label);
      label.append("\",vg=\"");
      append_label_value(vg, label);
      label.append("\",lv=\"");
      pool_labels_.push_back(std::move(label));
      pool_names_.emplace_back(pool);
    }
  }
  if (names_.size() > std::numeric_limits<uint32_t>::max() - kMaxVolumeText) {
    throw std::length_error("the LV names of one VG exceed 4 GiB");
  }
  const size_t at = names_.size();
  append_label_value(lv, names_);
  const size_t lv_size = names_.size() - at;
  names_.append("\",origin=\"");
  append_label_value(origin, names_);
  names_.push_back('"');
  if (names_.size() - at > kMaxVolumeText) {
    names_.resize(at);
    throw std::length_error(
        fmt::format("LV name of {} bytes, origin of {}", lv.size(), origin.size()));
  }
  volumes_.push_back({creation_time, static_cast<uint32_t>(at), pool_index,
                      static_cast<uint16_t>(lv_size), static_cast<uint16_t>(names_.size() - at)});
}

void LvmVolumeSeries::shrink_to_fit() {
  names_.shrink_to_fit();
  volumes_.shrink_to_fit();
}

void LvmVolumeSeries::write_creation(FamilySamples& samples) const {
  for (const Volume& volume : volumes_) {
    if (volume.creation_time != 0) {
      samples.add_label_text({pool_labels_[volume.pool], creation_labels(volume)},
                             volume.creation_time);
    }
  }
}

void LvmVolumeSeries::write_info(FamilySamples& samples) const {
  for (const Volume& volume : volumes_) {
    samples.add_label_text({pool_labels_[volume.pool], info_labels(volume)}, 1);
  }
}

}  // namespace thinpool
