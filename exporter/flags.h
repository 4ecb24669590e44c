// Command-line flags, in the style of the Prometheus exporters (CLI11).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"

namespace thinpool {

// One --web.listen-address: "[host]:port". An empty host (":9966") is every address, IPv6 and
// IPv4 on one socket where the host has IPv6; "0.0.0.0" every IPv4 address, "[::]" every address.
struct ListenAddress {
  std::string text;  // as given
  std::string host;  // without brackets; empty for every address
  uint16_t port = 0;
};

// Parses "[host]:port"; an error names the flag and the value.
Expected<ListenAddress> parse_listen_address(const std::string& address);

struct Options {
  // --web.listen-address, repeatable: a listening socket each.
  std::vector<std::string> listen_addresses = {":9966"};
  bool systemd_socket = false;  // --web.systemd-socket: listen on the sockets systemd passes
  std::string telemetry_path = "/metrics";
  std::string log_level = "info";
  std::string log_format = "logfmt";
  std::string fixtures_dir;         // --devmapper.fixtures: serve captured text, not the kernel
  int max_requests = 40;            // --web.max-requests: requests handled at once; more get a 503
  int request_timeout_ms = 30000;   // --web.request-timeout: to send a request, to read a reply
  int max_connections = 1024;       // --web.max-connections: open connections in total
  int max_connections_per_ip = 64;  // --web.max-connections-per-ip
  // --scrape.timeout: how long a scrape may take when the client does not say (Prometheus sends
  // X-Prometheus-Scrape-Timeout-Seconds; 10 s is its default scrape_timeout).
  double scrape_timeout_seconds = 10;
  // --scrape.timeout-offset: kept back from the client's timeout, for the answer to reach it.
  double scrape_timeout_offset_seconds = 0.5;
  std::string web_config_file;  // --web.config.file: TLS and basic auth (exporter-toolkit format)
  bool drop_privileges = true;  // --security.drop-privileges: keep only CAP_SYS_ADMIN
  bool seccomp = true;          // --security.seccomp: refuse exec, writes, mounts, ...
  std::map<std::string, bool> collectors;  // name -> enabled
  // --collector.<name>.<option>: "<name>.<option>" -> value, for every option of every collector
  // (its CollectorDefinition's default unless given).
  std::map<std::string, std::string> collector_options;
};

// What parse_flags() decided: run with `options`, or exit with `exit_code` after printing
// `output` (help or version on stdout when exit_code is 0, a one-line error on stderr otherwise).
struct FlagsResult {
  Options options;
  bool exit = false;
  int exit_code = 0;
  std::string output;
};

FlagsResult parse_flags(int argc, const char* const* argv,
                        const std::vector<CollectorDefinition>& collectors);

// A duration flag's value in seconds: "10s", "1500ms", "1m", or a bare number of seconds; nullopt
// for anything else or a negative one.
std::optional<double> parse_duration_seconds(std::string_view text);

// The version line printed by --version.
std::string version_text();

}  // namespace thinpool
