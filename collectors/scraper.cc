#include "collectors/scraper.h"

#include <chrono>
#include <exception>

namespace thinpool {
namespace {

constexpr std::string_view kCollectorLabel[] = {"collector"};
constexpr Family kCollectorSuccess{
    "thinpool_scrape_collector_success",
    "1 if the collector's last read succeeded, 0 if it failed (the log says why).",
    MetricType::Gauge, kCollectorLabel};
constexpr Family kCollectorDuration{"thinpool_scrape_collector_duration_seconds",
                                    "How long the collector took in this scrape, in seconds.",
                                    MetricType::Gauge, kCollectorLabel};
constexpr std::string_view kReasonLabel[] = {"reason"};
constexpr Family kDeviceErrors{
    "thinpool_device_errors_total",
    "Devices left out of a scrape, by reason: table or status (the ioctl failed for that device), "
    "parse (a line the parser refuses), blocked (a pool whose status calls do not answer, and "
    "its volumes). The other devices are read; the log says which device and why.",
    MetricType::Counter, kReasonLabel};
constexpr std::string_view kTargetLabel[] = {"target"};
constexpr Family kParseErrors{
    "thinpool_parse_errors_total",
    "Status or table lines the exporter could not parse, by dm target type; the device is skipped "
    "and the raw line logged.",
    MetricType::Counter, kTargetLabel};

}  // namespace

Scraper::Scraper(InventoryReader& inventory, std::vector<NamedCollector> collectors)
    : inventory_(inventory),
      collectors_(std::move(collectors)),
      failures_(spdlog::level::err, "collector {} failed: {}", "collector {} works again") {}

std::string Scraper::scrape(Clock::time_point deadline) const {
  std::string text;
  const size_t last_size = last_size_.load(std::memory_order_relaxed);
  text.reserve(last_size + last_size / 8 + 4096);
  MetricWriter out(text);
  ScrapeContext context(inventory_, deadline);
  std::vector<Outcome> outcomes;
  outcomes.reserve(collectors_.size());
  for (const NamedCollector& named : collectors_) {
    outcomes.push_back(run(named, context, out));
  }
  write_scrape_families(outcomes, out);
  last_size_.store(text.size(), std::memory_order_relaxed);
  return text;
}

Scraper::Outcome Scraper::run(const NamedCollector& named, ScrapeContext& context,
                              MetricWriter& out) const {
  const MetricWriter::Mark before = out.mark();
  const auto start = std::chrono::steady_clock::now();
  Status status;
  try {
    status = named.collector->collect(context, out);
  } catch (const std::exception& e) {
    status = Error{std::string("unexpected exception: ") + e.what()};
  }
  Outcome outcome;
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  outcome.success = status.ok();
  if (status.ok()) {
    failures_.working(named.name);
  } else {
    out.roll_back(before);
    failures_.failing(named.name, status.error().message);
  }
  return outcome;
}

void Scraper::write_scrape_families(const std::vector<Outcome>& outcomes, MetricWriter& out) const {
  FamilySamples success = out.family(kCollectorSuccess);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    success.add({collectors_[i].name}, outcomes[i].success ? 1 : 0);
  }
  FamilySamples duration = out.family(kCollectorDuration);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    duration.add({collectors_[i].name}, outcomes[i].seconds);
  }
  FamilySamples parse_errors = out.family(kParseErrors);
  for (const auto& [target, count] : inventory_.parse_error_counts()) {
    parse_errors.add({target}, static_cast<double>(count));
  }
  FamilySamples device_errors = out.family(kDeviceErrors);
  for (const auto& [reason, count] : inventory_.device_error_counts()) {
    device_errors.add({reason}, static_cast<double>(count));
  }
}

std::vector<Scraper::NamedCollector> make_collectors(
    const std::vector<CollectorDefinition>& definitions, const std::set<std::string>& enabled,
    const CollectorDependencies& shared, const std::map<std::string, std::string>& option_values) {
  std::vector<Scraper::NamedCollector> collectors;
  for (const CollectorDefinition& definition : definitions) {
    if (!enabled.contains(definition.name)) {
      continue;
    }
    CollectorDependencies dependencies = shared;
    dependencies.options.clear();
    for (const CollectorOption& option : definition.options) {
      auto set = option_values.find(definition.name + "." + option.name);
      dependencies.options[option.name] =
          set != option_values.end() ? set->second : option.default_value;
    }
    collectors.push_back({definition.name, definition.make(dependencies)});
  }
  return collectors;
}

}  // namespace thinpool
