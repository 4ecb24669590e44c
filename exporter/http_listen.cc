// The server's listening sockets: bound from --web.listen-address, or passed by systemd
// (--web.systemd-socket), and the open-files limit raised to fit the connection caps.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <boost/asio/ip/v6_only.hpp>
#include <cstring>

#include "exporter/http_internal.h"

namespace thinpool::http {

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  return address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), endpoint.port())
                         : fmt::format("{}:{}", address.to_string(), endpoint.port());
}

// A listening socket for `listen`: a host name is resolved and its first address used (IPv4
// first), as Go's net.Listen does; an empty host or "::" is every address, IPv6 and IPv4 on one
// socket, or every IPv4 address where the host has no IPv6.
Expected<tcp::acceptor> bind_listener(boost::asio::io_context& io, const ListenAddress& listen) {
  boost::system::error_code error;
  std::vector<tcp::endpoint> candidates;
  if (listen.host.empty() || listen.host == "::") {
    candidates = {tcp::endpoint(tcp::v6(), listen.port), tcp::endpoint(tcp::v4(), listen.port)};
  } else if (auto literal = asio::ip::make_address(listen.host, error); !error) {
    candidates = {tcp::endpoint(literal, listen.port)};
  } else {
    tcp::resolver resolver(io);
    auto results = resolver.resolve(listen.host, std::to_string(listen.port),
                                    tcp::resolver::numeric_service, error);
    if (error) {
      return Error{fmt::format("cannot listen on {}: {}", listen.text, error.message())};
    }
    for (const auto& result : results) {
      candidates.push_back(result.endpoint());
    }
    std::stable_sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
      return a.protocol() == tcp::v4() && b.protocol() != tcp::v4();
    });
    candidates.resize(std::min<size_t>(candidates.size(), 1));
  }
  for (size_t i = 0; i < candidates.size(); ++i) {
    const tcp::endpoint& endpoint = candidates[i];
    tcp::acceptor acceptor(io);
    error = {};
    acceptor.open(endpoint.protocol(), error);
    if (error && i + 1 < candidates.size()) {
      continue;  // no IPv6 on this host: every IPv4 address instead
    }
    if (!error && endpoint.protocol() == tcp::v6() && endpoint.address().is_unspecified()) {
      acceptor.set_option(asio::ip::v6_only(false), error);
    }
    if (!error) {
      acceptor.set_option(tcp::acceptor::reuse_address(true), error);
    }
    if (!error) {
      acceptor.bind(endpoint, error);
    }
    if (!error) {
      acceptor.listen(asio::socket_base::max_listen_connections, error);
    }
    if (!error) {
      return acceptor;
    }
    return Error{fmt::format("cannot listen on {}: {}", listen.text, error.message())};
  }
  return Error{fmt::format("cannot listen on {}: no address", listen.text)};
}

// The TCP sockets systemd passed (LISTEN_FDS); they are listening already.
Expected<std::vector<tcp::acceptor>> systemd_sockets(boost::asio::io_context& io) {
  const int count = sd_listen_fds(1);
  if (count < 0) {
    return Error{fmt::format("--web.systemd-socket: {}", std::strerror(-count))};
  }
  if (count == 0) {
    return Error{
        "--web.systemd-socket: systemd passed no sockets (LISTEN_FDS is not set for this "
        "process); start it from a .socket unit, or drop the flag"};
  }
  std::vector<tcp::acceptor> acceptors;
  for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + count; ++fd) {
    const bool v6 = sd_is_socket_inet(fd, AF_INET6, SOCK_STREAM, 1, 0) > 0;
    if (!v6 && sd_is_socket_inet(fd, AF_INET, SOCK_STREAM, 1, 0) <= 0) {
      return Error{
          fmt::format("--web.systemd-socket: file descriptor {} is not a listening TCP "
                      "socket (ListenStream= with an address or port)",
                      fd)};
    }
    boost::system::error_code error;
    tcp::acceptor acceptor(io);
    acceptor.assign(v6 ? tcp::v6() : tcp::v4(), fd, error);
    if (error) {
      return Error{
          fmt::format("--web.systemd-socket: file descriptor {}: {}", fd, error.message())};
    }
    acceptors.push_back(std::move(acceptor));
  }
  return acceptors;
}

// Room for every connection the caps allow, plus the exporter's own files (devices, PVs,
// sysfs): the soft limit of open files raised toward the hard one.
void raise_file_limit(int max_connections) {
  constexpr rlim_t kOwnFiles = 256;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return;
  }
  const rlim_t wanted = static_cast<rlim_t>(max_connections) + kOwnFiles;
  if (limit.rlim_cur >= wanted) {
    return;
  }
  const rlim_t old = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < wanted) {
    spdlog::warn(
        "open files: the limit is {} (hard limit {}), below --web.max-connections ({}) "
        "plus {} of the exporter's own; connections beyond it wait in the listen backlog. "
        "Raise LimitNOFILE= or lower --web.max-connections",
        limit.rlim_cur, limit.rlim_max, max_connections, kOwnFiles);
  }
  spdlog::debug("open files: soft limit {} -> {}", old, limit.rlim_cur);
}

}  // namespace thinpool::http
