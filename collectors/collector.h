// What a collector is, what it may use, and how the exporter knows it.
//
// A collector reads one data source and writes its series into the scrape's MetricWriter. It is
// known to the exporter by a CollectorDefinition in collectors/registry.cc, whose name gives it
// --collector.<name> / --no-collector.<name> and the label value of
// thinpool_scrape_collector_success{collector}. Scraper (scraper.h) runs the enabled ones.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/device_number.h"
#include "base/result.h"
#include "base/single_flight.h"
#include "exposition/metric_writer.h"
#include "lvm/block_reader.h"
#include "thin/inventory.h"

namespace thinpool {

// State shared by the collectors of one scrape: its deadline, and the device-mapper inventory,
// read at most once per scrape, on first use.
class ScrapeContext {
 public:
  ScrapeContext(InventoryReader& reader, Clock::time_point deadline)
      : reader_(reader), deadline_(deadline) {}
  const Expected<InventoryRef>& inventory();
  // The inventory if a collector read it in this scrape, else null (no read).
  const Expected<InventoryRef>* inventory_if_read() const {
    return inventory_ ? &*inventory_ : nullptr;
  }
  // When the scrape must answer: a collector gives up what would take longer.
  Clock::time_point deadline() const { return deadline_; }

 private:
  InventoryReader& reader_;
  Clock::time_point deadline_;
  std::optional<Expected<InventoryRef>> inventory_;
};

// One data source. collect() writes this scrape's series; on failure it returns the reason, and
// the scrape drops what it wrote and reports thinpool_scrape_collector_success{collector} 0.
//
// A scrape runs in two phases (Scraper::scrape): read() of every collector, in registry order,
// then each one's writer, or collect() when read() gave none. A collector whose reads hold much
// memory for a moment (the lvm collector's parse of LVM's metadata text) reads in the first
// phase, so that what it holds never sits beside the half-written body of the collectors before
// it; what it read then lives in the writer it returns. Its duration counts both phases.
class Collector {
 public:
  // Writes the series of what read() read, once, in the scrape's second phase.
  using Writer = std::function<Status(MetricWriter& out)>;

  virtual ~Collector() = default;

  // The first phase: the reads, or why the collector fails this scrape (then nothing of it is
  // written). The default reads nothing and returns no writer: collect() does it all.
  virtual Expected<Writer> read(ScrapeContext& /*context*/) { return Writer{}; }

  // read() and the writer in one, or the whole collector when it reads in the second phase.
  virtual Status collect(ScrapeContext& context, MetricWriter& out) = 0;
};

// A collector of the device-mapper inventory: reads it in the first phase, so that the time of
// the device-mapper calls counts for the first such collector, not for one that reads more after
// it; collect() writes from it.
class InventoryCollector : public Collector {
 public:
  Expected<Writer> read(ScrapeContext& context) override;
};

// Opens the block device with the given number read-only (the lvm collector's PVs).
using BlockDeviceOpener =
    std::function<Expected<std::unique_ptr<lvm::BlockReader>>(DeviceNumber dev)>;

// What the exporter was built as: thinpool_exporter_build_info's labels.
struct BuildInfo {
  std::string version;
  std::string revision;
  std::string compiler;
  std::string libdevmapper;
};

// A setting of one collector: --collector.<collector>.<name>=VALUE, or for a switch
// (`is_switch`, default "true" or "false") --[no-]collector.<collector>.<name>, whose value the
// collector reads as "true" or "false".
struct CollectorOption {
  std::string name;
  std::string default_value;
  std::string help;
  bool is_switch = false;
};

// What a collector may use: the scrape's shared sources and its own options.
struct CollectorDependencies {
  InventoryReader* inventory = nullptr;
  // This collector's options (CollectorDefinition::options), by name, as set on the command line.
  std::map<std::string, std::string> options;
  // How PVs are opened; runs on fixtures get one that refuses, so a test never reads the host's
  // disks.
  BlockDeviceOpener open_block_device;
  // Whether collectors may list the host's block devices (the lvm collector's PV scan); off in
  // fixture runs.
  bool scan_block_devices = true;
  // The threads that run calls which can block on a device that stops answering.
  std::shared_ptr<BlockingCallPool> threads = std::make_shared<BlockingCallPool>();
  BuildInfo build;

  // The option's value; its default when not set.
  const std::string& option(const std::string& name) const { return options.at(name); }
  // A switch's value.
  bool enabled(const std::string& name) const { return option(name) == "true"; }
};

// A collector known to the exporter.
struct CollectorDefinition {
  std::string name;
  bool enabled_by_default = true;
  std::string help;  // for --help and the landing page: what it reads
  std::vector<CollectorOption> options;
  std::function<std::unique_ptr<Collector>(const CollectorDependencies&)> make;
};

}  // namespace thinpool
