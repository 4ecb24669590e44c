#include "exporter/flags.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <map>
#include <memory>
#include <tuple>

#include "exporter/version.h"

namespace thinpool {
namespace {

// CLI11 writes a negated flag's value after its name ("--no-collector.thin{false}"), which reads
// as if the flag pair defaulted to off. The help text of each pair says its default instead.
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_name(const CLI::Option* option, bool is_positional) const override {
    std::string name = CLI::Formatter::make_option_name(option, is_positional);
    for (size_t brace = name.find('{'); brace != std::string::npos; brace = name.find('{')) {
      const size_t close = name.find('}', brace);
      if (close == std::string::npos) {
        break;
      }
      name.erase(brace, close - brace + 1);
    }
    return name;
  }
};

}  // namespace

std::optional<double> parse_duration_seconds(std::string_view text) {
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || ec != std::errc() || !std::isfinite(number) || number < 0) {
    return std::nullopt;
  }
  const std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  if (unit == "ms") {
    return number / 1000;
  }
  if (unit == "s" || unit.empty()) {
    return number;
  }
  if (unit == "m") {
    return number * 60;
  }
  return std::nullopt;
}

std::string version_text() {
  return fmt::format("thinpool_exporter version {} (revision {}, built with g++ {}.{}.{})",
                     THINPOOL_VERSION, THINPOOL_REVISION, __GNUC__, __GNUC_MINOR__,
                     __GNUC_PATCHLEVEL__);
}

Expected<ListenAddress> parse_listen_address(const std::string& address) {
  auto bad = [&](std::string_view why) {
    return Error{fmt::format("--web.listen-address \"{}\": {}", address, why)};
  };
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return bad("expected [host]:port, e.g. :9966, 127.0.0.1:9966 or [::1]:9966");
  }
  ListenAddress listen{address, address.substr(0, colon), 0};
  std::string_view port = std::string_view(address).substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad("the port must be a number from 0 (any free port) to 65535");
  }
  listen.port = static_cast<uint16_t>(value);
  std::string& host = listen.host;
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return bad("an IPv6 host must be written [addr]");
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find_first_of(":[]") != std::string::npos) {
    return bad("an IPv6 host must be written [addr]");
  }
  return listen;
}

FlagsResult parse_flags(int argc, const char* const* argv,
                        const std::vector<CollectorDefinition>& collectors) {
  FlagsResult result;
  Options& options = result.options;
  CLI::App app{
      "Prometheus exporter for Linux device-mapper thin pools: reads every thin pool and thin "
      "volume from the kernel (libdevmapper, read-only, noflush) on each scrape.",
      "thinpool_exporter"};
  app.option_defaults()->always_capture_default();
  app.formatter(std::make_shared<HelpFormatter>());
  app.set_version_flag("--version", version_text(), "Print the version and exit.");
  app.add_option("--web.listen-address", options.listen_addresses,
                 "Address to listen on for the web interface and telemetry: [host]:port. "
                 "Repeat it to listen on several addresses (IPv4 and IPv6 each on their own "
                 "socket).")
      ->take_all();
  app.add_flag("--web.systemd-socket", options.systemd_socket,
               "Listen on the sockets systemd passes (socket activation, LISTEN_FDS) instead of "
               "--web.listen-address.");
  app.add_option("--web.telemetry-path", options.telemetry_path,
                 "Path under which to expose metrics.");
  app.add_option("--web.max-requests", options.max_requests,
                 "Maximum number of requests handled at once (scrapes rendered by worker "
                 "threads); more are answered 503 at once.")
      ->check(CLI::Range(1, 1000));
  app.add_option("--web.request-timeout", options.request_timeout_ms,
                 "Milliseconds a connection may take to send a complete request (TLS handshake "
                 "included; also its idle time between requests) and to read the response.")
      ->check(CLI::Range(100, 3600000));
  app.add_option("--web.max-connections", options.max_connections,
                 "Maximum number of open connections. At the limit, the oldest connection that "
                 "has not sent a complete request is closed to make room for a new one.")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--web.max-connections-per-ip", options.max_connections_per_ip,
                 "Maximum number of open connections from one client address; at the limit, "
                 "that address's oldest connection without a complete request is closed.")
      ->check(CLI::Range(1, 1000000));
  std::string scrape_timeout = "10s";
  std::string scrape_timeout_offset = "500ms";
  app.add_option("--scrape.timeout", scrape_timeout,
                 "How long a scrape may take when the client does not say how long it waits "
                 "(Prometheus says, in X-Prometheus-Scrape-Timeout-Seconds): a duration such as "
                 "10s or 1500ms. Collectors that take longer report "
                 "thinpool_scrape_collector_success 0.");
  app.add_option("--scrape.timeout-offset", scrape_timeout_offset,
                 "Time kept back from the client's timeout so that the answer reaches it in time "
                 "(a duration).");
  app.add_option("--web.config.file", options.web_config_file,
                 "Path to a configuration file that enables TLS and/or basic authentication, in "
                 "the exporter-toolkit format (see docs/security.md).");
  app.add_flag(
      "--security.drop-privileges,!--no-security.drop-privileges", options.drop_privileges,
      "After start-up keep only CAP_SYS_ADMIN (none with --devmapper.fixtures), clear "
      "the other capabilities and the bounding set, and set no_new_privs (default: enabled).");
  app.add_flag(
      "--security.seccomp,!--no-security.seccomp", options.seccomp,
      "Install a seccomp filter that refuses what the exporter never does: exec, new "
      "processes, mounts, module loading, creating or writing files, ptrace (default: enabled).");
  app.add_option("--log.level", options.log_level,
                 "Only log messages with the given severity or above: debug, info, warn, error.")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--log.format", options.log_format, "Output format of log messages: logfmt, json.")
      ->check(CLI::IsMember({"logfmt", "json"}));
  app.add_option("--devmapper.fixtures", options.fixtures_dir,
                 "Read device-mapper state from captured text in DIR (files info, table, status: "
                 "see README) instead of the kernel. For tests and demos.")
      ->check(CLI::ExistingDirectory);
  std::map<std::string, bool> switches;  // a switch option's value until it is parsed
  for (const CollectorDefinition& collector : collectors) {
    options.collectors[collector.name] = collector.enabled_by_default;
    app.add_flag(
        fmt::format("--collector.{0},!--no-collector.{0}", collector.name),
        options.collectors[collector.name],
        fmt::format("Enable the {} collector: {} (default: {}).", collector.name, collector.help,
                    collector.enabled_by_default ? "enabled" : "disabled"));
    for (const CollectorOption& option : collector.options) {
      const std::string key = collector.name + "." + option.name;
      options.collector_options[key] = option.default_value;
      if (option.is_switch) {
        bool& on = switches[key] = option.default_value == "true";
        app.add_flag(fmt::format("--collector.{0},!--no-collector.{0}", key), on,
                     fmt::format("{} (default: {}).", option.help, on ? "on" : "off"));
      } else {
        app.add_option("--collector." + key, options.collector_options[key], option.help);
      }
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    result.exit = true;
    result.output = app.help();
    return result;
  } catch (const CLI::CallForVersion&) {
    result.exit = true;
    result.output = version_text() + "\n";
    return result;
  } catch (const CLI::ParseError& e) {
    result.exit = true;
    result.exit_code = 2;
    std::string message = e.what();
    if (auto newline = message.find('\n'); newline != std::string::npos) {
      message.resize(newline);
    }
    result.output = fmt::format("thinpool_exporter: {} (see --help)\n", message);
    return result;
  }
  for (const auto& [key, on] : switches) {
    options.collector_options[key] = on ? "true" : "false";
  }
  for (auto [flag, text, seconds] :
       {std::tuple{"--scrape.timeout", &scrape_timeout, &options.scrape_timeout_seconds},
        std::tuple{"--scrape.timeout-offset", &scrape_timeout_offset,
                   &options.scrape_timeout_offset_seconds}}) {
    auto parsed = parse_duration_seconds(*text);
    if (!parsed || (*parsed <= 0 && std::string_view(flag) == "--scrape.timeout")) {
      result.exit = true;
      result.exit_code = 2;
      result.output = fmt::format(
          "thinpool_exporter: {} \"{}\": expected a duration such as 10s, 1500ms or 1m (see "
          "--help)\n",
          flag, *text);
      return result;
    }
    *seconds = *parsed;
  }
  auto check = [&](const Status& status) {
    if (!status.ok()) {
      result.exit = true;
      result.exit_code = 2;
      result.output = fmt::format("thinpool_exporter: {} (see --help)\n", status.error().message);
    }
  };
  for (const std::string& address : options.listen_addresses) {
    if (auto listen = parse_listen_address(address); !listen && !result.exit) {
      check(listen.error());
    }
  }
  if (result.exit) {
    return result;
  }
  if (options.max_connections < options.max_requests) {
    check(Error{fmt::format("--web.max-connections ({}) must be at least --web.max-requests ({})",
                            options.max_connections, options.max_requests)});
  } else if (options.telemetry_path.empty() || options.telemetry_path.front() != '/' ||
             options.telemetry_path == "/" || options.telemetry_path == "/-/healthy") {
    check(
        Error{fmt::format("--web.telemetry-path \"{}\" must start with / and not be / or "
                          "/-/healthy",
                          options.telemetry_path)});
  }
  return result;
}

}  // namespace thinpool
