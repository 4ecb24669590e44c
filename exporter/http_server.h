// The HTTP side: /metrics (the telemetry path), a landing page at / and /-/healthy, served by
// civetweb. prometheus-cpp's Exposer keeps its server private and serves only the metrics path,
// so the exporter runs its own CivetServer and serializes with collectors/exposition_writer.h
// (prometheus::TextSerializer's output, faster).
#pragma once

#include <prometheus/collectable.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "exporter/web_config.h"

class CivetServer;

namespace thinpool {

struct HttpConfig {
  std::string listen_address = ":9966";  // as given on the command line
  std::string telemetry_path = "/metrics";
  int max_requests = 40;
  int request_timeout_ms = 30000;
  int max_connections = 100;  // served (max_requests) plus waiting for a worker
  std::string landing_page_html;
  // TLS and basic auth from --web.config.file; nullptr: plain HTTP without authentication.
  std::shared_ptr<const WebConfig> web_config;
};

class HttpServer {
 public:
  // Binds and starts serving; fails with a one-line reason (e.g. the port is in use).
  static Expected<std::unique_ptr<HttpServer>> start(
      const HttpConfig& config, std::vector<std::shared_ptr<prometheus::Collectable>> collectables);
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

// The text exposition of every collectable; one that throws is skipped and logged.
std::string render_metrics(
    const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables);

// True when an Accept-Encoding header value allows gzip ("gzip", "gzip;q=1", "*"; not "gzip;q=0").
bool accepts_gzip(std::string_view accept_encoding);

// gzip (RFC 1952) of `data`.
Expected<std::string> gzip_compress(std::string_view data);

// The landing page at /.
std::string landing_page(std::string_view version, std::string_view telemetry_path,
                         const std::vector<std::pair<std::string, bool>>& collectors);

}  // namespace thinpool
