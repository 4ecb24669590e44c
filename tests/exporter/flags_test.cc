#include "exporter/flags.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "collectors/registry.h"

namespace thinpool {
namespace {

FlagsResult parse(std::vector<const char*> args) {
  args.insert(args.begin(), "thinpool_exporter");
  return parse_flags(static_cast<int>(args.size()), args.data(), registered_collectors());
}

TEST(Flags, Defaults) {
  FlagsResult result = parse({});
  ASSERT_FALSE(result.exit) << result.output;
  EXPECT_EQ(result.options.listen_addresses, std::vector<std::string>{":9966"});
  EXPECT_EQ(result.options.telemetry_path, "/metrics");
  EXPECT_EQ(result.options.log_level, "info");
  EXPECT_EQ(result.options.log_format, "logfmt");
  EXPECT_TRUE(result.options.collectors.at("thinpool"));
  EXPECT_TRUE(result.options.collectors.at("thin"));
}

TEST(Flags, PrometheusStyleValuesAndCollectorToggles) {
  FlagsResult result = parse({"--web.listen-address=127.0.0.1:9999", "--web.telemetry-path", "/m",
                              "--log.level=debug", "--log.format=json", "--no-collector.thin"});
  ASSERT_FALSE(result.exit) << result.output;
  EXPECT_EQ(result.options.listen_addresses, std::vector<std::string>{"127.0.0.1:9999"});
  EXPECT_EQ(result.options.telemetry_path, "/m");
  EXPECT_EQ(result.options.log_level, "debug");
  EXPECT_EQ(result.options.log_format, "json");
  EXPECT_FALSE(result.options.collectors.at("thin"));
  EXPECT_TRUE(result.options.collectors.at("thinpool"));
  EXPECT_FALSE(parse({"--no-collector.thinpool"}).options.collectors.at("thinpool"));
  EXPECT_TRUE(parse({"--no-collector.thin", "--collector.thin"}).options.collectors.at("thin"));
}

TEST(Flags, ACollectorSwitchTakesTheNoForm) {
  EXPECT_EQ(parse({}).options.collector_options.at("lvm.volume-series"), "true");
  EXPECT_EQ(
      parse({"--no-collector.lvm.volume-series"}).options.collector_options.at("lvm.volume-series"),
      "false");
  EXPECT_EQ(parse({"--no-collector.lvm.volume-series", "--collector.lvm.volume-series"})
                .options.collector_options.at("lvm.volume-series"),
            "true");
  FlagsResult bad = parse({"--collector.lvm.volume-series=maybe"});
  EXPECT_TRUE(bad.exit);
  EXPECT_EQ(bad.exit_code, 2);
}

TEST(Flags, HelpAndVersionExitZero) {
  FlagsResult help = parse({"--help"});
  EXPECT_TRUE(help.exit);
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag :
       {"--web.listen-address", "--web.telemetry-path", "--log.level", "--log.format",
        "--collector.thinpool", "--no-collector.thin", "--devmapper.fixtures", "--version"}) {
    EXPECT_NE(help.output.find(flag), std::string::npos) << flag;
  }
  // Every flag pair is on by default and says so; CLI11's "{false}" after the negated name would
  // read as the opposite.
  EXPECT_EQ(help.output.find("{false}"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("--no-security.seccomp"), std::string::npos) << help.output;
  for (const char* name : {"thinpool", "thin", "lvm"}) {
    EXPECT_NE(help.output.find(std::string("Enable the ") + name + " collector"),
              std::string::npos);
  }
  FlagsResult version = parse({"--version"});
  EXPECT_TRUE(version.exit);
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output.rfind("thinpool_exporter version ", 0), 0u);
}

TEST(Flags, BadFlagsGiveOneLineAndExitTwo) {
  for (std::vector<const char*> args :
       std::vector<std::vector<const char*>>{{"--bogus"},
                                             {"--log.level=verbose"},
                                             {"--log.format=xml"},
                                             {"--web.listen-address=9966"},
                                             {"--web.listen-address=:99999"},
                                             {"--web.listen-address=::1:9966"},
                                             {"--web.telemetry-path=metrics"},
                                             {"--web.max-requests=0"},
                                             {"--devmapper.fixtures=/nonexistent"}}) {
    FlagsResult result = parse(args);
    EXPECT_TRUE(result.exit) << args[0];
    EXPECT_EQ(result.exit_code, 2) << args[0];
    EXPECT_EQ(result.output.find('\n'), result.output.size() - 1) << result.output;
    EXPECT_EQ(result.output.rfind("thinpool_exporter: ", 0), 0u) << result.output;
  }
}

TEST(Flags, ListenAddresses) {
  auto parsed = [](const std::string& text) {
    auto listen = parse_listen_address(text);
    return listen ? fmt::format("{}|{}", listen->host, listen->port) : "error";
  };
  EXPECT_EQ(parsed(":9966"), "|9966");
  EXPECT_EQ(parsed("0.0.0.0:9966"), "0.0.0.0|9966");
  EXPECT_EQ(parsed("127.0.0.1:0"), "127.0.0.1|0");
  EXPECT_EQ(parsed("localhost:9966"), "localhost|9966");
  EXPECT_EQ(parsed("[::1]:9966"), "::1|9966");
  EXPECT_EQ(parsed("[::]:9966"), "::|9966");
  for (const char* bad : {"127.0.0.1", ":0x10", "[::1:9966", "::1:9966", "[]:9966", ":65536"}) {
    EXPECT_EQ(parsed(bad), "error") << bad;
  }
}

TEST(Flags, ListenAddressRepeats) {
  EXPECT_EQ(parse({}).options.listen_addresses, std::vector<std::string>{":9966"});
  FlagsResult two = parse({"--web.listen-address=127.0.0.1:9966", "--web.listen-address",
                           "[::1]:9966", "--web.systemd-socket"});
  ASSERT_FALSE(two.exit) << two.output;
  EXPECT_EQ(two.options.listen_addresses,
            (std::vector<std::string>{"127.0.0.1:9966", "[::1]:9966"}));
  EXPECT_TRUE(two.options.systemd_socket);
  FlagsResult bad = parse({"--web.listen-address=127.0.0.1:9966", "--web.listen-address=9966"});
  EXPECT_TRUE(bad.exit);
  EXPECT_NE(bad.output.find("\"9966\""), std::string::npos) << bad.output;
}

TEST(Flags, ScrapeTimeoutsAreDurations) {
  FlagsResult defaults = parse({});
  EXPECT_EQ(defaults.options.scrape_timeout_seconds, 10);
  EXPECT_EQ(defaults.options.scrape_timeout_offset_seconds, 0.5);
  FlagsResult set = parse({"--scrape.timeout=1500ms", "--scrape.timeout-offset=0"});
  ASSERT_FALSE(set.exit) << set.output;
  EXPECT_EQ(set.options.scrape_timeout_seconds, 1.5);
  EXPECT_EQ(set.options.scrape_timeout_offset_seconds, 0);
  for (const char* bad : {"--scrape.timeout=0s", "--scrape.timeout=ten", "--scrape.timeout=5h",
                          "--scrape.timeout-offset=-1s"}) {
    FlagsResult refused = parse({bad});
    EXPECT_TRUE(refused.exit) << bad;
    EXPECT_EQ(refused.exit_code, 2) << bad;
    EXPECT_NE(refused.output.find("expected a duration"), std::string::npos) << refused.output;
  }
  EXPECT_EQ(parse_duration_seconds("2m"), 120);
  EXPECT_EQ(parse_duration_seconds("3"), 3);
}

}  // namespace
}  // namespace thinpool
