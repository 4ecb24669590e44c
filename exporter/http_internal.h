// Inside the HTTP server (exporter/http_server.h): the state the listeners, the connections and
// the workers share. Included by http_server.cc, http_connection.cc and web_reload.cc only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "exporter/http_server.h"
#include "exporter/web_config.h"

namespace thinpool::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using Request = beast::http::request<beast::http::string_body>;
using Response = beast::http::response<beast::http::string_body>;
// The head of a response whose body follows in pieces (BodyPipe).
using ResponseHead = beast::http::response<beast::http::empty_body>;

// Where a connection stands. Only connections before kHandling (no complete request yet) may be
// closed to make room for a newcomer.
enum class Phase { kHandshake, kReading, kHandling, kWriting };

// The web config in use: what --web.config.file says, with the TLS context and the basic-auth
// check made from it. A connection keeps the one it started with.
struct WebState {
  std::shared_ptr<const WebConfig> config;    // never null (empty: plain, no auth)
  std::shared_ptr<asio::ssl::context> tls;    // null: plain HTTP
  std::shared_ptr<BasicAuthenticator> users;  // null: no authentication
};

// Builds a WebState from a parsed config; an error says what in the config does not load.
Expected<std::shared_ptr<const WebState>> make_web_state(std::shared_ptr<const WebConfig> config);

// --web.config.file, read again when it or a file it names changes (checked at most once a
// second, from the event thread). A config that does not read, parse or load, or that turns TLS
// on or off (which needs other listeners: a restart), keeps the last good one in use and is
// logged once.
class WebReloader {
 public:
  WebReloader(std::string path, std::shared_ptr<const WebState> initial);
  std::shared_ptr<const WebState> current();

 private:
  std::string fingerprint() const;
  std::string path_;
  std::shared_ptr<const WebState> state_;
  std::string fingerprint_;
  std::string failed_fingerprint_;  // of the files when they last failed to load: logged once
  std::chrono::steady_clock::time_point next_check_;
};

// Threads that run what may take long (a scrape, a bcrypt check), created as needed up to a
// maximum and kept. The server never gives it more tasks than it has threads.
class WorkerPool {
 public:
  explicit WorkerPool(int max_threads) : max_threads_(max_threads) {}
  ~WorkerPool();
  // Runs `task` on a worker (started while fewer than max_threads run); dropped once stopping.
  void post(std::function<void()> task);
  // Drops the tasks not started and returns once the running ones are done and every worker has
  // ended. The server calls it before its state goes away: a running task uses that state.
  void stop();

 private:
  void run();
  const int max_threads_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  int idle_ = 0;
  bool stopping_ = false;
};

// A response body that a worker renders while the event thread writes it to the client, piece by
// piece (HTTP/1.1 chunked transfer coding), so that a big scrape's text is never held whole. The
// worker waits while more than kUnwrittenBytes are not written yet, for at most kPatience in all
// per response: a client that reads slower than that holds the worker no longer, and the rest of
// its body queues here as a whole body would have.
class BodyPipe {
 public:
  static constexpr size_t kUnwrittenBytes = size_t{1024} * 1024;
  static constexpr std::chrono::milliseconds kPatience{1000};

  // `wake` has the event thread write what is ready (Connection::pump): called by a push when the
  // event thread has written everything before it, and at the end.
  explicit BodyPipe(std::function<void()> wake);

  // Worker side. False once the connection is gone: the piece is dropped, as every later one.
  bool push(std::string piece);
  // The last piece was pushed; `complete`: the body is whole (false: it must end as incomplete).
  void end(bool complete);

  // Event-thread side: every piece pushed since the last take (written as one chunk), or how the
  // body ended, or nothing yet.
  struct Next {
    enum class Kind { kNothing, kPieces, kEnd, kIncomplete };
    Kind kind = Kind::kNothing;
    std::vector<std::string> pieces;
  };
  Next take();
  void written(size_t bytes);  // pieces take() gave are written
  void close();  // the connection is gone: pieces are dropped, the worker waits no more

 private:
  const std::function<void()> wake_;
  const std::chrono::steady_clock::time_point patience_end_;
  std::mutex mutex_;
  std::condition_variable drained_;
  std::vector<std::string> pieces_;
  size_t unwritten_ = 0;         // pushed, not written yet
  bool patient_ = true;          // until the client kept the worker waiting kPatience
  bool worker_waiting_ = false;  // for unwritten_ to come down
  bool writer_idle_ = true;      // the event thread found nothing to write: a push wakes it
  bool ended_ = false;
  bool complete_ = false;
  bool closed_ = false;
};

class Connection;

// Listening sockets (http_listen.cc). An error names the address and the reason, e.g. "cannot
// listen on 127.0.0.1:9966: Address already in use".
Expected<tcp::acceptor> bind_listener(asio::io_context& io, const ListenAddress& listen);
Expected<std::vector<tcp::acceptor>> systemd_sockets(asio::io_context& io);
void raise_file_limit(int max_connections);
std::string endpoint_text(const tcp::endpoint& endpoint);

}  // namespace thinpool::http

namespace thinpool {

struct HttpServer::State {
  State(HttpConfig config_in, RenderMetrics render_in);
  ~State();

  // Event thread only: admits a new connection (closing the oldest connection without a complete
  // request at a cap; false: refused), forgets a closed one.
  bool admit(http::Connection& connection);
  void forget(http::Connection& connection);
  // A complete request of `connection`: answered here, or on a worker, or 503 when all
  // --web.max-requests are busy.
  void dispatch(const std::shared_ptr<http::Connection>& connection, http::Request request);
  // The response to `request` (on a worker: may check a password), or nullopt for a scrape of an
  // authorized client, which serve_metrics() answers.
  std::optional<http::Response> respond(const http::Request& request, const http::WebState& web);
  // A scrape for `connection` (on a worker): its body streamed as it is rendered once it is big
  // enough (GET over HTTP/1.1), else whole.
  void serve_metrics(const std::shared_ptr<http::Connection>& connection,
                     const http::Request& request, const http::WebState& web, bool head);
  // Sends a whole response (event thread): HEAD without its body.
  void finish(http::Connection& connection, http::Response response, bool head);
  http::Response plain_response(unsigned status, std::string body, const http::Request& request,
                                const http::WebState& web) const;
  void count(std::map<std::string, int64_t> HttpCounters::*which, const std::string& reason);
  void count_response(unsigned status);
  // Logs a reason connections are closed early at most once per 10 minutes, with how many.
  void note(const std::string& what);

  const HttpConfig config;
  const RenderMetrics render;
  boost::asio::io_context io{1};
  std::vector<http::tcp::acceptor> acceptors;
  std::unique_ptr<http::WebReloader> web_reloader;
  http::WorkerPool workers;
  std::thread event_thread;

  // Event thread only.
  std::list<http::Connection*> connections;  // in the order they arrived
  std::map<std::string, int> per_address;
  size_t peak_connections = 0;  // since memory was last given back
  int handling = 0;             // requests on workers
  struct Note {
    std::chrono::steady_clock::time_point last;
    int64_t since = 0;
  };
  std::map<std::string, Note> notes;

  mutable std::mutex counters_mutex;
  HttpCounters counters;
};

}  // namespace thinpool

namespace thinpool::http {

// One client connection, plain or TLS (http_connection.cc). Lives while an operation of its own
// or a worker's task holds it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  virtual ~Connection() = default;
  // Starts the TLS handshake (or the first read) under the request deadline.
  virtual void start() = 0;
  // Writes `response` (event thread), then reads the next request or closes.
  virtual void write(Response response) = 0;
  // Writes `head` (chunked), then `body`'s pieces as they come (pump), then the last chunk, and
  // reads the next request or closes; closes at once when the body ends incomplete.
  virtual void write_streamed(ResponseHead head, std::shared_ptr<BodyPipe> body) = 0;
  // Writes what the streamed body has ready (event thread; BodyPipe's wake-up).
  virtual void pump() = 0;
  // Closes the socket (event thread); operations in flight end with an error. Idempotent.
  void close(const char* reason = nullptr);

  Phase phase() const { return phase_; }
  const std::string& address() const { return address_; }
  std::shared_ptr<const WebState> web() const { return web_; }

  std::list<Connection*>::iterator position;  // in State::connections, while admitted
  bool admitted = false;

 protected:
  Connection(HttpServer::State& server, std::shared_ptr<const WebState> web, std::string address)
      : server_(server), web_(std::move(web)), address_(std::move(address)) {}
  virtual void close_socket() = 0;

  HttpServer::State& server_;
  std::shared_ptr<const WebState> web_;
  std::string address_;
  Phase phase_ = Phase::kHandshake;
  bool closed_ = false;
};

// A connection for `socket`, just accepted: TLS when `web` has a TLS context.
std::shared_ptr<Connection> make_connection(HttpServer::State& server, tcp::socket socket,
                                            std::shared_ptr<const WebState> web);

}  // namespace thinpool::http
