// One client connection: TLS handshake, reading a request, writing a response, each under the
// connection's own deadline (--web.request-timeout), all on the event thread. A request is handed
// to the server (HttpServer::State::dispatch) only once it is complete.
#include <array>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <optional>

#include "exporter/http_internal.h"

namespace thinpool::http {
namespace {

namespace bhttp = beast::http;

// The most a request's start line and headers may take, and its body (requests to this server
// have none; a small one is read and ignored).
constexpr size_t kHeaderLimit = size_t{16} * 1024;
constexpr uint64_t kBodyLimit = uint64_t{4} * 1024;

// The status that tells a client what was wrong with the request it sent, or 0 for a connection
// that ended or failed without a request to answer.
unsigned status_for(const beast::error_code& error, bool bytes_received) {
  if (error == bhttp::error::header_limit) {
    return 431;
  }
  if (error == bhttp::error::body_limit) {
    return 413;
  }
  if (error == beast::error::timeout) {
    return bytes_received ? 408 : 0;
  }
  if (error == bhttp::error::end_of_stream || error == boost::asio::error::operation_aborted ||
      error == boost::asio::error::connection_reset || error == boost::asio::error::eof ||
      error.category() == boost::asio::error::get_ssl_category() ||
      error == boost::asio::ssl::error::stream_truncated) {
    return 0;
  }
  return 400;  // malformed: bad method, target, version, field, chunk; cut off mid-request
}

// asio::async_write's completion condition, without asio's default cap of 64 KiB per system
// call: as much of a chunk as the socket takes at once, as Beast writes a whole body.
constexpr auto kWholeWrites = [](const beast::error_code& error, size_t /*written*/) -> size_t {
  return error ? 0 : size_t{1} << 30;
};

template <class Stream>
class Session final : public Connection {
 public:
  Session(HttpServer::State& server, beast::tcp_stream tcp, std::shared_ptr<const WebState> web,
          std::string address)
      : Connection(server, std::move(web), std::move(address)),
        tcp_(std::move(tcp)),
        deadline_(server.io) {
    if constexpr (!kTls) {
      stream_.emplace(std::move(tcp_));
    }
  }

  void start() override {
    if constexpr (kTls) {
      // The TLS state (OpenSSL's and asio's buffers, about 90 KiB) is made only once the client
      // sends something: until then an idle connection costs what a plain one does.
      phase_ = Phase::kHandshake;
      arm();
      tcp_.socket().async_wait(
          tcp::socket::wait_read,
          [self = shared()](const beast::error_code& error) { self->readable(error); });
    } else {
      read();
    }
  }

  void write_streamed(ResponseHead head, std::shared_ptr<BodyPipe> body) override {
    if (closed_) {
      body->close();
      return;
    }
    phase_ = Phase::kWriting;
    keep_alive_ = head.keep_alive();
    pipe_ = std::move(body);
    head_ = std::make_unique<ResponseHead>(std::move(head));
    head_serializer_ = std::make_unique<bhttp::response_serializer<bhttp::empty_body>>(*head_);
    arm();  // the whole response, as a whole body's write
    writing_ = true;
    bhttp::async_write_header(*stream_, *head_serializer_,
                              [self = shared()](const beast::error_code& error, size_t /*bytes*/) {
                                self->chunk_written(error, 0);
                              });
  }

  void pump() override {
    if (closed_ || !pipe_ || writing_) {
      return;  // a write in flight pumps again when it ends
    }
    if (timed_out_) {  // the deadline passed while the body was being rendered
      chunk_written(beast::error::timeout, 0);
      return;
    }
    BodyPipe::Next next = pipe_->take();
    switch (next.kind) {
      case BodyPipe::Next::Kind::kNothing:
        return;
      case BodyPipe::Next::Kind::kPieces: {
        // Every piece that came since the last write, as one chunk: one write, not one per piece.
        chunk_ = std::move(next.pieces);
        chunk_buffers_.clear();
        size_t bytes = 0;
        for (const std::string& piece : chunk_) {
          chunk_buffers_.emplace_back(piece.data(), piece.size());
          bytes += piece.size();
        }
        writing_ = true;
        asio::async_write(*stream_, bhttp::make_chunk(chunk_buffers_), kWholeWrites,
                          [self = shared(), bytes](const beast::error_code& error, size_t /*n*/) {
                            self->chunk_written(error, bytes);
                          });
        return;
      }
      case BodyPipe::Next::Kind::kEnd:
        writing_ = true;
        asio::async_write(*stream_, bhttp::make_chunk_last(),
                          [self = shared()](const beast::error_code& error, size_t /*bytes*/) {
                            self->writing_ = false;
                            self->end_stream();
                            self->written(error);
                          });
        return;
      case BodyPipe::Next::Kind::kIncomplete:
        // No last chunk: the client sees the body end early, a failed scrape, not a short one.
        server_.note("scrapes cut short: a collector failed after part of its series were sent");
        close();
        return;
    }
  }

  void write(Response response) override {
    if (closed_) {
      return;
    }
    phase_ = Phase::kWriting;
    keep_alive_ = response.keep_alive();
    response_ = std::make_unique<Response>(std::move(response));
    arm();
    bhttp::async_write(*stream_, *response_,
                       [self = shared()](const beast::error_code& error, size_t /*bytes*/) {
                         self->written(error);
                       });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  std::shared_ptr<Session> shared() {
    return std::static_pointer_cast<Session>(shared_from_this());
  }
  beast::tcp_stream& lowest() { return stream_ ? beast::get_lowest_layer(*stream_) : tcp_; }
  // The deadline of what the connection does now (handshake, request, response): when it
  // passes, the socket's operations are cancelled (the handler sees timed_out_), and the socket
  // stays open for a 408 where one is due. A deadline of its own rather than beast::tcp_stream's,
  // which closes the socket.
  void arm() {
    timed_out_ = false;
    deadline_.expires_after(std::chrono::milliseconds(server_.config.request_timeout_ms));
    deadline_.async_wait([self = shared(), armed = ++armed_](const beast::error_code& error) {
      if (!error && armed == self->armed_ && !self->closed_) {
        self->timed_out_ = true;
        beast::error_code ignored;
        self->lowest().socket().cancel(ignored);
      }
    });
  }
  void disarm() {
    ++armed_;
    deadline_.cancel();
  }
  // The error an operation ended with, a timeout when the deadline cancelled it.
  beast::error_code outcome(const beast::error_code& error) {
    disarm();
    return timed_out_ && error ? beast::error_code(beast::error::timeout) : error;
  }

  void readable(beast::error_code error) {
    if (error || closed_) {
      error = outcome(error);
      if (error == beast::error::timeout) {
        server_.count(&HttpCounters::timed_out, "idle");
      }
      close();
      return;
    }
    if constexpr (kTls) {
      // The handshake keeps the deadline that started with the connection.
      stream_.emplace(std::move(tcp_), *web_->tls);
      stream_->async_handshake(
          boost::asio::ssl::stream_base::server,
          [self = shared()](const beast::error_code& done) { self->handshaken(done); });
    }
  }

  void handshaken(beast::error_code error) {
    error = outcome(error);
    if (error) {
      if (error == beast::error::timeout) {
        server_.count(&HttpCounters::timed_out, "tls_handshake");
      }
      close();
      return;
    }
    if constexpr (kTls) {
      const auto& allowed = web_->config->tls->client_allowed_sans;
      if (!allowed.empty() && !client_sans_allowed(stream_->native_handle(), allowed)) {
        server_.count(&HttpCounters::refused, "client_san");
        server_.note("client certificates without an allowed subject alternative name refused");
        close();
        return;
      }
    }
    read();
  }

  void read() {
    phase_ = Phase::kReading;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    arm();
    bhttp::async_read(*stream_, buffer_, *parser_,
                      [self = shared()](const beast::error_code& error, size_t /*bytes*/) {
                        self->received(error);
                      });
  }

  void received(beast::error_code error) {
    error = outcome(error);
    if (closed_) {
      return;
    }
    if (error) {
      const bool partial = buffer_.size() > 0 || parser_->got_some();
      if (error == beast::error::timeout) {
        server_.count(&HttpCounters::timed_out, partial ? "request" : "idle");
      }
      const unsigned status = status_for(error, partial);
      if (status == 0) {
        close();
        return;
      }
      // A clear answer for what could not be read, then the connection closes: what follows
      // in the stream cannot be trusted to start a request.
      Request request;
      request.version(11);
      request.keep_alive(false);
      const char* text = status == 431   ? "request header fields too large\n"
                         : status == 413 ? "request body too large\n"
                         : status == 408 ? "request timeout: the request was not complete in time\n"
                                         : "bad request\n";
      Response response = server_.plain_response(status, text, request, *web_);
      response.keep_alive(false);
      response.prepare_payload();
      buffer_.clear();
      server_.count_response(status);
      write(std::move(response));
      return;
    }
    phase_ = Phase::kHandling;  // no deadline: the scrape has its own, the write will have one
    server_.dispatch(shared_from_this(), parser_->release());
  }

  void chunk_written(beast::error_code error, size_t bytes) {
    writing_ = false;
    chunk_.clear();
    if (error || closed_) {
      error = outcome(error);
      if (error == beast::error::timeout) {
        server_.count(&HttpCounters::timed_out, "response");
      }
      close();
      return;
    }
    pipe_->written(bytes);
    pump();
  }
  void end_stream() {
    if (pipe_) {
      pipe_->close();  // lets go of the wake-up, which holds this connection
      pipe_.reset();
    }
    head_serializer_.reset();
    head_.reset();
  }

  void written(beast::error_code error) {
    error = outcome(error);
    response_.reset();
    if (error) {
      if (error == beast::error::timeout) {
        server_.count(&HttpCounters::timed_out, "response");
      }
      close();
      return;
    }
    if (!keep_alive_) {
      linger();
      return;
    }
    read();
  }

  // The end of a connection the server closes: the write side first, then what the client still
  // sends is read and dropped until it closes too (or the deadline), so that unread bytes do not
  // make the kernel reset the connection and discard the response before the client reads it.
  void linger() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    phase_ = Phase::kReading;  // may make room for a newcomer
    arm();
    drain();
  }
  void drain() {
    lowest().socket().async_read_some(
        asio::buffer(drain_buffer_),
        [self = shared()](const beast::error_code& error, size_t /*bytes*/) {
          if (error || self->closed_) {
            self->disarm();
            self->close();
          } else {
            self->drain();
          }
        });
  }

  void close_socket() override {
    end_stream();
    disarm();
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  beast::tcp_stream tcp_;  // until stream_ is made from it
  std::optional<Stream> stream_;
  asio::steady_timer deadline_;
  uint64_t armed_ = 0;  // which arm() the pending wait belongs to
  bool timed_out_ = false;
  beast::flat_buffer buffer_{kHeaderLimit + kBodyLimit};
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::unique_ptr<Response> response_;
  // A streamed response: its head, the body's pipe, the chunk being written.
  std::unique_ptr<ResponseHead> head_;
  std::unique_ptr<bhttp::response_serializer<bhttp::empty_body>> head_serializer_;
  std::shared_ptr<BodyPipe> pipe_;
  std::vector<std::string> chunk_;
  std::vector<asio::const_buffer> chunk_buffers_;
  bool writing_ = false;
  bool keep_alive_ = false;
  std::array<char, 4096> drain_buffer_{};
};

}  // namespace

void Connection::close(const char* reason) {
  if (closed_) {
    return;
  }
  closed_ = true;
  if (reason != nullptr) {
    server_.count(&HttpCounters::evicted, reason);
  }
  close_socket();
  server_.forget(*this);
}

std::shared_ptr<Connection> make_connection(HttpServer::State& server, tcp::socket socket,
                                            std::shared_ptr<const WebState> web) {
  beast::error_code error;
  const tcp::endpoint peer = socket.remote_endpoint(error);
  std::string address = error ? std::string("unknown") : peer.address().to_string();
  socket.set_option(tcp::no_delay(true), error);
  if (web->tls) {
    using TlsStream = beast::ssl_stream<beast::tcp_stream>;
    return std::make_shared<Session<TlsStream>>(server, beast::tcp_stream(std::move(socket)),
                                                std::move(web), std::move(address));
  }
  return std::make_shared<Session<beast::tcp_stream>>(server, beast::tcp_stream(std::move(socket)),
                                                      std::move(web), std::move(address));
}

}  // namespace thinpool::http
