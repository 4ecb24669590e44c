// The HTTP side: /metrics (the telemetry path), a landing page at /, the runbook at /runbook and
// /-/healthy, over HTTP/1.1 with optional TLS and basic auth (--web.config.file), built on
// Boost.Asio and Beast (docs/http-layer.md says why). No client can starve another: one event
// thread reads every connection (epoll) until its request is complete, under a deadline per
// connection; only a complete request reaches a worker, which renders the body and hands it back
// to the event thread to write. The open connections are capped in total and per client address;
// at a cap the oldest connection without a complete request is closed to make room for the
// newcomer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "exporter/flags.h"
#include "exporter/web_config.h"
#include "exposition/metric_writer.h"

namespace thinpool {

// What a scrape request asks for, as far as the HTTP layer can tell.
struct ScrapeRequest {
  // Prometheus's X-Prometheus-Scrape-Timeout-Seconds: when it gives up on this scrape. Absent when
  // the client did not send it (or sent something that is not a positive number).
  std::optional<double> timeout_seconds;
};

// The exposition text of one scrape, handed to `sink` in pieces of about `piece_size` bytes as it
// is written (Scraper::scrape; SIZE_MAX: once, whole); false when it ended incomplete.
using RenderMetrics =
    std::function<bool(const ScrapeRequest& request, size_t piece_size, const TextSink& sink)>;

// The seconds in an X-Prometheus-Scrape-Timeout-Seconds value ("10", "9.5"); nullopt for anything
// that is not a positive, finite number.
std::optional<double> parse_scrape_timeout(std::string_view header);

// Filled from the flags (exporter/flags.h holds the defaults).
struct HttpConfig {
  std::vector<ListenAddress> listen;  // one socket each; unused with systemd_socket
  bool systemd_socket = false;        // the sockets systemd passes (LISTEN_FDS) instead
  std::string telemetry_path;
  int max_requests = 0;        // requests being handled by workers at once; more get a 503
  int request_timeout_ms = 0;  // to send a request (TLS handshake included), and to read a reply
  int max_connections = 0;     // open connections in total
  int max_connections_per_ip = 0;
  std::string landing_page_html;
  // TLS and basic auth from --web.config.file; nullptr: plain HTTP without authentication.
  std::shared_ptr<const WebConfig> web_config;
  std::string web_config_file;  // read again when it, or a file it names, changes
};

// What the server has done since it started; also written into every /metrics body as the
// thinpool_http_* series.
struct HttpCounters {
  int64_t open_connections = 0;
  std::map<std::string, int64_t> refused;    // reason -> connections closed on arrival
  std::map<std::string, int64_t> evicted;    // reason -> connections closed to make room
  std::map<std::string, int64_t> timed_out;  // phase -> connections closed at their deadline
  std::map<int, int64_t> responses;          // HTTP status -> responses sent
};

class HttpServer {
 public:
  // Binds and starts serving; fails with a one-line reason (e.g. the port is in use).
  static Expected<std::unique_ptr<HttpServer>> start(const HttpConfig& config,
                                                     RenderMetrics render_metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The TCP ports actually bound (useful with port 0 in tests), one per listening socket.
  std::vector<int> ports() const;
  // "127.0.0.1:9966", "[::1]:9966": every listening socket's address, in the order of ports().
  std::vector<std::string> bound_addresses() const;
  HttpCounters counters() const;

  struct State;  // exporter/http_internal.h

 private:
  HttpServer() = default;
  std::shared_ptr<State> state_;
};

// True when an Accept-Encoding header value allows gzip ("gzip", "gzip;q=1", "*"; not "gzip;q=0").
bool accepts_gzip(std::string_view accept_encoding);

// The landing page at /.
std::string landing_page(std::string_view version, std::string_view telemetry_path,
                         const std::vector<std::pair<std::string, bool>>& collectors);

// The page at /runbook: docs/runbook.md as the binary was built with it, in HTML, every heading
// with its GitHub anchor (#<alert name in lower case> for an alert's section). Defined in a file
// that exporter/runbook_page/make_runbook_page.cc generates at build time.
std::string_view runbook_page();

// The thinpool_http_* series of `counters`, in the exposition text format.
std::string http_series(const HttpCounters& counters);

}  // namespace thinpool
