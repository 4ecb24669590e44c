// /metrics: a scrape rendered on a worker, its body written as it comes once it is big (a
// BodyPipe between the worker and the event thread), gzip'd as it comes when the client accepts
// it. A body of less than a piece goes whole, with its length, as every response did before.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "exporter/gzip.h"
#include "exporter/http_internal.h"

namespace thinpool {
namespace http {

BodyPipe::BodyPipe(std::function<void()> wake)
    : wake_(std::move(wake)), patience_end_(std::chrono::steady_clock::now() + kPatience) {}

bool BodyPipe::push(std::string piece) {
  std::unique_lock lock(mutex_);
  if (closed_) {
    return false;
  }
  unwritten_ += piece.size();
  pieces_.push_back(std::move(piece));
  if (std::exchange(writer_idle_, false)) {
    lock.unlock();
    wake_();
    lock.lock();
  }
  if (patient_ && !closed_ && unwritten_ > kUnwrittenBytes) {
    worker_waiting_ = true;
    if (!drained_.wait_until(lock, patience_end_,
                             [this] { return closed_ || unwritten_ <= kUnwrittenBytes; })) {
      patient_ = false;  // a slow reader: the rest queues, the worker goes on
    }
    worker_waiting_ = false;
  }
  return !closed_;
}

void BodyPipe::end(bool complete) {
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
    complete_ = complete;
    writer_idle_ = false;
  }
  wake_();
}

BodyPipe::Next BodyPipe::take() {
  std::lock_guard lock(mutex_);
  if (!pieces_.empty()) {
    Next next{Next::Kind::kPieces, std::move(pieces_)};
    pieces_.clear();
    return next;
  }
  if (ended_) {
    return {complete_ ? Next::Kind::kEnd : Next::Kind::kIncomplete, {}};
  }
  writer_idle_ = true;
  return {};
}

void BodyPipe::written(size_t bytes) {
  bool wake_worker = false;
  {
    std::lock_guard lock(mutex_);
    unwritten_ -= std::min(bytes, unwritten_);
    wake_worker = worker_waiting_ && unwritten_ <= kUnwrittenBytes;
  }
  if (wake_worker) {
    drained_.notify_all();
  }
}

void BodyPipe::close() {
  std::vector<std::string> dropped;  // freed unlocked
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    dropped.swap(pieces_);
    unwritten_ = 0;
  }
  drained_.notify_all();
}

}  // namespace http

namespace {

using http::Response;
namespace bhttp = boost::beast::http;

constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";
// The text a scrape hands over at a time (MetricWriter), and the least that goes out as a chunk:
// a body of less than a piece goes whole.
constexpr size_t kPieceBytes = size_t{256} * 1024;
constexpr size_t kLeastChunkBytes = size_t{32} * 1024;

// The body of one scrape's response as the scrape writes it: gzip'd when asked, held until it
// is a piece long, then streamed (GET over HTTP/1.1).
class MetricsBody {
 public:
  MetricsBody(HttpServer::State& server, std::shared_ptr<http::Connection> connection,
              Response response, bool gzip, bool may_stream)
      : server_(server),
        connection_(std::move(connection)),
        response_(std::move(response)),
        may_stream_(may_stream) {
    if (gzip) {
      gzip_.emplace();
      response_.set(bhttp::field::content_encoding, "gzip");
    }
  }

  // A piece of the text; what is left in `text` is dropped.
  void add(std::string& text) {
    if (may_stream_ && !pipe_ && text.size() >= kPieceBytes) {
      start();
    }
    if (gzip_) {
      if (Status status = gzip_->write(text, pending_); !status.ok()) {
        throw std::runtime_error(status.error().message);
      }
    } else if (pending_.empty()) {
      pending_.swap(text);  // no copy: the scrape takes new room (MetricWriter)
    } else {
      pending_.append(text);
    }
    if (pipe_ && pending_.size() >= kLeastChunkBytes) {
      pipe_->push(std::exchange(pending_, {}));
    }
  }

  // The body's end: the rest and the last chunk, or the whole response (500 when the text is not
  // whole). Frees the worker's slot.
  void end(bool complete, bool head) {
    if (gzip_ && complete) {
      if (Status status = gzip_->finish(pending_); !status.ok()) {
        spdlog::error("serving metrics failed: {}", status.error().message);
        complete = false;
      }
    }
    server_.count_response(complete || pipe_ ? 200 : 500);
    if (pipe_) {
      if (complete && !pending_.empty()) {
        pipe_->push(std::exchange(pending_, {}));
      }
      pipe_->end(complete);
      boost::asio::post(server_.io, [&server = server_] { --server.handling; });
      return;
    }
    Response response = std::move(response_);
    if (complete) {
      response.body() = std::move(pending_);
    } else {
      response.result(bhttp::status::internal_server_error);
      response.erase(bhttp::field::content_encoding);
      response.set(bhttp::field::content_type, "text/plain; charset=utf-8");
      response.body() = "internal error while collecting metrics\n";
    }
    response.prepare_payload();
    if (head) {
      response.body().clear();  // the headers say what GET would send
    }
    boost::asio::post(server_.io, [&server = server_, connection = std::move(connection_),
                                   response = std::move(response)]() mutable {
      --server.handling;  // the slot is free once the body is ready; writing it needs no worker
      connection->write(std::move(response));
    });
  }

 private:
  void start() {
    pipe_ = std::make_shared<http::BodyPipe>([&io = server_.io, connection = connection_] {
      boost::asio::post(io, [connection] { connection->pump(); });
    });
    http::ResponseHead head(std::move(response_.base()));
    head.chunked(true);
    boost::asio::post(server_.io,
                      [connection = connection_, head = std::move(head), pipe = pipe_]() mutable {
                        connection->write_streamed(std::move(head), std::move(pipe));
                      });
  }

  HttpServer::State& server_;
  std::shared_ptr<http::Connection> connection_;
  Response response_;  // its head, and its body while the body goes whole
  std::optional<GzipStream> gzip_;
  const bool may_stream_;
  std::shared_ptr<http::BodyPipe> pipe_;  // once streaming
  std::string pending_;                   // the body's bytes not handed on yet
};

}  // namespace

void HttpServer::State::serve_metrics(const std::shared_ptr<http::Connection>& connection,
                                      const http::Request& request, const http::WebState& web,
                                      bool head) {
  ScrapeRequest scrape;
  if (auto it = request.find("X-Prometheus-Scrape-Timeout-Seconds"); it != request.end()) {
    scrape.timeout_seconds = parse_scrape_timeout(it->value());
  }
  auto accept_encoding = request.find(bhttp::field::accept_encoding);
  const bool gzip = accept_encoding != request.end() && accepts_gzip(accept_encoding->value());
  Response response = plain_response(200, {}, request, web);
  response.set(bhttp::field::content_type, kExpositionContentType);
  response.set(bhttp::field::vary, "Accept-Encoding");
  // HEAD's headers say what GET would send, its length among them; HTTP/1.0 has no chunks.
  const bool may_stream = !head && request.version() >= 11;
  MetricsBody body(*this, connection, std::move(response), gzip, may_stream);
  bool complete = false;
  try {
    complete = render(scrape, may_stream ? kPieceBytes : SIZE_MAX,
                      [&body](std::string& text) { body.add(text); });
    if (complete) {
      std::string series;
      {
        std::lock_guard lock(counters_mutex);
        series = http_series(counters);
      }
      body.add(series);
    }
  } catch (const std::exception& e) {
    spdlog::error("serving metrics failed: {}", e.what());
    complete = false;
  }
  body.end(complete, head);
}

}  // namespace thinpool
