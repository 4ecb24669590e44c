#include "collectors/thin_volume_collector.h"

#include "collectors/metric_families.h"

namespace thinpool {

void append_volume_families(const std::vector<ThinVolume>& volumes,
                            std::vector<prometheus::MetricFamily>& out) {
  FamilyBuilder size("thinpool_volume_size_bytes",
                     "Virtual size of the thin volume (length of its dm thin target).");
  FamilyBuilder mapped("thinpool_volume_mapped_bytes",
                       "Pool space mapped to the thin volume (dm thin status mapped sectors); "
                       "absent while the volume is not open or its pool failed.");
  for (const ThinVolume& volume : volumes) {
    Labels labels = {
        {"volume", volume.names.dm_name},
        {"pool", volume.pool_name},
        {"vg", volume.names.vg},
        {"lv", volume.names.lv},
        {"device_id",
         volume.table.pool_failed ? std::string() : std::to_string(volume.table.device_id)}};
    size.add(labels, static_cast<double>(volume.size_sectors * kSectorBytes));
    if (volume.status.state == ThinStatus::State::kActive) {
      mapped.add(std::move(labels),
                 static_cast<double>(volume.status.mapped_sectors * kSectorBytes));
    }
  }
  size.move_to(out);
  mapped.move_to(out);
}

Status ThinVolumeCollector::collect(ScrapeContext& context,
                                    std::vector<prometheus::MetricFamily>& out) {
  const auto& inventory = context.inventory();
  if (!inventory) {
    return inventory.error();
  }
  append_volume_families(inventory->volumes, out);
  return {};
}

}  // namespace thinpool
