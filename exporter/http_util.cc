// The parts of the HTTP layer that are plain functions of their input: the scrape timeout header,
// Accept-Encoding, the landing page and the server's own series.
#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "base/text.h"
#include "exporter/http_server.h"
#include "exposition/metric_writer.h"

namespace thinpool {
namespace {

constexpr std::string_view kReasonLabel[] = {"reason"};
constexpr std::string_view kPhaseLabel[] = {"phase"};
constexpr std::string_view kCodeLabel[] = {"code"};

constexpr Family kOpenConnections{
    "thinpool_http_connections",
    "Connections open to the exporter's HTTP server now (--web.max-connections caps them).",
    MetricType::Gauge,
    {}};
constexpr Family kRefused{"thinpool_http_connections_refused_total",
                          "Connections closed on arrival: reason limit or per_ip_limit (every open "
                          "connection had a complete request), client_san (a client certificate "
                          "without an allowed name).",
                          MetricType::Counter, kReasonLabel};
constexpr Family kEvicted{"thinpool_http_connections_evicted_total",
                          "Connections without a complete request closed to make room for a new "
                          "one, by the cap reached: limit (--web.max-connections) or per_ip_limit "
                          "(--web.max-connections-per-ip).",
                          MetricType::Counter, kReasonLabel};
constexpr Family kTimedOut{"thinpool_http_connections_timed_out_total",
                           "Connections closed at their deadline (--web.request-timeout), by what "
                           "they were doing: tls_handshake, idle (no request begun), request (a "
                           "request begun, answered 408), response (not read in time).",
                           MetricType::Counter, kPhaseLabel};
constexpr Family kResponses{"thinpool_http_responses_total",
                            "Responses the HTTP server sent, by status code (503: more than "
                            "--web.max-requests requests at once).",
                            MetricType::Counter, kCodeLabel};

}  // namespace

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
<li><a href="/runbook">Runbook</a>: what to do about each alert</li>
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

std::string http_series(const HttpCounters& counters) {
  std::string text;
  MetricWriter writer(text);
  writer.family(kOpenConnections).add({}, static_cast<double>(counters.open_connections));
  for (const auto& [family, values] :
       {std::pair{&kRefused, &counters.refused}, std::pair{&kEvicted, &counters.evicted},
        std::pair{&kTimedOut, &counters.timed_out}}) {
    if (values->empty()) {
      continue;
    }
    FamilySamples samples = writer.family(*family);
    for (const auto& [reason, count] : *values) {
      samples.add({reason}, static_cast<double>(count));
    }
  }
  if (!counters.responses.empty()) {
    FamilySamples samples = writer.family(kResponses);
    for (const auto& [code, count] : counters.responses) {
      samples.add({std::to_string(code)}, static_cast<double>(count));
    }
  }
  return text;
}

}  // namespace thinpool
