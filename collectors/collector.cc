#include "collectors/collector.h"

#include <spdlog/spdlog.h>

#include <exception>

#include "collectors/lvm_collector.h"
#include "collectors/thin_pool_collector.h"
#include "collectors/thin_volume_collector.h"
#include "exposition/metric_families.h"

namespace thinpool {

const Expected<ThinInventory>& ScrapeContext::inventory() {
  if (!inventory_) {
    inventory_.emplace(reader_.read());
  }
  return *inventory_;
}

const std::vector<CollectorDefinition>& collector_definitions() {
  static const std::vector<CollectorDefinition> definitions = {
      {"thinpool", true, "thin pools: usage, transaction id, mode and flags (dm thin-pool target)",
       [](const CollectorDependencies&) { return std::make_unique<ThinPoolCollector>(); }},
      {"thin", true,
       "thin volumes: size and mapped bytes (dm thin target); turn off on hosts with thousands",
       [](const CollectorDependencies&) { return std::make_unique<ThinVolumeCollector>(); }},
      {"lvm", true,
       "LVM's own view of each LVM pool (expected transaction id, VG size and free space), read "
       "from the PVs' metadata areas or LVM's backups, without running lvm",
       [](const CollectorDependencies& deps) {
         return std::make_unique<LvmCollector>(
             *deps.device_mapper, deps.lvm_backup_dir,
             deps.open_block_device ? deps.open_block_device : open_block_device);
       }},
  };
  return definitions;
}

Scraper::Scraper(InventoryReader& inventory, std::vector<NamedCollector> collectors)
    : inventory_(inventory), collectors_(std::move(collectors)) {}

Status Collector::collect_text(ScrapeContext& context, std::string& out) {
  std::vector<prometheus::MetricFamily> families;
  Status status = collect(context, families);
  if (status.ok()) {
    write_exposition(families, out);
  }
  return status;
}

std::vector<prometheus::MetricFamily> Scraper::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  ScrapeContext context(inventory_);
  std::vector<Outcome> outcomes;
  for (const NamedCollector& named : collectors_) {
    outcomes.push_back(run_one(named, context, families));
  }
  append_scrape_families(outcomes, families);
  return families;
}

void Scraper::CollectText(std::string& out) const {
  ScrapeContext context(inventory_);
  std::vector<Outcome> outcomes;
  for (const NamedCollector& named : collectors_) {
    outcomes.push_back(run_one_text(named, context, out));
  }
  std::vector<prometheus::MetricFamily> families;
  append_scrape_families(outcomes, families);
  write_exposition(families, out);
}

void Scraper::append_scrape_families(const std::vector<Outcome>& outcomes,
                                     std::vector<prometheus::MetricFamily>& families) const {
  FamilyBuilder success(
      "thinpool_scrape_collector_success",
      "1 if the collector's last read succeeded, 0 if it failed (the log says why).");
  FamilyBuilder duration("thinpool_scrape_collector_duration_seconds",
                         "How long the collector took in this scrape, in seconds.");
  for (size_t i = 0; i < collectors_.size() && i < outcomes.size(); ++i) {
    success.add({{"collector", collectors_[i].name}}, outcomes[i].success ? 1 : 0);
    duration.add({{"collector", collectors_[i].name}}, outcomes[i].seconds);
  }
  success.move_to(families);
  duration.move_to(families);

  FamilyBuilder parse_errors("thinpool_parse_errors_total",
                             "Status or table lines the exporter could not parse, by dm target "
                             "type; the device is skipped and the raw line logged.",
                             prometheus::MetricType::Counter);
  for (const char* target : {"thin-pool", "thin"}) {
    parse_errors.add({{"target", target}}, static_cast<double>(inventory_.parse_errors(target)));
  }
  parse_errors.move_to(families);
}

Scraper::Outcome Scraper::run_one(const NamedCollector& named, ScrapeContext& context,
                                  std::vector<prometheus::MetricFamily>& out) const {
  std::vector<prometheus::MetricFamily> collected;
  Outcome outcome = run_timed(named, [&] { return named.collector->collect(context, collected); });
  if (outcome.success) {
    for (auto& family : collected) {
      out.push_back(std::move(family));
    }
  }
  return outcome;
}

Scraper::Outcome Scraper::run_one_text(const NamedCollector& named, ScrapeContext& context,
                                       std::string& out) const {
  const size_t before = out.size();
  Outcome outcome = run_timed(named, [&] { return named.collector->collect_text(context, out); });
  if (!outcome.success) {
    out.resize(before);
  }
  return outcome;
}

Scraper::Outcome Scraper::run_timed(const NamedCollector& named,
                                    const std::function<Status()>& run) const {
  auto start = std::chrono::steady_clock::now();
  Status status;
  try {
    status = run();
  } catch (const std::exception& e) {
    status = Error{std::string("unexpected exception: ") + e.what()};
  }
  Outcome outcome;
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  outcome.success = status.ok();
  if (status.ok()) {
    report_success(named.name);
  } else {
    report_failure(named.name, status.error().message);
  }
  return outcome;
}

void Scraper::report_failure(const std::string& collector, const std::string& reason) const {
  std::lock_guard lock(last_errors_mutex_);
  // Collectors that share a source fail for the same reason: log the reason once.
  bool already_logged = false;
  for (const auto& [other, other_reason] : last_errors_) {
    already_logged = already_logged || (other != collector && other_reason == reason);
  }
  auto [it, inserted] = last_errors_.try_emplace(collector, reason);
  if (inserted || it->second != reason) {
    it->second = reason;
    if (already_logged) {
      spdlog::error("collector {} failed for the same reason", collector);
    } else {
      spdlog::error("collector {} failed: {}", collector, reason);
    }
  } else {
    spdlog::debug("collector {} failed: {}", collector, reason);
  }
}

void Scraper::report_success(const std::string& collector) const {
  std::lock_guard lock(last_errors_mutex_);
  if (last_errors_.erase(collector) > 0) {
    spdlog::info("collector {} works again", collector);
  }
}

std::vector<Scraper::NamedCollector> device_mapper_collectors(InventoryReader& inventory) {
  CollectorDependencies deps;
  deps.inventory = &inventory;
  std::vector<Scraper::NamedCollector> collectors;
  for (const CollectorDefinition& definition : collector_definitions()) {
    if (definition.name == "thinpool" || definition.name == "thin") {
      collectors.push_back({definition.name, definition.make(deps)});
    }
  }
  return collectors;
}

}  // namespace thinpool
