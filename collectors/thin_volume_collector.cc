#include "collectors/thin_volume_collector.h"

namespace thinpool {
namespace {

constexpr Family kVolumeSize{"thinpool_volume_size_bytes",
                             "Virtual size of the thin volume (length of its dm thin target).",
                             MetricType::Gauge, kVolumeLabelNames};
constexpr Family kVolumeMapped{
    "thinpool_volume_mapped_bytes",
    "Pool space mapped to the thin volume (dm thin status mapped sectors); absent while the "
    "volume is not open, its pool failed or its pool's status calls block.",
    MetricType::Gauge, kVolumeLabelNames};

// One family's samples: every volume's size, or the mapped bytes of the active ones. The label
// text is the inventory's, made once per device and pool (VolumeNames).
void write_family(const std::vector<ThinVolume>& volumes, bool mapped, MetricWriter& out) {
  FamilySamples samples = out.family(mapped ? kVolumeMapped : kVolumeSize);
  for (const ThinVolume& volume : volumes) {
    if (mapped && (volume.status_blocked || volume.status.state != ThinStatus::State::kActive)) {
      continue;
    }
    const uint64_t sectors = mapped ? volume.status.mapped_sectors : volume.size_sectors;
    samples.add_label_text({volume.names().label_text()}, sectors * kSectorBytes);
  }
}

}  // namespace

void write_volume_series(const std::vector<ThinVolume>& volumes, MetricWriter& out) {
  write_family(volumes, false, out);
  write_family(volumes, true, out);
}

Status ThinVolumeCollector::collect(ScrapeContext& context, MetricWriter& out) {
  const auto& inventory = context.inventory();
  if (!inventory) {
    return inventory.error();
  }
  write_volume_series((*inventory)->volumes, out);
  return {};
}

CollectorDefinition thin_volume_collector_definition() {
  return {"thin",
          true,
          "thin volumes: size and mapped bytes (dm thin target); turn off on hosts with thousands",
          {},
          [](const CollectorDependencies&) { return std::make_unique<ThinVolumeCollector>(); }};
}

}  // namespace thinpool
