// The HTTP server against clients that misbehave: idle and half-sent requests, connections beyond
// the caps, requests beyond --web.max-requests, malformed, oversized and cut-off requests, and
// clients that never read. None may delay another client's scrape. No timing assertions beyond
// "answers before the idle clients' deadline", which is far away (30 s) in those tests.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "exporter/http_server.h"
#include "tests/exporter/render_text.h"

namespace thinpool {
namespace {

constexpr std::string_view kBody = "# TYPE test_value gauge\ntest_value 1\n";

// A TCP connection to 127.0.0.1:port from `from` (another loopback address plays another host),
// with a receive timeout so that a test never hangs.
class Client {
 public:
  Client(int port, const char* from = "127.0.0.1") {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from, &local.sin_addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
      return;  // connected() stays false
    }
    timeval timeout{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Client() { close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  void send(std::string_view bytes) {
    (void)!::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  void shut_write() { shutdown(fd_, SHUT_WR); }
  // Everything until the server closes (or 10 s pass).
  std::string read_all() {
    std::string out;
    char buffer[65536];
    for (ssize_t n; (n = recv(fd_, buffer, sizeof(buffer), 0)) > 0;) {
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }
  // True when the server closed the connection (read returns 0 or a reset) within 10 s.
  bool closed_by_server() {
    char byte = 0;
    ssize_t n = 0;
    while ((n = recv(fd_, &byte, 1, 0)) > 0) {
    }
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string scrape(int port, const char* from = "127.0.0.1") {
  Client client(port, from);
  client.send("GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  return client.read_all();
}

bool is_status(const std::string& response, int status) {
  return response.rfind("HTTP/1.1 " + std::to_string(status) + " ", 0) == 0;
}

class HttpLimitsTest : public testing::Test {
 protected:
  void start(int max_connections, int per_ip, int timeout_ms = 30000) {
    HttpConfig config;
    config.listen = {{"127.0.0.1:0", "127.0.0.1", 0}};
    config.telemetry_path = "/metrics";
    config.max_requests = 2;
    config.max_connections = max_connections;
    config.max_connections_per_ip = per_ip;
    config.request_timeout_ms = timeout_ms;
    auto server = HttpServer::start(config, render_text([this](const ScrapeRequest&) {
                                      std::unique_lock lock(mutex_);
                                      ++rendering_;
                                      changed_.notify_all();
                                      changed_.wait(lock, [this] { return !hold_; });
                                      --rendering_;
                                      return body_;
                                    }));
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    port_ = server_->ports().at(0);
  }
  void set_body(std::string body) {
    std::lock_guard lock(mutex_);
    body_ = std::move(body);
  }
  void hold() {
    std::lock_guard lock(mutex_);
    hold_ = true;
  }
  void release() {
    std::lock_guard lock(mutex_);
    hold_ = false;
    changed_.notify_all();
  }
  void wait_rendering(int count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(10), [&] { return rendering_ == count; });
    ASSERT_EQ(rendering_, count);
  }
  // Waits up to 10 s for a counter to reach `want`.
  int64_t wait_counter(std::map<std::string, int64_t> HttpCounters::*which, const char* key,
                       int64_t want) {
    int64_t seen = 0;
    for (int i = 0; i < 200 && seen < want; ++i) {
      auto counters = server_->counters();
      seen = (counters.*which)[key];
      if (seen < want) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    return seen;
  }

  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::string body_{kBody};
  std::mutex mutex_;
  std::condition_variable changed_;
  bool hold_ = false;
  int rendering_ = 0;
};

TEST_F(HttpLimitsTest, IdleAndHalfSentRequestsDoNotDelayAScrape) {
  start(1000, 1000);
  std::vector<std::unique_ptr<Client>> crowd;
  crowd.reserve(200);
  for (int i = 0; i < 200; ++i) {
    crowd.push_back(std::make_unique<Client>(port_, "127.0.0.2"));
    if (i % 2 == 1) {
      crowd.back()->send("GET /metrics HTTP/1.1\r\nHost: loc");  // and never the rest
    }
  }
  // The idle ones would hold the scrape for 30 s if they held workers; the client gives up at 10.
  const std::string response = scrape(port_);
  EXPECT_TRUE(is_status(response, 200)) << response;
  EXPECT_NE(response.find("test_value 1"), std::string::npos);
  EXPECT_NE(response.find("thinpool_http_connections "), std::string::npos) << response;
}

TEST_F(HttpLimitsTest, AtTheCapTheOldestConnectionWithoutARequestMakesRoom) {
  start(8, 100);
  std::vector<std::unique_ptr<Client>> idle;
  idle.reserve(8);
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<Client>(port_, "127.0.0.2"));
  }
  EXPECT_TRUE(is_status(scrape(port_), 200));
  EXPECT_TRUE(idle.front()->closed_by_server()) << "the oldest idle connection must be closed";
  EXPECT_GE(wait_counter(&HttpCounters::evicted, "limit", 1), 1);
}

TEST_F(HttpLimitsTest, OneAddressCannotTakeEveryConnection) {
  start(100, 4);
  std::vector<std::unique_ptr<Client>> crowd;
  crowd.reserve(6);
  for (int i = 0; i < 6; ++i) {
    crowd.push_back(std::make_unique<Client>(port_, "127.0.0.3"));
  }
  EXPECT_TRUE(crowd[0]->closed_by_server());
  EXPECT_TRUE(crowd[1]->closed_by_server());
  EXPECT_EQ(wait_counter(&HttpCounters::evicted, "per_ip_limit", 2), 2);
  EXPECT_TRUE(is_status(scrape(port_), 200));  // another address is not affected
}

TEST_F(HttpLimitsTest, BeyondMaxRequestsA503AtOnceNotAQueue) {
  start(100, 100);
  hold();
  std::vector<std::thread> held;
  held.reserve(2);
  std::vector<std::string> answers(2);
  for (int i = 0; i < 2; ++i) {
    held.emplace_back([&, i] { answers[i] = scrape(port_); });
  }
  wait_rendering(2);
  const std::string third = scrape(port_);
  EXPECT_TRUE(is_status(third, 503)) << third;
  EXPECT_NE(third.find("Retry-After: 1"), std::string::npos) << third;
  // The landing page needs no worker: it answers while both are busy.
  Client landing(port_);
  landing.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(is_status(landing.read_all(), 200));
  release();
  for (auto& thread : held) {
    thread.join();
  }
  for (const std::string& answer : answers) {
    EXPECT_TRUE(is_status(answer, 200)) << answer;
  }
  EXPECT_EQ(server_->counters().responses[503], 1);
}

TEST_F(HttpLimitsTest, WhenEveryConnectionIsBeingServedANewOneIsRefused) {
  start(2, 100);
  hold();
  std::vector<std::thread> held;
  held.reserve(2);
  for (int i = 0; i < 2; ++i) {
    held.emplace_back([&] { scrape(port_); });
  }
  wait_rendering(2);
  Client refused(port_);
  EXPECT_TRUE(refused.closed_by_server());
  EXPECT_EQ(wait_counter(&HttpCounters::refused, "limit", 1), 1);
  release();
  for (auto& thread : held) {
    thread.join();
  }
  EXPECT_TRUE(is_status(scrape(port_), 200));
}

TEST_F(HttpLimitsTest, MalformedOversizedAndCutOffRequestsGetAClear4xx) {
  start(100, 100, 1000);
  struct Case {
    std::string request;
    int status;
    bool cut_off;
  };
  const std::vector<Case> cases = {
      {"GARBAGE\r\n\r\n", 400, false},
      {"GET /metrics HTTP/9.9\r\n\r\n", 400, false},
      {"GET /metrics HTTP/1.2\r\n\r\n", 400, false},
      {"GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n", 400, false},
      {"GET /metrics HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", 431, false},
      {"GET /metrics HTTP/1.1\r\nContent-Length: 100000\r\n\r\n", 413, false},
      {"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, false},
      {"GET /metrics HTTP/1.1\r\nHost: x", 400, true},   // the client stops sending
      {"GET /metrics HTTP/1.1\r\nHost: x", 408, false},  // and stays: the deadline
  };
  for (const Case& c : cases) {
    Client client(port_);
    client.send(c.request);
    if (c.cut_off) {
      client.shut_write();
    }
    const std::string response = client.read_all();
    EXPECT_TRUE(is_status(response, c.status)) << c.request.substr(0, 60) << " -> " << response;
    EXPECT_TRUE(is_status(scrape(port_), 200)) << "after " << c.request.substr(0, 60);
  }
}

TEST_F(HttpLimitsTest, AClientThatNeverReadsIsClosedAtItsDeadlineAndHoldsNoWorker) {
  start(100, 100, 500);
  set_body(std::string(64 << 20, 'x'));  // more than the socket buffers take
  Client stalled(port_);
  stalled.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(wait_counter(&HttpCounters::timed_out, "response", 1), 1);
  set_body(std::string(kBody));
  EXPECT_TRUE(is_status(scrape(port_), 200));
}

TEST_F(HttpLimitsTest, KeepAliveHeadAndTwoRequestsOnOneConnection) {
  start(100, 100);
  Client client(port_);
  client.send(
      "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string both = client.read_all();
  ASSERT_TRUE(is_status(both, 200)) << both;
  const size_t second = both.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << both;
  EXPECT_NE(both.find("Content-Length: "), std::string::npos);
  EXPECT_EQ(both.find("test_value"), std::string::npos) << "HEAD must not send the body";
  EXPECT_NE(both.find("OK\n", second), std::string::npos);
}

}  // namespace
}  // namespace thinpool
