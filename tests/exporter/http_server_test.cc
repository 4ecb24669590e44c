#include "exporter/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <thread>

#include "tests/exporter/gunzip.h"
#include "tests/exporter/render_text.h"

namespace thinpool {
namespace {

constexpr std::string_view kMetricsText =
    "# HELP test_value A test value.\n# TYPE test_value gauge\n"
    "test_value{name=\"a\\\"b\\\\c\\nd\"} 42\n";

// A minimal HTTP/1.0 client: the request, then everything the server sends until it closes.
std::string http_get(int port, const std::string& path, const std::string& extra_headers = "",
                     const char* to = "127.0.0.1") {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, to, &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n" + extra_headers + "\r\n";
  (void)!write(fd, request.data(), request.size());
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) {
    response.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return response;
}

std::string body_of(const std::string& response) {
  auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// A server on a free loopback port serving /metrics, with `max_requests` at once and
// `max_connections` open (in all and per address), 5 s deadlines.
HttpConfig loopback_config(int max_requests, int max_connections) {
  HttpConfig config;
  config.listen = {{"127.0.0.1:0", "127.0.0.1", 0}};
  config.telemetry_path = "/metrics";
  config.max_requests = max_requests;
  config.max_connections = max_connections;
  config.max_connections_per_ip = max_connections;
  config.request_timeout_ms = 5000;
  return config;
}

class HttpServerTest : public testing::Test {
 protected:
  void SetUp() override {
    HttpConfig config = loopback_config(8, 16);
    config.landing_page_html = landing_page("v-test", "/metrics", {{"thinpool", true}});
    auto server = HttpServer::start(config, render_text([this](const ScrapeRequest& request) {
                                      last_timeout_ = request.timeout_seconds.value_or(-1);
                                      if (render_throws_) {
                                        throw std::runtime_error("rendering exploded");
                                      }
                                      return std::string(kMetricsText);
                                    }));
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    port_ = server_->ports().at(0);
  }
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::atomic<bool> render_throws_{false};
  std::atomic<double> last_timeout_{0};
};

TEST_F(HttpServerTest, PassesPrometheusScrapeTimeoutToTheScrape) {
  http_get(port_, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds: 9.5\r\n");
  EXPECT_EQ(last_timeout_.load(), 9.5);
  http_get(port_, "/metrics");
  EXPECT_EQ(last_timeout_.load(), -1);  // none sent
  http_get(port_, "/metrics", "X-Prometheus-Scrape-Timeout-Seconds: soon\r\n");
  EXPECT_EQ(last_timeout_.load(), -1);
}

TEST(ParseScrapeTimeout, AcceptsPositiveSecondsOnly) {
  EXPECT_EQ(parse_scrape_timeout("10"), 10);
  EXPECT_EQ(parse_scrape_timeout(" 9.5 "), 9.5);
  EXPECT_EQ(parse_scrape_timeout("0.25"), 0.25);
  for (const char* bad : {"", "0", "-1", "10s", "nan", "inf", "1e999", "x"}) {
    EXPECT_FALSE(parse_scrape_timeout(bad).has_value()) << bad;
  }
}

TEST_F(HttpServerTest, ServesTheRenderedMetrics) {
  std::string response = http_get(port_, "/metrics");
  EXPECT_NE(response.find("200 OK"), std::string::npos) << response;
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  // The scrape's text, then the server's own series.
  const std::string body = body_of(response);
  EXPECT_EQ(body.substr(0, kMetricsText.size()), kMetricsText);
  EXPECT_NE(body.find("\n# TYPE thinpool_http_connections gauge\nthinpool_http_connections 1\n"),
            std::string::npos)
      << body;
  // Responses are counted once sent: the second scrape counts the first.
  EXPECT_NE(
      body_of(http_get(port_, "/metrics")).find("thinpool_http_responses_total{code=\"200\"} 1\n"),
      std::string::npos);
}

TEST_F(HttpServerTest, ListensOnEveryAddressGiven) {
  HttpConfig config = loopback_config(1, 4);
  config.listen = {{"127.0.0.1:0", "127.0.0.1", 0}, {"127.0.0.2:0", "127.0.0.2", 0}};
  auto two = HttpServer::start(
      config, render_text([](const ScrapeRequest&) { return std::string(kMetricsText); }));
  ASSERT_TRUE(two.ok()) << two.error().message;
  const std::vector<int> ports = (*two)->ports();
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(body_of(http_get(ports[0], "/metrics")).substr(0, kMetricsText.size()), kMetricsText);
  EXPECT_EQ(body_of(http_get(ports[1], "/metrics", "", "127.0.0.2")).substr(0, kMetricsText.size()),
            kMetricsText);
  EXPECT_EQ((*two)->bound_addresses(),
            (std::vector<std::string>{"127.0.0.1:" + std::to_string(ports[0]),
                                      "127.0.0.2:" + std::to_string(ports[1])}));
}

TEST_F(HttpServerTest, ARenderThatThrowsIsA500NotACrash) {
  render_throws_ = true;
  std::string response = http_get(port_, "/metrics");
  EXPECT_NE(response.find("500"), std::string::npos) << response;
  render_throws_ = false;
  EXPECT_NE(http_get(port_, "/metrics").find("200 OK"), std::string::npos);
}

TEST_F(HttpServerTest, GzipWhenAsked) {
  std::string response = http_get(port_, "/metrics", "Accept-Encoding: gzip, deflate\r\n");
  EXPECT_NE(response.find("Content-Encoding: gzip"), std::string::npos) << response;
  EXPECT_NE(gunzip(body_of(response)).text.find("test_value{"), std::string::npos);
  std::string plain = http_get(port_, "/metrics", "Accept-Encoding: gzip;q=0\r\n");
  EXPECT_EQ(plain.find("Content-Encoding"), std::string::npos);
}

TEST_F(HttpServerTest, LandingHealthAndNotFound) {
  std::string landing = http_get(port_, "/");
  EXPECT_NE(landing.find("200 OK"), std::string::npos);
  EXPECT_NE(landing.find("<a href=\"/metrics\">"), std::string::npos);
  EXPECT_NE(landing.find("v-test"), std::string::npos);
  EXPECT_NE(http_get(port_, "/-/healthy").find("200 OK"), std::string::npos);
  EXPECT_NE(http_get(port_, "/nope").find("404"), std::string::npos);
  EXPECT_NE(http_get(port_, "/metricsfoo").find("404"), std::string::npos);
}

// The alerts of the shipped rule files (alerts/*.yml, generated from the mixin).
std::set<std::string> shipped_alert_names() {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(THINPOOL_REPO_DIR "/alerts")) {
    if (entry.path().extension() != ".yml") {
      continue;
    }
    std::ifstream file(entry.path());
    for (std::string line; std::getline(file, line);) {
      const size_t at = line.find("- alert: ");
      if (at != std::string::npos) {
        names.insert(line.substr(at + 9));
      }
    }
  }
  return names;
}

TEST_F(HttpServerTest, ServesTheRunbookWithASectionPerAlertAndTheLandingPageLinksIt) {
  const std::string response = http_get(port_, "/runbook");
  ASSERT_NE(response.find("200 OK"), std::string::npos) << response.substr(0, 200);
  EXPECT_NE(response.find("Content-Type: text/html; charset=utf-8"), std::string::npos);
  const std::string page = body_of(response);
  const std::set<std::string> alerts = shipped_alert_names();
  EXPECT_GE(alerts.size(), 20u);
  for (const std::string& alert : alerts) {
    std::string id = alert;
    std::transform(id.begin(), id.end(), id.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    EXPECT_NE(page.find("<h2 id=\"" + id + "\">" + alert + "</h2>"), std::string::npos) << alert;
  }
  // Procedures keep GitHub's anchors, which the runbook's own links use; code stays verbatim.
  EXPECT_NE(page.find("<h3 id=\"grow-metadata\">"), std::string::npos);
  EXPECT_NE(page.find("<a href=\"#grow-metadata\">"), std::string::npos);
  EXPECT_NE(page.find("VG=cinder-volumes            # the alert's `vg` label\n"),
            std::string::npos);
  EXPECT_EQ(page, runbook_page());
  EXPECT_NE(body_of(http_get(port_, "/")).find("<a href=\"/runbook\">"), std::string::npos);
}

TEST(HttpServerAuth, TheRunbookNeedsTheBasicAuthOfEveryPage) {
  WebConfig web;
  // bcrypt (cost 4) of "s3cret: with colon".
  web.basic_auth_users = {
      {"alice", "$2y$04$05JdUuAaK77B2I4n.xi6LObYs5TKPV5YUwW.h9ih8TsRLSpJcUW3G"}};
  HttpConfig config = loopback_config(2, 4);
  config.web_config = std::make_shared<const WebConfig>(std::move(web));
  auto server = HttpServer::start(
      config, render_text([](const ScrapeRequest&) { return std::string(kMetricsText); }));
  ASSERT_TRUE(server.ok()) << server.error().message;
  const int port = (*server)->ports().at(0);
  EXPECT_NE(http_get(port, "/runbook").find("401 Unauthorized"), std::string::npos);
  const std::string allowed =
      http_get(port, "/runbook", "Authorization: Basic YWxpY2U6czNjcmV0OiB3aXRoIGNvbG9u\r\n");
  EXPECT_NE(allowed.find("200 OK"), std::string::npos) << allowed.substr(0, 200);
  EXPECT_EQ(body_of(allowed), runbook_page());
}

TEST_F(HttpServerTest, ConcurrentScrapes) {
  std::vector<std::thread> threads;
  threads.reserve(8);
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 25; ++j) {
        if (http_get(port_, "/metrics").find("test_value{") != std::string::npos) {
          ++ok;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(ok.load(), 200);
}

// SIGTERM while scrapes are being rendered: the server goes away only after the requests on its
// workers are done with its state (their responses are counted in it). Before, the workers outlived
// the counters (a segfault under load, and ASan's heap-use-after-free in hardening_sanitizers).
TEST(HttpServerShutdown, WaitsForTheRequestsOnItsWorkers) {
  const HttpConfig config = loopback_config(2, 16);
  std::atomic<int> rendering{0};
  std::atomic<bool> release{false};
  auto server = HttpServer::start(config, render_text([&](const ScrapeRequest&) {
                                    ++rendering;
                                    while (!release) {
                                      std::this_thread::sleep_for(std::chrono::milliseconds(5));
                                    }
                                    return std::string(kMetricsText);
                                  }));
  ASSERT_TRUE(server.ok()) << server.error().message;
  const int port = (*server)->ports().at(0);
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {  // two on the workers, two answered 503 at once
    clients.emplace_back([port] { (void)http_get(port, "/metrics"); });
  }
  for (int i = 0; i < 400 && rendering < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(rendering.load(), 2);
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    release = true;
  });
  const auto start = std::chrono::steady_clock::now();
  server->reset();  // blocks until the two renders return and their responses are counted
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
  EXPECT_EQ(rendering.load(), 2);
  releaser.join();
  for (std::thread& client : clients) {
    client.join();  // every client sees its connection closed
  }
}

TEST_F(HttpServerTest, PortInUseIsAOneLineError) {
  HttpConfig config;
  config.listen = {
      {"127.0.0.1:" + std::to_string(port_), "127.0.0.1", static_cast<uint16_t>(port_)}};
  config.telemetry_path = "/metrics";
  config.max_requests = 4;
  config.max_connections = 16;
  config.request_timeout_ms = 5000;
  auto second =
      HttpServer::start(config, render_text([](const ScrapeRequest&) { return std::string(); }));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("cannot listen on 127.0.0.1:"), std::string::npos);
  EXPECT_NE(second.error().message.find("in use"), std::string::npos) << second.error().message;
  EXPECT_EQ(second.error().message.find('\n'), std::string::npos);
}

TEST(AcceptsGzip, ParsesAcceptEncoding) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("deflate, gzip;q=1.0, *;q=0.5"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("x-gzip2"));
}

}  // namespace
}  // namespace thinpool
