// Collectors and the scrape that runs them.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "exposition/exposition_writer.h"
#include "lvm/block_reader.h"
#include "thin/inventory.h"

namespace thinpool {

// State shared by the collectors of one scrape: the device-mapper inventory is read at most once
// per scrape, on first use.
class ScrapeContext {
 public:
  explicit ScrapeContext(InventoryReader& reader) : reader_(reader) {}
  const Expected<ThinInventory>& inventory();

 private:
  InventoryReader& reader_;
  std::optional<Expected<ThinInventory>> inventory_;
};

// One data source. collect() appends fresh families; on failure it returns the reason and the
// scrape reports thinpool_scrape_collector_success{collector} 0 for it.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual Status collect(ScrapeContext& context, std::vector<prometheus::MetricFamily>& out) = 0;
  // The same series as exposition text, appended to `out`: byte for byte what write_exposition()
  // makes of collect()'s families, which is what this default does. A collector with thousands
  // of series overrides it to write them without MetricFamily values (see BENCHMARKS.md).
  virtual Status collect_text(ScrapeContext& context, std::string& out);
};

// What a collector may use.
struct CollectorDependencies {
  InventoryReader* inventory = nullptr;
  DeviceMapper* device_mapper = nullptr;
  // --collector.lvm.backup-dir: LVM's text backups, read when no PV can be (empty: never).
  std::string lvm_backup_dir = "/etc/lvm/backup";
  // How the lvm collector opens PVs; empty: the real block devices. Fixture runs refuse, so
  // that a test never reads the host's disks.
  std::function<Expected<std::unique_ptr<lvm::BlockReader>>(DeviceNumber)> open_block_device;
};

// A collector known to the exporter: its name gives it --collector.<name> and
// --no-collector.<name>.
struct CollectorDefinition {
  std::string name;
  bool enabled_by_default = true;
  std::string help;
  std::function<std::unique_ptr<Collector>(const CollectorDependencies&)> make;
};

// Every collector, in the order they run.
const std::vector<CollectorDefinition>& collector_definitions();

// The Collectable registered with the HTTP side: runs the enabled collectors, times them, and
// never lets one collector's failure or exception fail the scrape. Safe for concurrent scrapes.
// render_metrics() uses CollectText(), the same series written as text without MetricFamily
// values in between.
class Scraper : public prometheus::Collectable, public TextCollectable {
 public:
  struct NamedCollector {
    std::string name;
    std::unique_ptr<Collector> collector;
  };

  Scraper(InventoryReader& inventory, std::vector<NamedCollector> collectors);

  std::vector<prometheus::MetricFamily> Collect() const override;
  void CollectText(std::string& out) const override;

 private:
  struct Outcome {
    bool success = false;
    double seconds = 0;
  };
  Outcome run_one(const NamedCollector& named, ScrapeContext& context,
                  std::vector<prometheus::MetricFamily>& out) const;
  // A failed collector leaves nothing in `out`.
  Outcome run_one_text(const NamedCollector& named, ScrapeContext& context, std::string& out) const;
  // Times `run`, catches what it throws and logs a failure.
  Outcome run_timed(const NamedCollector& named, const std::function<Status()>& run) const;
  // thinpool_scrape_collector_success, _duration_seconds (one outcome per collector, in order)
  // and thinpool_parse_errors_total.
  void append_scrape_families(const std::vector<Outcome>& outcomes,
                              std::vector<prometheus::MetricFamily>& out) const;
  void report_failure(const std::string& collector, const std::string& reason) const;
  void report_success(const std::string& collector) const;

  InventoryReader& inventory_;
  std::vector<NamedCollector> collectors_;
  mutable std::mutex last_errors_mutex_;
  // The last failure logged per collector, so that a lasting failure is logged once.
  mutable std::map<std::string, std::string> last_errors_;
};

// The device-mapper collectors ("thinpool" and "thin", in their run order) reading `inventory`:
// what tests and benchmarks run on dmsetup fixtures, which hold no LVM metadata.
std::vector<Scraper::NamedCollector> device_mapper_collectors(InventoryReader& inventory);

}  // namespace thinpool
