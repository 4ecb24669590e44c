#include "exporter/logging.h"

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

namespace thinpool {
namespace {

void append_escaped(std::string& out, std::string_view text, bool json) {
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          out += json ? fmt::format("\\u{:04x}", c) : fmt::format("\\x{:02x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
}

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    default:
      return "error";
  }
}

class LineFormatter : public spdlog::formatter {
 public:
  explicit LineFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto since_epoch = msg.time.time_since_epoch();
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds);
    std::time_t t = seconds.count();
    std::tm utc{};
    gmtime_r(&t, &utc);
    std::string timestamp = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                                        utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                                        utc.tm_hour, utc.tm_min, utc.tm_sec, millis.count());
    std::string line = format_log_line(format_, timestamp, level_name(msg.level),
                                       std::string_view(msg.payload.data(), msg.payload.size()));
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(format_);
  }

 private:
  LogFormat format_;
};

}  // namespace

std::string format_log_line(LogFormat format, std::string_view timestamp, std::string_view level,
                            std::string_view message) {
  std::string line;
  if (format == LogFormat::kJson) {
    line = fmt::format(R"({{"ts":"{}","level":"{}","msg":")", timestamp, level);
    append_escaped(line, message, true);
    line += "\"}";
  } else {
    line = fmt::format("ts={} level={} msg=\"", timestamp, level);
    append_escaped(line, message, false);
    line += "\"";
  }
  return line;
}

Status setup_logging(std::string_view level, std::string_view format) {
  spdlog::level::level_enum spd_level;
  if (level == "debug") {
    spd_level = spdlog::level::debug;
  } else if (level == "info") {
    spd_level = spdlog::level::info;
  } else if (level == "warn") {
    spd_level = spdlog::level::warn;
  } else if (level == "error") {
    spd_level = spdlog::level::err;
  } else {
    return Error{fmt::format("--log.level \"{}\" is not one of debug, info, warn, error", level)};
  }
  LogFormat log_format;
  if (format == "logfmt") {
    log_format = LogFormat::kLogfmt;
  } else if (format == "json") {
    log_format = LogFormat::kJson;
  } else {
    return Error{fmt::format("--log.format \"{}\" is not one of logfmt, json", format)};
  }
  auto logger = std::make_shared<spdlog::logger>("thinpool_exporter",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_formatter(std::make_unique<LineFormatter>(log_format));
  logger->set_level(spd_level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return {};
}

}  // namespace thinpool
