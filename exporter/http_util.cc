// The parts of the HTTP layer that are plain functions of their input: the scrape timeout header,
// Accept-Encoding, gzip, the landing page and the server's own series.
#include <fmt/format.h>
#include <libdeflate.h>

#include <charconv>
#include <cmath>
#include <memory>

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

namespace {

struct CompressedBytes {
  std::unique_ptr<char[]> bytes;
  size_t size = 0;
};

Expected<CompressedBytes> gzip_bytes(std::string_view data) {
  // libdeflate, level 1: the exposition text is so repetitive that it still shrinks about 6x, in
  // half the instructions of zlib's level 1 (which was 69% of a gzip'd 10,000-volume scrape; see
  // BENCHMARKS.md). A compressor per call: one per worker thread would keep its tables (200 KiB)
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
      return CompressedBytes{std::move(buffer), written};
    }
    capacity = libdeflate_gzip_compress_bound(compressor.get(), data.size());
  }
  return Error{fmt::format("gzip: {} bytes do not fit the compressed bound", data.size())};
}

}  // namespace

Expected<std::string> gzip_compress(std::string_view data) {
  Expected<CompressedBytes> compressed = gzip_bytes(data);
  if (!compressed) {
    return compressed.error();
  }
  return std::string(compressed->bytes.get(), compressed->size);
}

Status gzip_in_place(std::string& text) {
  Expected<CompressedBytes> compressed = gzip_bytes(text);
  if (!compressed) {
    return compressed.error();
  }
  std::string().swap(text);  // given back before the compressed copy is made
  text.assign(compressed->bytes.get(), compressed->size);
  return {};
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
