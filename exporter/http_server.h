// The HTTP side: /metrics (the telemetry path), a landing page at / and /-/healthy, served by
// civetweb. prometheus-cpp's Exposer keeps its server private and serves only the metrics path,
// so the exporter runs its own CivetServer; the metrics text comes from a function the exporter
// hands in (the Scraper's).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "exporter/web_config.h"

class CivetServer;

namespace thinpool {

// What a scrape request asks for, as far as the HTTP layer can tell.
struct ScrapeRequest {
  // Prometheus's X-Prometheus-Scrape-Timeout-Seconds: when it gives up on this scrape. Absent when
  // the client did not send it (or sent something that is not a positive number).
  std::optional<double> timeout_seconds;
};

// The exposition text of one scrape.
using RenderMetrics = std::function<std::string(const ScrapeRequest& request)>;

// The seconds in an X-Prometheus-Scrape-Timeout-Seconds value ("10", "9.5"); nullopt for anything
// that is not a positive, finite number.
std::optional<double> parse_scrape_timeout(std::string_view header);

// Filled from the flags (exporter/flags.h holds the defaults).
struct HttpConfig {
  std::string listen_address;  // as given on the command line
  std::string telemetry_path;
  int max_requests = 0;
  int request_timeout_ms = 0;
  int max_connections = 0;  // served (max_requests) plus waiting for a worker
  std::string landing_page_html;
  // TLS and basic auth from --web.config.file; nullptr: plain HTTP without authentication.
  std::shared_ptr<const WebConfig> web_config;
};

class HttpServer {
 public:
  // Binds and starts serving; fails with a one-line reason (e.g. the port is in use).
  static Expected<std::unique_ptr<HttpServer>> start(const HttpConfig& config,
                                                     RenderMetrics render_metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The TCP ports actually bound (useful with port 0 in tests).
  std::vector<int> ports() const;

 private:
  struct Handlers;
  HttpServer() = default;
  std::unique_ptr<Handlers> handlers_;
  std::unique_ptr<CivetServer> server_;
};

// True when an Accept-Encoding header value allows gzip ("gzip", "gzip;q=1", "*"; not "gzip;q=0").
bool accepts_gzip(std::string_view accept_encoding);

// gzip (RFC 1952) of `data`.
Expected<std::string> gzip_compress(std::string_view data);

// The landing page at /.
std::string landing_page(std::string_view version, std::string_view telemetry_path,
                         const std::vector<std::pair<std::string, bool>>& collectors);

}  // namespace thinpool
