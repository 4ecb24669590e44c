// A scrape's text for the HTTP server's tests: RenderMetrics from a function that makes the whole
// text, handed over in pieces of the size the server asks for, as Scraper::scrape hands them.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <utility>

#include "exporter/http_server.h"

namespace thinpool {

inline RenderMetrics render_text(std::function<std::string(const ScrapeRequest&)> make) {
  return [make = std::move(make)](const ScrapeRequest& request, size_t piece_size,
                                  const TextSink& sink) {
    const std::string text = make(request);
    for (size_t at = 0; at < text.size();) {
      const size_t size = std::min(piece_size, text.size() - at);
      std::string piece = text.substr(at, size);
      sink(piece);
      at += size;
    }
    return true;
  };
}

}  // namespace thinpool
