#include "exporter/exporter.h"

#include <fmt/format.h>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include "collectors/collector.h"
#include "collectors/fake_device_mapper.h"
#include "collectors/libdevmapper_client.h"
#include "exporter/flags.h"
#include "exporter/http_server.h"
#include "exporter/logging.h"
#include "exporter/privileges.h"
#include "exporter/process_metrics.h"
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

}  // namespace

int run_exporter(int argc, const char* const* argv) {
  const auto& definitions = collector_definitions();
  FlagsResult flags = parse_flags(argc, argv, definitions);
  if (flags.exit) {
    std::fputs(flags.output.c_str(), flags.exit_code == 0 ? stdout : stderr);
    return flags.exit_code;
  }
  const Options& options = flags.options;
  if (Status logging = setup_logging(options.log_level, options.log_format); !logging) {
    std::fprintf(stderr, "thinpool_exporter: %s\n", logging.error().message.c_str());
    return 2;
  }

  // One malloc arena for the process: glibc gives every civetweb worker that serves a scrape an
  // arena of its own and keeps freed memory there, so the workers ended up holding one scrape's
  // worth each (10,000 volumes, 40 scrapes: 120 MB resident instead of 36 MB; BENCHMARKS.md).
  mallopt(M_ARENA_MAX, 1);

  // Block the shutdown signals before any thread starts, so that only sigwait() sees them.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGINT);
  sigaddset(&shutdown_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

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

  InventoryReader inventory(*device_mapper);
  CollectorDependencies dependencies{&inventory, device_mapper.get(), options.lvm_backup_dir, {}};
  if (!options.fixtures_dir.empty()) {
    dependencies.open_block_device =
        [](DeviceNumber dev) -> Expected<std::unique_ptr<lvm::BlockReader>> {
      return Error{"--devmapper.fixtures: physical volume " + to_string(dev) +
                   " is not opened in fixture runs; LVM backups only"};
    };
  }
  std::vector<Scraper::NamedCollector> enabled;
  std::vector<std::pair<std::string, bool>> collector_states;
  for (const CollectorDefinition& definition : definitions) {
    bool on = options.collectors.at(definition.name);
    collector_states.emplace_back(definition.name, on);
    if (on) {
      enabled.push_back({definition.name, definition.make(dependencies)});
    }
    spdlog::info("collector {}: {}", definition.name, on ? "enabled" : "disabled");
  }

  std::vector<std::shared_ptr<prometheus::Collectable>> collectables = {
      std::make_shared<Scraper>(inventory, std::move(enabled)),
      std::make_shared<BuildInfoCollector>(libdevmapper_library_version()),
      std::make_shared<ProcessCollector>(),
  };
  if (Status restricted = apply_security_flags(options); !restricted) {
    spdlog::error("{}", restricted.error().message);
    return 1;
  }
  HttpConfig http;
  http.max_connections = options.max_connections;
  http.web_config = web_config;
  http.listen_address = options.listen_address;
  http.telemetry_path = options.telemetry_path;
  http.max_requests = options.max_requests;
  http.request_timeout_ms = options.request_timeout_ms;
  http.landing_page_html = landing_page(version_text(), options.telemetry_path, collector_states);
  auto server = HttpServer::start(http, collectables);
  if (!server) {
    spdlog::error("{}", server.error().message);
    return 1;
  }
  std::string ports;
  for (int port : (*server)->ports()) {
    // Appended piece by piece: `"," + std::to_string(port)` makes g++ 12 at -O3 report a false
    // -Wrestrict in the inlined string insert.
    if (!ports.empty()) {
      ports += ',';
    }
    ports += std::to_string(port);
  }
  spdlog::info("listening on {} (port {}), metrics at {}", options.listen_address, ports,
               options.telemetry_path);

  int received = 0;
  sigwait(&shutdown_signals, &received);
  spdlog::info("received {}, shutting down", received == SIGINT ? "SIGINT" : "SIGTERM");
  server->reset();
  return 0;
}

}  // namespace thinpool
