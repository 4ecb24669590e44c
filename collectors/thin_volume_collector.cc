#include "collectors/thin_volume_collector.h"

#include <array>
#include <charconv>
#include <initializer_list>

#include "exposition/exposition_writer.h"
#include "exposition/metric_families.h"

namespace thinpool {
namespace {

constexpr std::string_view kSizeName = "thinpool_volume_size_bytes";
constexpr std::string_view kSizeHelp =
    "Virtual size of the thin volume (length of its dm thin target).";
constexpr std::string_view kMappedName = "thinpool_volume_mapped_bytes";
constexpr std::string_view kMappedHelp =
    "Pool space mapped to the thin volume (dm thin status mapped sectors); "
    "absent while the volume is not open or its pool failed.";

// Room for what follows the volumes in the same text (the scrape's own families, build info,
// process metrics), so that it does not move the volumes' text to a bigger buffer.
constexpr size_t kTextSlack = size_t{64} * 1024;

// The one place that says which series a volume has and with which labels: calls
// sink.add(labels, value) per volume, for the size family or the mapped one.
template <typename Sink>
void add_volume_series(const std::vector<ThinVolume>& volumes, bool mapped, Sink& sink) {
  for (const ThinVolume& volume : volumes) {
    if (mapped && volume.status.state != ThinStatus::State::kActive) {
      continue;
    }
    std::array<char, 24> id_buffer{};
    std::string_view device_id;  // empty when the pool failed: the table no longer says
    if (!volume.table.pool_failed) {
      char* end = std::to_chars(id_buffer.data(), id_buffer.data() + id_buffer.size(),
                                volume.table.device_id)
                      .ptr;
      device_id = std::string_view(id_buffer.data(), static_cast<size_t>(end - id_buffer.data()));
    }
    const uint64_t sectors = mapped ? volume.status.mapped_sectors : volume.size_sectors;
    sink.add({{"volume", volume.names().dm_name()},
              {"pool", volume.pool_name()},
              {"vg", volume.names().vg()},
              {"lv", volume.names().lv()},
              {"device_id", device_id}},
             static_cast<double>(sectors * kSectorBytes));
  }
}

// add_volume_series() for text, with the label text the inventory keeps per volume (VolumeNames):
// the same bytes, without splitting and escaping the names again on every scrape.
void write_volume_series(const std::vector<ThinVolume>& volumes, bool mapped,
                         FamilyTextWriter& writer) {
  const std::string* escaped_pool_of = nullptr;  // the last pool name escaped, and its text
  std::string escaped_pool;
  for (const ThinVolume& volume : volumes) {
    if (mapped && volume.status.state != ThinStatus::State::kActive) {
      continue;
    }
    if (volume.shared_pool_name.get() != escaped_pool_of) {
      escaped_pool.clear();
      append_label_value(volume.pool_name(), escaped_pool);
      escaped_pool_of = volume.shared_pool_name.get();
    }
    const VolumeNames& names = *volume.shared_names;
    const std::string_view labels = names.label_text();
    std::string& out = writer.begin_sample();
    out.append(labels.substr(0, names.pool_value_at()));
    out.append(escaped_pool);
    out.append(labels.substr(names.pool_value_at()));
    if (!volume.table.pool_failed) {  // the device id is empty once the pool failed
      std::array<char, 24> id_buffer{};
      char* end = std::to_chars(id_buffer.data(), id_buffer.data() + id_buffer.size(),
                                volume.table.device_id)
                      .ptr;
      out.append(id_buffer.data(), end);
    }
    out.push_back('"');
    const uint64_t sectors = mapped ? volume.status.mapped_sectors : volume.size_sectors;
    writer.end_sample(static_cast<double>(sectors * kSectorBytes));
  }
}

// A FamilyBuilder behind FamilyTextWriter's add().
class BuilderSink {
 public:
  explicit BuilderSink(FamilyBuilder& builder) : builder_(builder) {}
  void add(std::initializer_list<FamilyTextWriter::Label> labels, double value) {
    Labels owned;
    owned.reserve(labels.size());
    for (const auto& [name, label_value] : labels) {
      owned.push_back({std::string(name), std::string(label_value)});
    }
    builder_.add(std::move(owned), value);
  }

 private:
  FamilyBuilder& builder_;
};

// At least the bytes write_volume_text() appends when no label value needs escaping.
size_t volume_text_bound(const std::vector<ThinVolume>& volumes) {
  constexpr size_t kPerLine =
      32 /* name */ + 48 /* label names, quotes */ + 24 /* device id */ + 24 /* value */ + 2;
  size_t size = 2 * (kSizeHelp.size() + kMappedHelp.size() + 100);
  for (const ThinVolume& volume : volumes) {
    size += 2 * (kPerLine + volume.names().dm_name().size() + volume.pool_name().size() +
                 volume.names().vg().size() + volume.names().lv().size());
  }
  return size;
}

}  // namespace

void append_volume_families(const std::vector<ThinVolume>& volumes,
                            std::vector<prometheus::MetricFamily>& out) {
  FamilyBuilder size{std::string(kSizeName), std::string(kSizeHelp)};
  FamilyBuilder mapped{std::string(kMappedName), std::string(kMappedHelp)};
  BuilderSink size_sink(size);
  BuilderSink mapped_sink(mapped);
  add_volume_series(volumes, false, size_sink);
  add_volume_series(volumes, true, mapped_sink);
  size.move_to(out);
  mapped.move_to(out);
}

void write_volume_text(const std::vector<ThinVolume>& volumes, std::string& out) {
  out.reserve(out.size() + volume_text_bound(volumes) + kTextSlack);
  FamilyTextWriter size(out, kSizeName, kSizeHelp);
  write_volume_series(volumes, false, size);
  FamilyTextWriter mapped(out, kMappedName, kMappedHelp);
  write_volume_series(volumes, true, mapped);
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

Status ThinVolumeCollector::collect_text(ScrapeContext& context, std::string& out) {
  const auto& inventory = context.inventory();
  if (!inventory) {
    return inventory.error();
  }
  write_volume_text(inventory->volumes, out);
  return {};
}

}  // namespace thinpool
