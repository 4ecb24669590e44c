// What one Prometheus scrape of our /metrics costs, without a process start: one process makes
// N sequential GETs, each on a new TCP connection (Prometheus keeps its connection, so this is
// the conservative side), reads the whole body and prints each request's wall time. The VM
// benchmark (tests/vm/scenarios/benchmark, whose prepare builds this file on the host) times it
// beside busybox wget, which pays a process start per scrape as lvm fullreport and dmsetup do.
//
// Usage: scrape_client PORT [REQUESTS] [--gzip]
//   --gzip  sends "Accept-Encoding: gzip" as Prometheus does, and checks the reply is gzip'd.
// Prints "request<TAB>microseconds<TAB>body bytes" per request, then "median<TAB>microseconds".
// Exits 1 if a request fails or the reply is not a 200 (with the reason on stderr).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

double now_us() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

// One GET of /metrics on a new connection; the whole reply (headers and body) into `reply`.
bool get_metrics(int port, bool gzip, std::string& reply, std::string& error) {
  reply.clear();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = std::string("connect: ") + std::strerror(errno);
    close(fd);
    return false;
  }
  std::string request =
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: scrape_client\r\n"
      "Accept: text/plain;version=0.0.4\r\nConnection: close\r\n";
  if (gzip) {
    request += "Accept-Encoding: gzip\r\n";
  }
  request += "\r\n";
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = write(fd, request.data() + sent, request.size() - sent);
    if (n <= 0) {
      error = std::string("write: ") + std::strerror(errno);
      close(fd);
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n == 0) {
      break;
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      error = std::string("read: ") + std::strerror(errno);
      close(fd);
      return false;
    }
    reply.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

// The body's size, or an error if the reply is not a complete 200 (gzip'd if asked).
bool check_reply(std::string_view reply, bool gzip, size_t& body_bytes, std::string& error) {
  const size_t end = reply.find("\r\n\r\n");
  if (end == std::string_view::npos || reply.substr(0, 12) != "HTTP/1.1 200") {
    error = "not a 200 reply: " + std::string(reply.substr(0, reply.find('\r')));
    return false;
  }
  std::string headers(reply.substr(0, end));
  std::transform(headers.begin(), headers.end(), headers.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (gzip && headers.find("content-encoding: gzip") == std::string::npos) {
    error = "asked for gzip, the reply is not gzip'd";
    return false;
  }
  body_bytes = reply.size() - end - 4;
  const size_t length_at = headers.find("content-length:");
  if (length_at != std::string::npos &&
      std::strtoull(headers.c_str() + length_at + 15, nullptr, 10) != body_bytes) {
    error = "the body is shorter or longer than its Content-Length";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  const bool gzip = std::find(args.begin(), args.end(), "--gzip") != args.end();
  args.erase(std::remove(args.begin(), args.end(), "--gzip"), args.end());
  if (args.empty() || args.size() > 2) {
    std::fprintf(stderr, "usage: %s PORT [REQUESTS] [--gzip]\n", argv[0]);
    return 2;
  }
  const int port = std::atoi(std::string(args[0]).c_str());
  const int requests = args.size() > 1 ? std::atoi(std::string(args[1]).c_str()) : 1;
  std::string reply;
  std::string error;
  std::vector<double> times;
  for (int i = 0; i < requests; ++i) {
    const double start = now_us();
    const bool ok = get_metrics(port, gzip, reply, error);
    const double elapsed = now_us() - start;
    size_t body_bytes = 0;
    if (!ok || !check_reply(reply, gzip, body_bytes, error)) {
      std::fprintf(stderr, "scrape_client: request %d: %s\n", i + 1, error.c_str());
      return 1;
    }
    times.push_back(elapsed);
    std::printf("request\t%.0f\t%zu\n", elapsed, body_bytes);
  }
  std::sort(times.begin(), times.end());
  if (!times.empty()) {
    std::printf("median\t%.0f\n", times[times.size() / 2]);
  }
  return 0;
}
