// The server: listening sockets, admission of connections under the caps, and what each complete
// request gets (exporter/http_server.h). The connections themselves are in http_connection.cc.
#include "exporter/http_server.h"

#include <fmt/format.h>
#include <malloc.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/version.hpp>

#include "exporter/http_internal.h"

namespace thinpool {
namespace {

using http::Request;
using http::Response;
namespace bhttp = boost::beast::http;

}  // namespace

namespace http {

WorkerPool::~WorkerPool() {
  stop();
}

void WorkerPool::stop() {
  std::deque<std::function<void()>> dropped;  // destroyed after the workers ended, unlocked
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    dropped.swap(tasks_);
  }
  ready_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) {
      thread.join();
    }
  }
}

void WorkerPool::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      return;
    }
    tasks_.push_back(std::move(task));
    if (idle_ == 0 && static_cast<int>(threads_.size()) < max_threads_) {
      threads_.emplace_back([this] { run(); });
      return;
    }
  }
  ready_.notify_one();  // unlocked: the worker it wakes takes the mutex without waiting for it
}

void WorkerPool::run() {
  pthread_setname_np(pthread_self(), "thinpool-http");
  std::unique_lock lock(mutex_);
  while (true) {
    ++idle_;
    ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
    --idle_;
    if (tasks_.empty()) {
      return;  // stopping
    }
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace http

HttpServer::State::State(HttpConfig config_in, RenderMetrics render_in)
    : config(std::move(config_in)), render(std::move(render_in)), workers(config.max_requests) {}

HttpServer::State::~State() = default;

void HttpServer::State::count(std::map<std::string, int64_t> HttpCounters::*which,
                              const std::string& reason) {
  std::lock_guard lock(counters_mutex);
  ++(counters.*which)[reason];
}

void HttpServer::State::count_response(unsigned status) {
  std::lock_guard lock(counters_mutex);
  ++counters.responses[static_cast<int>(status)];
}

void HttpServer::State::note(const std::string& what) {
  Note& note = notes[what];
  ++note.since;
  const auto now = std::chrono::steady_clock::now();
  if (note.since == 1 || now - note.last >= std::chrono::minutes(10)) {
    spdlog::warn("http: {} ({} since the last such line; thinpool_http_connections_* count them)",
                 what, note.since);
    note.last = now;
    note.since = 0;
  }
}

bool HttpServer::State::admit(http::Connection& connection) {
  // The oldest connection (of `address`, or of any) that has no complete request yet.
  auto evict_oldest = [&](const std::string* address, const char* reason) {
    for (http::Connection* open : connections) {
      if ((address == nullptr || open->address() == *address) &&
          (open->phase() == http::Phase::kHandshake || open->phase() == http::Phase::kReading)) {
        open->close(reason);
        note(fmt::format("connections closed to make room ({})", reason));
        return true;
      }
    }
    return false;
  };
  const std::string& address = connection.address();
  if (per_address[address] >= config.max_connections_per_ip &&
      !evict_oldest(&address, "per_ip_limit")) {
    count(&HttpCounters::refused, "per_ip_limit");
    note("connections refused: every connection of one client address is being served");
    return false;
  }
  if (static_cast<int>(connections.size()) >= config.max_connections &&
      !evict_oldest(nullptr, "limit")) {
    count(&HttpCounters::refused, "limit");
    note("connections refused: every open connection is being served");
    return false;
  }
  connection.position = connections.insert(connections.end(), &connection);
  connection.admitted = true;
  ++per_address[address];
  peak_connections = std::max(peak_connections, connections.size());
  std::lock_guard lock(counters_mutex);
  counters.open_connections = static_cast<int64_t>(connections.size());
  return true;
}

void HttpServer::State::forget(http::Connection& connection) {
  if (!connection.admitted) {
    return;
  }
  connection.admitted = false;
  connections.erase(connection.position);
  if (auto it = per_address.find(connection.address());
      it != per_address.end() && --it->second <= 0) {
    per_address.erase(it);
  }
  // Once a crowd has left, its connections' memory goes back to the system: glibc keeps freed heap
  // pages otherwise (measured: 128 MiB kept after 1,024 TLS connections closed).
  constexpr size_t kCrowd = 256;
  if (peak_connections >= kCrowd && connections.size() * 4 < peak_connections) {
    malloc_trim(0);
    peak_connections = connections.size();
  }
  std::lock_guard lock(counters_mutex);
  counters.open_connections = static_cast<int64_t>(connections.size());
}

Response HttpServer::State::plain_response(unsigned status, std::string body,
                                           const Request& request,
                                           const http::WebState& web) const {
  Response response{static_cast<bhttp::status>(status), request.version()};
  response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  for (const auto& [name, value] : web.config->headers) {
    response.set(name, value);
  }
  response.body() = std::move(body);
  response.keep_alive(request.keep_alive());
  return response;
}

std::optional<Response> HttpServer::State::respond(const Request& request,
                                                   const http::WebState& web) {
  auto header = [&](bhttp::field field) {
    auto it = request.find(field);
    return it == request.end() ? std::string() : std::string(it->value());
  };
  if (web.users) {
    std::string authorization = header(bhttp::field::authorization);
    if (!web.users->authorize(authorization.empty() ? nullptr : authorization.c_str())) {
      Response response = plain_response(401, "Unauthorized\n", request, web);
      response.set(bhttp::field::www_authenticate, "Basic realm=\"thinpool_exporter\"");
      return response;
    }
  }
  std::string_view target = request.target();
  target = target.substr(0, target.find('?'));
  if (target == config.telemetry_path) {
    return std::nullopt;  // serve_metrics()
  }
  if (target == "/" || target == "/runbook") {
    Response response = plain_response(
        200, target == "/" ? config.landing_page_html : std::string(runbook_page()), request, web);
    response.set(bhttp::field::content_type, "text/html; charset=utf-8");
    return response;
  }
  if (target == "/-/healthy" || target == "/-/ready") {
    return plain_response(200, "OK\n", request, web);
  }
  return plain_response(
      404, fmt::format("404 page not found; metrics are at {}\n", config.telemetry_path), request,
      web);
}

void HttpServer::State::finish(http::Connection& connection, Response response, bool head) {
  response.prepare_payload();
  if (head) {
    response.body().clear();  // the headers say what GET would send
  }
  count_response(response.result_int());
  connection.write(std::move(response));
}

void HttpServer::State::dispatch(const std::shared_ptr<http::Connection>& connection,
                                 Request request) {
  const std::shared_ptr<const http::WebState> web = connection->web();
  const bool head = request.method() == bhttp::verb::head;
  if (request.method() != bhttp::verb::get && !head) {
    Response response = plain_response(405, "method not allowed: use GET or HEAD\n", request, *web);
    response.set(bhttp::field::allow, "GET, HEAD");
    finish(*connection, std::move(response), false);
    return;
  }
  std::string_view target = request.target();
  target = target.substr(0, target.find('?'));
  if (!web->users && target != config.telemetry_path) {
    finish(*connection, *respond(request, *web), head);  // a constant page: no worker needed
    return;
  }
  if (handling >= config.max_requests) {
    Response response =
        plain_response(503,
                       fmt::format("too many requests at once (--web.max-requests={}); try again\n",
                                   config.max_requests),
                       request, *web);
    response.set(bhttp::field::retry_after, "1");
    finish(*connection, std::move(response), head);
    return;
  }
  ++handling;
  // The worker's copy of the connection goes on to the event thread with the body, so that the
  // connection is let go there.
  workers.post([this, connection = std::shared_ptr<http::Connection>(connection), web, head,
                request = std::move(request)]() mutable {
    std::optional<Response> response = respond(request, *web);
    if (!response) {
      serve_metrics(connection, request, *web, head);  // frees the slot when it is done
      return;
    }
    boost::asio::post(io, [this, connection = std::move(connection), head,
                           response = std::move(*response)]() mutable {
      --handling;  // the slot is free once the body is ready; writing it needs no worker
      finish(*connection, std::move(response), head);
    });
  });
}

namespace {

void accept_next(HttpServer::State& state, http::tcp::acceptor& acceptor) {
  acceptor.async_accept(
      [&state, &acceptor](const boost::system::error_code& error, http::tcp::socket socket) {
        if (error == boost::asio::error::operation_aborted) {
          return;  // shutting down
        }
        if (error) {
          // Out of file descriptors (EMFILE, ENFILE) or memory: the connection stays in the
          // backlog; try again shortly rather than spinning.
          state.note(fmt::format("accept failed: {}", error.message()));
          auto timer = std::make_shared<boost::asio::steady_timer>(state.io);
          timer->expires_after(std::chrono::milliseconds(100));
          timer->async_wait([&state, &acceptor, timer](const boost::system::error_code& waited) {
            if (!waited) {
              accept_next(state, acceptor);
            }
          });
          return;
        }
        std::shared_ptr<const http::WebState> web = state.web_reloader->current();
        std::shared_ptr<http::Connection> connection =
            http::make_connection(state, std::move(socket), std::move(web));
        if (state.admit(*connection)) {
          connection->start();
        }
        accept_next(state, acceptor);
      });
}

}  // namespace

Expected<std::unique_ptr<HttpServer>> HttpServer::start(const HttpConfig& config,
                                                        RenderMetrics render_metrics) {
  std::unique_ptr<HttpServer> server(new HttpServer());
  auto state = std::make_shared<State>(config, std::move(render_metrics));
  auto web = http::make_web_state(config.web_config ? config.web_config
                                                    : std::make_shared<const WebConfig>());
  if (!web) {
    return web.error();
  }
  state->web_reloader =
      std::make_unique<http::WebReloader>(config.web_config_file, std::move(*web));
  if (config.systemd_socket) {
    auto passed = http::systemd_sockets(state->io);
    if (!passed) {
      return passed.error();
    }
    state->acceptors = std::move(*passed);
  } else {
    for (const ListenAddress& listen : config.listen) {
      auto acceptor = http::bind_listener(state->io, listen);
      if (!acceptor) {
        return acceptor.error();
      }
      state->acceptors.push_back(std::move(*acceptor));
    }
  }
  http::raise_file_limit(config.max_connections);
  for (http::tcp::acceptor& acceptor : state->acceptors) {
    accept_next(*state, acceptor);
  }
  state->event_thread = std::thread([raw = state.get()] {
    pthread_setname_np(pthread_self(), "thinpool-events");
    auto guard = boost::asio::make_work_guard(raw->io);
    raw->io.run();
  });
  server->state_ = std::move(state);
  return server;
}

HttpServer::~HttpServer() {
  if (!state_) {
    return;
  }
  State& state = *state_;
  boost::asio::post(state.io, [&state] {
    for (http::tcp::acceptor& acceptor : state.acceptors) {
      boost::system::error_code ignored;
      acceptor.close(ignored);
    }
    while (!state.connections.empty()) {
      state.connections.front()->close();
    }
    state.io.stop();
  });
  state.event_thread.join();
  // Requests still being answered on workers (a scrape in progress when SIGTERM came) use the
  // state's counters and connections: they finish before any of it is destroyed.
  state.workers.stop();
}

std::vector<int> HttpServer::ports() const {
  std::vector<int> ports;
  for (const auto& acceptor : state_->acceptors) {
    boost::system::error_code error;
    ports.push_back(acceptor.local_endpoint(error).port());
  }
  return ports;
}

std::vector<std::string> HttpServer::bound_addresses() const {
  std::vector<std::string> addresses;
  for (const auto& acceptor : state_->acceptors) {
    boost::system::error_code error;
    addresses.push_back(http::endpoint_text(acceptor.local_endpoint(error)));
  }
  return addresses;
}

HttpCounters HttpServer::counters() const {
  std::lock_guard lock(state_->counters_mutex);
  return state_->counters;
}

}  // namespace thinpool
