#include "exporter/http_server.h"

#include <CivetServer.h>
#include <fmt/format.h>
#include <libdeflate.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <mutex>

#include "exporter/flags.h"

namespace thinpool {
namespace {

constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

void send(mg_connection* conn, int status, std::string_view content_type, std::string_view body,
          std::string_view content_encoding = {}) {
  mg_response_header_start(conn, status);
  mg_response_header_add(conn, "Content-Type", content_type.data(),
                         static_cast<int>(content_type.size()));
  std::string length = std::to_string(body.size());
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  if (!content_encoding.empty()) {
    mg_response_header_add(conn, "Content-Encoding", content_encoding.data(),
                           static_cast<int>(content_encoding.size()));
  }
  mg_response_header_add(conn, "Vary", "Accept-Encoding", -1);
  mg_response_header_send(conn);
  const mg_request_info* request = mg_get_request_info(conn);
  if (request == nullptr || std::string_view(request->request_method) != "HEAD") {
    mg_write(conn, body.data(), body.size());
  }
}

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// civetweb reports bind failures only through its log callback; keep the first message (the
// root cause, e.g. "cannot bind to 127.0.0.1:9966: 98 (Address already in use)") so the start-up
// error can say why.
std::mutex g_civetweb_log_mutex;
std::string g_civetweb_last_log;

int capture_civetweb_log(const mg_connection* /*conn*/, const char* message) {
  std::lock_guard lock(g_civetweb_log_mutex);
  if (g_civetweb_last_log.empty()) {
    g_civetweb_last_log = message;
  }
  spdlog::debug("civetweb: {}", message);
  return 1;  // handled: civetweb does not print it
}

// The TLS settings for the server being started: civetweb calls init_ssl synchronously from
// mg_start() on the starting thread.
thread_local const TlsServerConfig* t_starting_tls = nullptr;

int init_tls(void* ssl_ctx, void* /*user_data*/) {
  if (t_starting_tls == nullptr) {
    return -1;
  }
  Status status = configure_tls_context(ssl_ctx, *t_starting_tls);
  if (!status) {
    spdlog::error("{}", status.error().message);
    return -1;
  }
  return 1;  // the context is complete: civetweb must not load certificates itself
}

}  // namespace

struct HttpServer::Handlers {
  // basic_auth_users from --web.config.file, checked before every page.
  class BasicAuth : public CivetAuthHandler {
   public:
    explicit BasicAuth(std::map<std::string, std::string> users)
        : authenticator_(std::move(users)) {}
    bool authorize(CivetServer* /*server*/, mg_connection* conn) override {
      if (authenticator_.authorize(mg_get_header(conn, "Authorization"))) {
        return true;
      }
      mg_response_header_start(conn, 401);
      mg_response_header_add(conn, "WWW-Authenticate", "Basic realm=\"thinpool_exporter\"", -1);
      mg_response_header_add(conn, "Content-Type", "text/plain; charset=utf-8", -1);
      mg_response_header_add(conn, "Content-Length", "13", -1);
      mg_response_header_send(conn);
      mg_write(conn, "Unauthorized\n", 13);
      return false;
    }

   private:
    BasicAuthenticator authenticator_;
  };

  class Metrics : public CivetHandler {
   public:
    explicit Metrics(RenderMetrics render) : render_(std::move(render)) {}
    bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
      try {
        ScrapeRequest request;
        if (const char* timeout = mg_get_header(conn, "X-Prometheus-Scrape-Timeout-Seconds")) {
          request.timeout_seconds = parse_scrape_timeout(timeout);
        }
        std::string body = render_(request);
        const char* accept = mg_get_header(conn, "Accept-Encoding");
        if (accept != nullptr && accepts_gzip(accept)) {
          if (auto compressed = gzip_compress(body)) {
            send(conn, 200, kExpositionContentType, *compressed, "gzip");
            return true;
          }
        }
        send(conn, 200, kExpositionContentType, body);
      } catch (const std::exception& e) {
        spdlog::error("serving metrics failed: {}", e.what());
        send(conn, 500, "text/plain; charset=utf-8", "internal error while collecting metrics\n");
      }
      return true;
    }
    bool handleHead(CivetServer* server, mg_connection* conn) override {
      return handleGet(server, conn);
    }

   private:
    RenderMetrics render_;
  };

  // Everything that is not the telemetry path: /, /-/healthy, and 404s.
  class Pages : public CivetHandler {
   public:
    Pages(std::string landing_html, std::string telemetry_path)
        : landing_html_(std::move(landing_html)), telemetry_path_(std::move(telemetry_path)) {}
    bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
      const mg_request_info* request = mg_get_request_info(conn);
      std::string_view uri = request != nullptr && request->local_uri != nullptr
                                 ? std::string_view(request->local_uri)
                                 : std::string_view();
      if (uri == "/") {
        send(conn, 200, "text/html; charset=utf-8", landing_html_);
      } else if (uri == "/-/healthy" || uri == "/-/ready") {
        send(conn, 200, "text/plain; charset=utf-8", "OK\n");
      } else {
        send(conn, 404, "text/plain; charset=utf-8",
             fmt::format("404 page not found; metrics are at {}\n", telemetry_path_));
      }
      return true;
    }
    bool handleHead(CivetServer* server, mg_connection* conn) override {
      return handleGet(server, conn);
    }

   private:
    std::string landing_html_;
    std::string telemetry_path_;
  };

  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<Pages> pages;
  std::unique_ptr<BasicAuth> auth;
};

Expected<std::unique_ptr<HttpServer>> HttpServer::start(const HttpConfig& config,
                                                        RenderMetrics render_metrics) {
  auto listen = to_civetweb_listen(config.listen_address);
  if (!listen) {
    return listen.error();
  }
  const TlsServerConfig* tls =
      config.web_config && config.web_config->tls ? &*config.web_config->tls : nullptr;
  // Accepted connections waiting for a worker; with the workers, the connection limit.
  int queue = std::max(1, config.max_connections - config.max_requests);
  std::vector<std::string> options = {
      "listening_ports",       *listen + (tls != nullptr ? "s" : ""),
      "num_threads",           std::to_string(config.max_requests),
      "request_timeout_ms",    std::to_string(config.request_timeout_ms),
      "enable_keep_alive",     "yes",
      "keep_alive_timeout_ms", std::to_string(config.request_timeout_ms),
      "connection_queue",      std::to_string(queue),
  };
  CivetCallbacks callbacks;
  callbacks.log_message = capture_civetweb_log;
  callbacks.init_ssl = init_tls;
  std::unique_ptr<HttpServer> server(new HttpServer());
  {
    std::lock_guard lock(g_civetweb_log_mutex);
    g_civetweb_last_log.clear();
  }
  try {
    t_starting_tls = tls;
    server->server_ = std::make_unique<CivetServer>(options, &callbacks);
    t_starting_tls = nullptr;
  } catch (const CivetException& e) {
    t_starting_tls = nullptr;
    std::lock_guard lock(g_civetweb_log_mutex);
    std::string reason = g_civetweb_last_log.empty() ? e.what() : g_civetweb_last_log;
    return Error{fmt::format("cannot listen on {}: {}", config.listen_address, reason)};
  }
  server->handlers_ = std::make_unique<Handlers>();
  if (config.web_config && !config.web_config->basic_auth_users.empty()) {
    // Before the page handlers, so that no request is ever served unauthenticated.
    server->handlers_->auth =
        std::make_unique<Handlers::BasicAuth>(config.web_config->basic_auth_users);
    server->server_->addAuthHandler("/", server->handlers_->auth.get());
  }
  server->handlers_->metrics = std::make_unique<Handlers::Metrics>(std::move(render_metrics));
  server->handlers_->pages =
      std::make_unique<Handlers::Pages>(config.landing_page_html, config.telemetry_path);
  // civetweb matches handler URIs as prefixes and prefers the longest, so the telemetry path
  // wins over "/"; "$" makes it exact.
  server->server_->addHandler(config.telemetry_path + "$", server->handlers_->metrics.get());
  server->server_->addHandler("/", server->handlers_->pages.get());
  return server;
}

HttpServer::~HttpServer() {
  if (server_) {
    server_->close();
  }
}

std::vector<int> HttpServer::ports() const {
  return server_->getListeningPorts();
}

std::optional<double> parse_scrape_timeout(std::string_view header) {
  while (!header.empty() && header.front() == ' ') {
    header.remove_prefix(1);
  }
  while (!header.empty() && header.back() == ' ') {
    header.remove_suffix(1);
  }
  double seconds = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  if (header.empty() || ec != std::errc() || end != header.data() + header.size() ||
      !std::isfinite(seconds) || seconds <= 0) {
    return std::nullopt;
  }
  return seconds;
}

bool accepts_gzip(std::string_view accept_encoding) {
  size_t pos = 0;
  while (pos <= accept_encoding.size()) {
    size_t comma = accept_encoding.find(',', pos);
    std::string_view item = accept_encoding.substr(
        pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? accept_encoding.size() + 1 : comma + 1;
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    size_t semicolon = item.find(';');
    std::string_view coding = item.substr(0, semicolon);
    while (!coding.empty() && coding.back() == ' ') {
      coding.remove_suffix(1);
    }
    if (coding != "gzip" && coding != "*") {
      continue;
    }
    if (semicolon != std::string_view::npos) {
      std::string_view params = item.substr(semicolon + 1);
      auto q = params.find("q=");
      if (q != std::string_view::npos) {
        std::string_view value = params.substr(q + 2);
        if (value.starts_with("0") && value.find_first_not_of("0. ") == std::string_view::npos) {
          return false;  // q=0 forbids it
        }
      }
    }
    return true;
  }
  return false;
}

Expected<std::string> gzip_compress(std::string_view data) {
  // libdeflate, level 1: the exposition text is so repetitive that it still shrinks about 6x, in
  // half the instructions of zlib's level 1 (which was 69% of a gzip'd 10,000-volume scrape; see
  // BENCHMARKS.md). A compressor per call: one per civetweb worker would keep its tables (200 KiB)
  // in every thread that ever served a scrape.
  constexpr int kLevel = 1;
  std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> compressor(
      libdeflate_alloc_compressor(kLevel), libdeflate_free_compressor);
  if (compressor == nullptr) {
    return Error{"gzip: cannot allocate a compressor"};
  }
  // libdeflate compresses whole buffers only, so the text is complete before this starts. The
  // output goes to an uninitialized buffer, of which only the written pages become resident, and
  // is sized for what exposition text compresses to (about a sixth), not for the worst case
  // (libdeflate_gzip_compress_bound(): more than the input). A body that does not fit (random
  // bytes) is compressed again into the bound.
  size_t capacity = data.size() / 4 + 1024;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<char[]> buffer(new char[capacity]);
    const size_t written = libdeflate_gzip_compress(compressor.get(), data.data(), data.size(),
                                                    buffer.get(), capacity);
    if (written != 0) {
      compressor.reset();
      return std::string(buffer.get(), written);
    }
    capacity = libdeflate_gzip_compress_bound(compressor.get(), data.size());
  }
  return Error{fmt::format("gzip: {} bytes do not fit the compressed bound", data.size())};
}

std::string landing_page(std::string_view version, std::string_view telemetry_path,
                         const std::vector<std::pair<std::string, bool>>& collectors) {
  std::string rows;
  for (const auto& [name, enabled] : collectors) {
    rows += fmt::format("<li><code>{}</code>: {}</li>\n", html_escape(name),
                        enabled ? "enabled" : "disabled");
  }
  return fmt::format(R"(<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>thinpool_exporter</title></head>
<body>
<h1>thinpool_exporter</h1>
<p>Prometheus exporter for Linux device-mapper thin pools. {}</p>
<ul>
<li><a href="{}">Metrics</a></li>
<li><a href="/-/healthy">Health</a></li>
</ul>
<h2>Collectors</h2>
<ul>
{}</ul>
</body>
</html>
)",
                     html_escape(version), html_escape(telemetry_path), rows);
}

}  // namespace thinpool
