// /metrics bodies written as they are rendered: a body of a piece or more goes out in chunks
// (HTTP/1.1 chunked transfer coding), plain or gzip'd, byte for byte the text; HTTP/1.0 and HEAD
// get it whole with its length; a body that ends incomplete ends the connection without the last
// chunk; a client that does not read holds a worker for at most BodyPipe::kPatience.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "exporter/http_internal.h"
#include "exporter/http_server.h"
#include "tests/exporter/gunzip.h"
#include "tests/exporter/render_text.h"

namespace thinpool {
namespace {

using Clock = std::chrono::steady_clock;

// Exposition-like text of about `size` bytes.
std::string exposition_text(size_t size) {
  std::string text = "# HELP test_bytes Bytes.\n# TYPE test_bytes gauge\n";
  for (uint64_t i = 0; text.size() < size; ++i) {
    text += "test_bytes{volume=\"volume-" + std::to_string(i * 7919 % 100003) + "\"} " +
            std::to_string(i * i) + "\n";
  }
  return text;
}

int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Sends `requests` and returns all the server sends until it closes.
std::string send_and_read(int port, const std::string& requests) {
  const int fd = connect_to(port);
  if (fd < 0) {
    return "";
  }
  (void)!write(fd, requests.data(), requests.size());
  std::string received;
  char buffer[65536];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) {
    received.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return received;
}

// One response read from `data` at `at`: status, headers (names in lower case), the body
// (de-chunked), and whether it ended as HTTP says it must (the last chunk, or all its length).
struct Parsed {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  bool complete = false;
};

Parsed parse_response(const std::string& data, size_t& at, bool head = false) {
  Parsed parsed;
  const size_t end = data.find("\r\n\r\n", at);
  if (end == std::string::npos) {
    at = data.size();
    return parsed;
  }
  std::string lines = data.substr(at, end - at);
  parsed.status = std::stoi(lines.substr(9, 3));
  for (size_t line = lines.find("\r\n"); line != std::string::npos;) {
    const size_t next = lines.find("\r\n", line + 2);
    const std::string field =
        lines.substr(line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
    const size_t colon = field.find(':');
    std::string name = field.substr(0, colon);
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    parsed.headers[name] = field.substr(colon + 2);
    line = next;
  }
  at = end + 4;
  if (head) {
    parsed.complete = true;
    return parsed;
  }
  if (auto coding = parsed.headers.find("transfer-encoding");
      coding != parsed.headers.end() && coding->second == "chunked") {
    while (at < data.size()) {
      const size_t line_end = data.find("\r\n", at);
      if (line_end == std::string::npos) {
        break;
      }
      const size_t size = std::stoul(data.substr(at, line_end - at), nullptr, 16);
      if (line_end + 2 + size + 2 > data.size()) {
        break;  // cut off
      }
      parsed.body.append(data, line_end + 2, size);
      at = line_end + 2 + size + 2;
      if (size == 0) {
        parsed.complete = true;
        break;
      }
    }
    return parsed;
  }
  const auto length_field = parsed.headers.find("content-length");
  if (length_field == parsed.headers.end()) {
    return parsed;  // neither: not a response this server sends
  }
  const size_t length = std::stoul(length_field->second);
  parsed.body = data.substr(at, length);
  parsed.complete = parsed.body.size() == length;
  at += parsed.body.size();
  return parsed;
}

constexpr char kGet[] = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n";

class HttpStreamTest : public testing::Test {
 protected:
  void start(RenderMetrics render, int max_requests = 4) {
    HttpConfig config;
    config.listen = {{"127.0.0.1:0", "127.0.0.1", 0}};
    config.telemetry_path = "/metrics";
    config.max_requests = max_requests;
    config.max_connections = 16;
    config.max_connections_per_ip = 16;
    config.request_timeout_ms = 10000;
    auto server = HttpServer::start(config, std::move(render));
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    port_ = server_->ports().at(0);
  }
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpStreamTest, ABigBodyGoesInChunksPlainAndGzipdSmallOnesWhole) {
  const std::string big = exposition_text(3'000'000);
  const std::string small = exposition_text(10'000);
  std::atomic<bool> send_big{true};
  start(render_text([&](const ScrapeRequest&) { return send_big ? big : small; }));
  for (const bool gzip : {false, true}) {
    const std::string request =
        std::string(kGet) + (gzip ? "Accept-Encoding: gzip\r\n" : "") + "Connection: close\r\n\r\n";
    send_big = true;
    std::string received = send_and_read(port_, request);
    size_t at = 0;
    Parsed parsed = parse_response(received, at);
    EXPECT_EQ(parsed.status, 200);
    EXPECT_EQ(parsed.headers["transfer-encoding"], "chunked");
    EXPECT_EQ(parsed.headers.count("content-length"), 0u);
    EXPECT_EQ(parsed.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_TRUE(parsed.complete);
    EXPECT_EQ(parsed.headers.count("content-encoding"), gzip ? 1u : 0u);
    const std::string text = gzip ? gunzip(parsed.body).text : parsed.body;
    // The text, then the server's own series.
    ASSERT_GT(text.size(), big.size());
    EXPECT_TRUE(text.compare(0, big.size(), big) == 0) << "gzip " << gzip;
    EXPECT_NE(text.find("thinpool_http_connections ", big.size()), std::string::npos);

    send_big = false;
    received = send_and_read(port_, request);
    at = 0;
    parsed = parse_response(received, at);
    EXPECT_EQ(parsed.status, 200);
    EXPECT_EQ(parsed.headers.count("transfer-encoding"), 0u);
    EXPECT_TRUE(parsed.complete);
    const std::string small_text = gzip ? gunzip(parsed.body).text : parsed.body;
    EXPECT_TRUE(small_text.compare(0, small.size(), small) == 0);
  }
}

TEST_F(HttpStreamTest, Http10AndHeadGetTheBodyWholeWithItsLength) {
  const std::string big = exposition_text(2'000'000);
  start(render_text([&](const ScrapeRequest&) { return std::string(big); }));
  std::string received = send_and_read(port_, "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n");
  size_t at = 0;
  Parsed parsed = parse_response(received, at);
  EXPECT_EQ(parsed.status, 200);
  EXPECT_EQ(parsed.headers.count("transfer-encoding"), 0u);
  ASSERT_TRUE(parsed.complete);
  EXPECT_TRUE(parsed.body.compare(0, big.size(), big) == 0);
  const size_t get_length = parsed.body.size();

  received = send_and_read(
      port_, "HEAD /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  at = 0;
  parsed = parse_response(received, at, /*head=*/true);
  EXPECT_EQ(parsed.status, 200);
  EXPECT_EQ(parsed.headers.count("transfer-encoding"), 0u);
  // What GET sends: the same text and the server's series (which count one more response now).
  ASSERT_EQ(parsed.headers.count("content-length"), 1u);
  const size_t head_length = std::stoul(parsed.headers["content-length"]);
  EXPECT_GE(head_length, get_length);
  EXPECT_LT(head_length, get_length + 1024);
  EXPECT_EQ(at, received.size());  // no body
}

TEST_F(HttpStreamTest, StreamedResponsesKeepTheConnectionAlive) {
  const std::string big = exposition_text(1'000'000);
  start(render_text([&](const ScrapeRequest&) { return std::string(big); }));
  for (const char* encoding : {"", "Accept-Encoding: gzip\r\n"}) {
    const std::string requests =
        std::string(kGet) + encoding + "\r\n" + kGet + encoding + "Connection: close\r\n\r\n";
    const std::string received = send_and_read(port_, requests);
    size_t at = 0;
    for (int i = 0; i < 2; ++i) {
      Parsed parsed = parse_response(received, at);
      EXPECT_EQ(parsed.status, 200) << i;
      EXPECT_TRUE(parsed.complete) << i;
      const std::string text = *encoding != '\0' ? gunzip(parsed.body).text : parsed.body;
      EXPECT_TRUE(text.compare(0, big.size(), big) == 0) << i;
    }
    EXPECT_EQ(at, received.size());
  }
}

TEST_F(HttpStreamTest, AnIncompleteBodyEndsWithoutTheLastChunkOrAs500WhenNothingWentOut) {
  const std::string big = exposition_text(2'000'000);
  std::atomic<size_t> stop_after{big.size() / 2};
  start([&](const ScrapeRequest&, size_t piece_size, const TextSink& sink) {
    for (size_t at = 0; at < stop_after; at += piece_size) {
      std::string piece = big.substr(at, std::min(piece_size, stop_after - at));
      sink(piece);
    }
    return false;  // a collector failed after part of its text went out
  });
  std::string received = send_and_read(port_, std::string(kGet) + "\r\n");  // keep-alive asked
  size_t at = 0;
  Parsed parsed = parse_response(received, at);
  EXPECT_EQ(parsed.status, 200);
  EXPECT_EQ(parsed.headers["transfer-encoding"], "chunked");
  EXPECT_FALSE(parsed.complete);  // and the server closed the connection
  EXPECT_LE(parsed.body.size(), big.size() / 2);
  EXPECT_TRUE(big.compare(0, parsed.body.size(), parsed.body) == 0);

  stop_after = 1000;  // less than a piece: nothing went out, the answer is an error
  received = send_and_read(port_, std::string(kGet) + "Connection: close\r\n\r\n");
  at = 0;
  parsed = parse_response(received, at);
  EXPECT_EQ(parsed.status, 500);
  EXPECT_NE(parsed.body.find("internal error"), std::string::npos);
}

TEST_F(HttpStreamTest, AClientThatDoesNotReadHoldsTheWorkerOnlyForAWhile) {
  // One worker. The first client asks for a body far bigger than the socket buffers and reads
  // nothing; once the worker has waited BodyPipe::kPatience for it, the rest of its body queues
  // and the worker serves the next client. The first client then reads its whole body.
  const std::string big = exposition_text(40'000'000);
  std::atomic<int> rendered{0};
  start(render_text([&](const ScrapeRequest&) {
          ++rendered;
          return std::string(big);
        }),
        /*max_requests=*/1);
  const int slow = connect_to(port_);
  ASSERT_GE(slow, 0);
  const std::string request = std::string(kGet) + "Connection: close\r\n\r\n";
  (void)!write(slow, request.data(), request.size());
  while (rendered == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the worker waits for it now
  const auto asked = Clock::now();
  std::string received;
  // 503 while the worker is busy with the first: asked again until it is free.
  for (int attempt = 0; attempt < 100; ++attempt) {
    received = send_and_read(port_, "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n");
    if (received.find(" 200 ") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double waited = std::chrono::duration<double>(Clock::now() - asked).count();
  EXPECT_NE(received.find(" 200 "), std::string::npos);
  EXPECT_LT(waited, 2 * std::chrono::duration<double>(http::BodyPipe::kPatience).count() + 3);

  std::string slow_received;
  char buffer[65536];
  for (ssize_t n; (n = read(slow, buffer, sizeof(buffer))) > 0;) {
    slow_received.append(buffer, static_cast<size_t>(n));
  }
  close(slow);
  size_t at = 0;
  Parsed parsed = parse_response(slow_received, at);
  EXPECT_EQ(parsed.status, 200);
  EXPECT_TRUE(parsed.complete);
  EXPECT_TRUE(parsed.body.compare(0, big.size(), big) == 0);
}

}  // namespace
}  // namespace thinpool
