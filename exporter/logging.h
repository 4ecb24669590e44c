// Log setup: one line per event on stderr, as logfmt or JSON, like other Prometheus exporters.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace thinpool {

enum class LogFormat { kLogfmt, kJson };

// Installs the default spdlog logger: stderr, the given level ("debug", "info", "warn",
// "error") and format. Fails on an unknown level or format.
Status setup_logging(std::string_view level, std::string_view format);

// One formatted line without the trailing newline, e.g.
//   ts=2026-11-24T00:25:47.123Z level=info msg="listening on :9966"
//   {"ts":"2026-11-24T00:25:47.123Z","level":"info","msg":"listening on :9966"}
std::string format_log_line(LogFormat format, std::string_view timestamp, std::string_view level,
                            std::string_view message);

}  // namespace thinpool
