#include "collectors/scraper.h"

#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <variant>

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
  run(deadline, text, SIZE_MAX, nullptr);
  return text;
}

bool Scraper::scrape(Clock::time_point deadline, size_t piece_size, const TextSink& sink) const {
  std::string text;
  return run(deadline, text, piece_size, &sink);
}

bool Scraper::run(Clock::time_point deadline, std::string& text, size_t piece_size,
                  const TextSink* sink) const {
  ScrapeContext context(inventory_, deadline);
  // The first phase: every collector's reads, before any text is written (collector.h).
  std::vector<Prepared> prepared;
  prepared.reserve(collectors_.size());
  for (const NamedCollector& named : collectors_) {
    prepared.push_back(read(named, context));
  }
  const size_t devices = device_count(context);
  const size_t whole = expected_size(devices);
  // In pieces: room for one (MetricWriter keeps it so).
  text.reserve(sink != nullptr && piece_size < whole ? piece_size + piece_size / 4 : whole);
  MetricWriter out(text, piece_size, sink != nullptr ? *sink : TextSink{});
  std::vector<Outcome> outcomes;
  outcomes.reserve(collectors_.size());
  for (size_t i = 0; i < collectors_.size(); ++i) {
    outcomes.push_back(write(collectors_[i], prepared[i], context, out));
    prepared[i].writer = Status{};  // what it read is not needed any more
    if (outcomes.back().cut) {
      return false;
    }
  }
  write_scrape_families(outcomes, out);
  out.flush();
  std::lock_guard lock(last_mutex_);
  last_size_ = out.size();
  last_devices_ = devices;
  return true;
}

size_t Scraper::device_count(const ScrapeContext& context) {
  const Expected<InventoryRef>* inventory = context.inventory_if_read();
  if (inventory == nullptr || !inventory->ok()) {
    return 0;
  }
  return (**inventory)->pools.size() + (**inventory)->volumes.size();
}

size_t Scraper::expected_size(size_t devices) const {
  std::lock_guard lock(last_mutex_);
  return expected_text_size(last_size_, last_devices_, devices);
}

size_t expected_text_size(size_t last_size, size_t last_devices, size_t devices) {
  // The first scrape of a process: 1 KiB per device, more than a thin volume's series take with
  // its LV's (783 bytes at 10,000 volumes on a real kernel: 7,834 kB). Room never written to is
  // never made resident; a text that outgrows its room is copied into room twice the size, the
  // old beside the new (12 MiB at once for 8 MB of text).
  constexpr size_t kFirstBytesPerDevice = 1024;
  if (last_size == 0 && last_devices == 0) {
    return devices * kFirstBytesPerDevice + 4096;
  }
  size_t size = last_size;
  if (devices > last_devices && last_devices > 0) {
    // More devices than last time: about as many bytes per device (the series of a device and
    // of its LV in LVM's metadata), so that the text does not grow by doubling, a copy of all
    // written so far beside the next room each time.
    size = static_cast<size_t>(static_cast<double>(last_size) * static_cast<double>(devices) /
                               static_cast<double>(last_devices));
  }
  return size + size / 8 + 4096;
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Scraper::Prepared Scraper::read(const NamedCollector& named, ScrapeContext& context) const {
  const auto start = std::chrono::steady_clock::now();
  Prepared prepared;
  try {
    Expected<Collector::Writer> writer = named.collector->read(context);
    if (writer.ok()) {
      prepared.writer = std::move(*writer);
    } else {
      prepared.writer = writer.error();
    }
  } catch (const std::exception& e) {
    prepared.writer = Error{std::string("unexpected exception: ") + e.what()};
  }
  prepared.seconds = seconds_since(start);
  return prepared;
}

Scraper::Outcome Scraper::write(const NamedCollector& named, const Prepared& prepared,
                                ScrapeContext& context, MetricWriter& out) const {
  const MetricWriter::Mark before = out.mark();
  const auto start = std::chrono::steady_clock::now();
  const auto sink_time = out.sink_time();
  Status status;
  try {
    if (const auto* failed = std::get_if<Status>(&prepared.writer)) {
      status = *failed;
    } else if (const auto& writer = std::get<Collector::Writer>(prepared.writer)) {
      status = writer(out);
    } else {
      status = named.collector->collect(context, out);
    }
  } catch (const std::exception& e) {
    status = Error{std::string("unexpected exception: ") + e.what()};
  }
  Outcome outcome;
  // The collector's own time: not what the text's sink took for its pieces (the HTTP layer's
  // gzip, and its wait for a client that reads slowly).
  outcome.seconds = prepared.seconds + seconds_since(start) -
                    std::chrono::duration<double>(out.sink_time() - sink_time).count();
  outcome.success = status.ok();
  if (status.ok()) {
    failures_.working(named.name);
  } else {
    outcome.cut = !out.roll_back(before);
    failures_.failing(named.name, outcome.cut ? status.error().message +
                                                    " (after part of its series were sent: the "
                                                    "scrape's body ends incomplete)"
                                              : status.error().message);
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
