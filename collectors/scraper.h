// One scrape: runs the enabled collectors in order, each into the same MetricWriter, and reports
// how each did.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/condition_log.h"
#include "collectors/collector.h"

namespace thinpool {

class Scraper {
 public:
  struct NamedCollector {
    std::string name;
    std::unique_ptr<Collector> collector;
  };

  Scraper(InventoryReader& inventory, std::vector<NamedCollector> collectors);

  // The exposition text of one scrape: every collector's series, then
  // thinpool_scrape_collector_success and _duration_seconds per collector and the inventory's
  // thinpool_parse_errors_total. A collector that fails or throws leaves none of its series (the
  // others are unaffected), reports success 0 and is logged once per reason. Safe for concurrent
  // scrapes.
  // Collectors keep to `deadline` (ScrapeContext::deadline): what would take longer is given up
  // and reported.
  std::string scrape(Clock::time_point deadline = Clock::now() + std::chrono::seconds(10)) const;

 private:
  struct Outcome {
    bool success = false;
    double seconds = 0;
  };
  Outcome run(const NamedCollector& named, ScrapeContext& context, MetricWriter& out) const;
  void write_scrape_families(const std::vector<Outcome>& outcomes, MetricWriter& out) const;

  InventoryReader& inventory_;
  std::vector<NamedCollector> collectors_;
  // The size of the last scrape's text: the next one reserves about that much at once instead of
  // growing its string (and copying it) a dozen times.
  mutable std::atomic<size_t> last_size_{0};
  // One line when a collector starts failing or its reason changes, one when it works again.
  mutable ConditionLog failures_;
};

// The collectors of `definitions` whose name is in `enabled`, in definition order, each made with
// `shared` and its own options: the values in `option_values` (keyed "<collector>.<option>") over
// its defaults.
std::vector<Scraper::NamedCollector> make_collectors(
    const std::vector<CollectorDefinition>& definitions, const std::set<std::string>& enabled,
    const CollectorDependencies& shared, const std::map<std::string, std::string>& option_values);

}  // namespace thinpool
