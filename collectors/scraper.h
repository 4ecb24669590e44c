// One scrape: runs the enabled collectors in order, first every one's reads, then each one's
// series into the same MetricWriter (collector.h), and reports how each did.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <variant>
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
  // The same text handed to `sink` in pieces of about `piece_size` bytes as the collectors write
  // it (MetricWriter), the rest at the end, so that a big scrape's text is never held whole. False
  // when the text is not whole: a collector failed after some of its series had gone to the sink,
  // where they cannot be taken back (the failure is logged as any other; the caller must not pass
  // the text off as a whole scrape).
  bool scrape(Clock::time_point deadline, size_t piece_size, const TextSink& sink) const;

 private:
  struct Outcome {
    bool success = false;
    double seconds = 0;
    bool cut = false;  // failed, and some of its text was handed over already
  };
  // A collector after the first phase: its writer (empty: collect() writes), or why it failed.
  struct Prepared {
    std::variant<Collector::Writer, Status> writer;
    double seconds = 0;  // the first phase's time
  };
  // scrape() either way: the text in `text`, or through `sink` when it is set; false when cut.
  bool run(Clock::time_point deadline, std::string& text, size_t piece_size,
           const TextSink* sink) const;
  Prepared read(const NamedCollector& named, ScrapeContext& context) const;
  Outcome write(const NamedCollector& named, const Prepared& prepared, ScrapeContext& context,
                MetricWriter& out) const;
  void write_scrape_families(const std::vector<Outcome>& outcomes, MetricWriter& out) const;

  InventoryReader& inventory_;
  std::vector<NamedCollector> collectors_;
  // Devices (pools and volumes) in the scrape's inventory; 0 when none was read.
  static size_t device_count(const ScrapeContext& context);
  // The room the text of a scrape of `devices` devices is given at once: about the last one's
  // size, scaled by the devices when there are more, instead of growing the string (and copying
  // it) a dozen times.
  size_t expected_size(size_t devices) const;

  mutable std::mutex last_mutex_;
  mutable size_t last_size_ = 0;     // the last scrape's text
  mutable size_t last_devices_ = 0;  // and its devices
  // One line when a collector starts failing or its reason changes, one when it works again.
  mutable ConditionLog failures_;
};

// The room a scrape's text is given at once (Scraper): the last text's size and an eighth, or,
// with more devices (pools and volumes) than the last scrape read, that size per device; 1 KiB
// per device in the first scrape; 4 KiB more for the scrape's own series.
size_t expected_text_size(size_t last_size, size_t last_devices, size_t devices);

// The collectors of `definitions` whose name is in `enabled`, in definition order, each made with
// `shared` and its own options: the values in `option_values` (keyed "<collector>.<option>") over
// its defaults.
std::vector<Scraper::NamedCollector> make_collectors(
    const std::vector<CollectorDefinition>& definitions, const std::set<std::string>& enabled,
    const CollectorDependencies& shared, const std::map<std::string, std::string>& option_values);

}  // namespace thinpool
