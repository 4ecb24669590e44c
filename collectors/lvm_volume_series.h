// The `lvm` collector's per-LV series of one volume group, kept between scrapes while LVM commits
// nothing: thinpool_lvm_volume_creation_timestamp_seconds and thinpool_lvm_volume_info for every
// thin LV in its metadata, active or not.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "exposition/metric_writer.h"

namespace thinpool {

// The two per-LV families.
extern const Family kLvmVolumeCreation;
extern const Family kLvmVolumeInfo;

// What those series of one VG need, kept compactly: each thin pool's label text once
// (`pool="P",vg="V",lv="`), and per thin LV the rest of its labels in one buffer and its
// creation time (about 80 bytes per LV with Cinder's names, against 290 for the two lines as
// text). A scrape writes the lines from them with FamilySamples::add_label_text, as
// FamilySamples::add would write them.
class LvmVolumeSeries {
 public:
  // A thin LV of pool LV `pool` in VG `vg`, in metadata order; `origin` the LV (or external origin)
  // it is a snapshot of, empty for others; `creation_time` 0 when the metadata does not say
  // (no creation series then).
  void add(std::string_view vg, std::string_view pool, std::string_view lv, std::string_view origin,
           uint64_t creation_time);

  // Once every LV is added: nothing kept spare while it is kept.
  void shrink_to_fit();

  // The LVs' samples of each family, in the order they were added.
  void write_creation(FamilySamples& samples) const;
  void write_info(FamilySamples& samples) const;

  size_t size() const { return volumes_.size(); }

 private:
  // In names_, per LV: `L",origin="O"` (L and O escaped), so that each line is the pool's label
  // text and one piece of it.
  struct Volume {
    uint64_t creation_time;
    uint32_t names_at;  // where its text starts in names_
    uint32_t pool;      // index into pool_labels_
    uint16_t lv_size;   // of L
    uint16_t size;      // of the whole text
  };

  // `L"`: the end of the creation series' labels.
  std::string_view creation_labels(const Volume& volume) const {
    return std::string_view(names_).substr(volume.names_at, volume.lv_size + size_t{1});
  }
  // `L",origin="O"`: the end of the info series' labels.
  std::string_view info_labels(const Volume& volume) const {
    return std::string_view(names_).substr(volume.names_at, volume.size);
  }

  std::vector<std::string> pool_labels_;  // `pool="P",vg="V",lv="`, escaped
  std::vector<std::string> pool_names_;   // P as given, beside pool_labels_
  std::string names_;
  std::vector<Volume> volumes_;
};

}  // namespace thinpool
