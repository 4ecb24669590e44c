#include "collectors/thin_volume_collector.h"

#include <array>
#include <charconv>

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
// text is the inventory's, made once per device (VolumeNames); the pool's name is escaped once
// per pool.
void write_family(const std::vector<ThinVolume>& volumes, bool mapped, MetricWriter& out) {
  FamilySamples samples = out.family(mapped ? kVolumeMapped : kVolumeSize);
  const std::string* escaped_pool_of = nullptr;  // the last pool name escaped, and its text
  std::string escaped_pool;
  for (const ThinVolume& volume : volumes) {
    if (mapped && (volume.status_blocked || volume.status.state != ThinStatus::State::kActive)) {
      continue;
    }
    if (volume.shared_pool_name.get() != escaped_pool_of) {
      escaped_pool.clear();
      append_label_value(volume.pool_name(), escaped_pool);
      escaped_pool_of = volume.shared_pool_name.get();
    }
    std::array<char, 24> id_buffer{};
    std::string_view device_id;  // empty once the pool failed: the table no longer says
    if (!volume.table.pool_failed) {
      char* end = std::to_chars(id_buffer.data(), id_buffer.data() + id_buffer.size(),
                                volume.table.device_id)
                      .ptr;
      device_id = std::string_view(id_buffer.data(), static_cast<size_t>(end - id_buffer.data()));
    }
    const VolumeNames& names = volume.names();
    const std::string_view text = names.label_text();
    const size_t pool_at = names.pool_value_at();
    const size_t id_at = names.device_id_value_at();
    const uint64_t sectors = mapped ? volume.status.mapped_sectors : volume.size_sectors;
    samples.add_label_text({text.substr(0, pool_at), escaped_pool,
                            text.substr(pool_at, id_at - pool_at), device_id, text.substr(id_at)},
                           static_cast<double>(sectors * kSectorBytes));
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
