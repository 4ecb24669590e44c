#include "exporter/exporter.h"

#include <fmt/format.h>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>

#include "collectors/registry.h"
#include "collectors/scraper.h"
#include "dm/fake_device_mapper.h"
#include "dm/libdevmapper_client.h"
#include "exporter/flags.h"
#include "exporter/http_server.h"
#include "exporter/logging.h"
#include "exporter/privileges.h"
#include "exporter/version.h"
#include "exporter/web_config.h"

namespace thinpool {
namespace {

std::unique_ptr<DeviceMapper> make_device_mapper(const Options& options, std::string& error) {
  if (options.fixtures_dir.empty()) {
    return std::make_unique<LibDevmapperClient>();
  }
  auto fake = FakeDeviceMapper::from_directory(options.fixtures_dir);
  if (!fake) {
    error = fake.error().message;
    return nullptr;
  }
  return std::make_unique<FakeDeviceMapper>(std::move(*fake));
}

void log_device_mapper_state(DeviceMapper& device_mapper, const Options& options) {
  auto versions = device_mapper.versions();
  if (versions) {
    spdlog::info("device-mapper: driver {}, library {}{}", versions->driver, versions->library,
                 options.fixtures_dir.empty() ? "" : " from " + options.fixtures_dir);
    return;
  }
  spdlog::warn(
      "device-mapper is not available, so no pools will appear: {}. Serving self metrics only; "
      "the collectors report thinpool_scrape_collector_success 0 until it is available",
      versions.error().message);
}

// What every collector may use. Fixture runs never open block devices: the lvm collector reads
// LVM backups only, so that a test never reads the host's disks.
CollectorDependencies make_dependencies(InventoryReader& inventory, const Options& options) {
  CollectorDependencies dependencies;
  dependencies.inventory = &inventory;
  dependencies.build = {THINPOOL_VERSION, THINPOOL_REVISION,
                        fmt::format("g++ {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__),
                        libdevmapper_library_version()};
  if (!options.fixtures_dir.empty()) {
    dependencies.scan_block_devices = false;
    dependencies.open_block_device =
        [](DeviceNumber dev) -> Expected<std::unique_ptr<lvm::BlockReader>> {
      return Error{"--devmapper.fixtures: physical volume " + to_string(dev) +
                   " is not opened in fixture runs; LVM backups only"};
    };
  }
  return dependencies;
}

// Blocks SIGINT and SIGTERM in this thread, before any other starts, so that only sigwait() on
// the returned set sees them.
sigset_t block_shutdown_signals() {
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGINT);
  sigaddset(&shutdown_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return shutdown_signals;
}

// The names of the collectors the flags enable; `states` gets every collector's name and whether
// it is on, for the landing page.
std::set<std::string> enabled_collectors(const std::vector<CollectorDefinition>& definitions,
                                         const Options& options,
                                         std::vector<std::pair<std::string, bool>>& states) {
  std::set<std::string> enabled;
  for (const CollectorDefinition& definition : definitions) {
    const bool on = options.collectors.at(definition.name);
    states.emplace_back(definition.name, on);
    if (on) {
      enabled.insert(definition.name);
    }
    spdlog::info("collector {}: {}", definition.name, on ? "enabled" : "disabled");
  }
  return enabled;
}

HttpConfig make_http_config(const Options& options, std::shared_ptr<const WebConfig> web_config,
                            const std::vector<std::pair<std::string, bool>>& collector_states) {
  HttpConfig http;
  for (const std::string& address : options.listen_addresses) {
    http.listen.push_back(*parse_listen_address(address));  // checked with the flags
  }
  http.systemd_socket = options.systemd_socket;
  http.max_connections = options.max_connections;
  http.max_connections_per_ip = options.max_connections_per_ip;
  http.web_config = std::move(web_config);
  http.web_config_file = options.web_config_file;
  http.telemetry_path = options.telemetry_path;
  http.max_requests = options.max_requests;
  http.request_timeout_ms = options.request_timeout_ms;
  http.landing_page_html = landing_page(version_text(), options.telemetry_path, collector_states);
  return http;
}

// When a scrape must have answered: the client's timeout (or --scrape.timeout when it sends none),
// less --scrape.timeout-offset, from now.
Clock::time_point scrape_deadline(const ScrapeRequest& request, const Options& options) {
  const double timeout = request.timeout_seconds.value_or(options.scrape_timeout_seconds);
  const double budget = std::max(0.0, timeout - options.scrape_timeout_offset_seconds);
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(budget));
}

// Everything after the flags and the logger: sets the process up, serves until SIGINT or
// SIGTERM, and returns the exit code.
int serve(const Options& options, const std::vector<CollectorDefinition>& definitions) {
  // One malloc arena for the process: glibc gives every worker thread that serves a scrape an
  // arena of its own and keeps freed memory there, so the workers ended up holding one scrape's
  // worth each (10,000 volumes, 40 scrapes: 120 MB resident instead of 36 MB; BENCHMARKS.md).
  mallopt(M_ARENA_MAX, 1);

  sigset_t shutdown_signals = block_shutdown_signals();

  spdlog::info("starting {}", version_text());
  std::shared_ptr<const WebConfig> web_config;
  if (!options.web_config_file.empty()) {
    auto loaded = load_web_config(options.web_config_file);
    if (!loaded) {
      spdlog::error("{}", loaded.error().message);
      return 2;
    }
    web_config = std::make_shared<const WebConfig>(std::move(*loaded));
  }
  std::string backend_error;
  std::unique_ptr<DeviceMapper> device_mapper = make_device_mapper(options, backend_error);
  if (!device_mapper) {
    spdlog::error("--devmapper.fixtures: {}", backend_error);
    return 2;
  }
  log_device_mapper_state(*device_mapper, options);

  // One set of threads for every call that can block on a device that stops answering.
  auto threads = std::make_shared<BlockingCallPool>();
  InventoryReader inventory(*device_mapper, threads);
  CollectorDependencies dependencies = make_dependencies(inventory, options);
  dependencies.threads = threads;
  std::vector<std::pair<std::string, bool>> collector_states;
  const Scraper scraper(
      inventory,
      make_collectors(definitions, enabled_collectors(definitions, options, collector_states),
                      dependencies, options.collector_options));
  if (Status restricted = apply_security_flags(options); !restricted) {
    spdlog::error("{}", restricted.error().message);
    return 1;
  }
  auto server = HttpServer::start(
      make_http_config(options, web_config, collector_states),
      [&scraper, &options](const ScrapeRequest& request, size_t piece_size, const TextSink& sink) {
        return scraper.scrape(scrape_deadline(request, options), piece_size, sink);
      });
  if (!server) {
    spdlog::error("{}", server.error().message);
    return 1;
  }
  const std::vector<int> ports = (*server)->ports();
  const std::vector<std::string> bound = (*server)->bound_addresses();
  for (size_t i = 0; i < ports.size(); ++i) {
    const std::string given = options.systemd_socket ? std::string("a socket from systemd")
                              : i < options.listen_addresses.size() ? options.listen_addresses[i]
                                                                    : std::string();
    spdlog::info("listening on {} at {} (port {}), metrics at {}", given, bound.at(i), ports[i],
                 options.telemetry_path);
  }

  int received = 0;
  sigwait(&shutdown_signals, &received);
  spdlog::info("received {}, shutting down", received == SIGINT ? "SIGINT" : "SIGTERM");
  server->reset();
  if (const size_t blocked = threads->busy(); blocked > 0) {
    // Calls blocked in devices that do not answer may return at any time, and would then touch
    // what the exit tears down: leave without tearing down.
    spdlog::info("{} read(s) still blocked in devices that do not answer; exiting without waiting",
                 blocked);
    spdlog::shutdown();
    std::_Exit(0);
  }
  return 0;
}

}  // namespace

int run_exporter(int argc, const char* const* argv) {
  const auto& definitions = registered_collectors();
  FlagsResult flags = parse_flags(argc, argv, definitions);
  if (flags.exit) {
    std::fputs(flags.output.c_str(), flags.exit_code == 0 ? stdout : stderr);
    return flags.exit_code;
  }
  if (Status logging = setup_logging(flags.options.log_level, flags.options.log_format); !logging) {
    std::fprintf(stderr, "thinpool_exporter: %s\n", logging.error().message.c_str());
    return 2;
  }
  return serve(flags.options, definitions);
}

}  // namespace thinpool
