#include "exporter/gzip.h"

#include <fmt/format.h>
#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace thinpool {

// The stream and the buffer its level needs (ISA-L leaves both to the caller); on the heap, 82 KiB
// and 276 KiB, one per body compressed.
struct GzipStream::State {
  isal_zstream stream{};
  std::array<uint8_t, ISAL_DEF_LVL1_DEFAULT> level_buffer{};
  std::array<uint8_t, size_t{64} * 1024> out{};  // compressed bytes before they are appended
};

GzipStream::GzipStream() : state_(std::make_unique<State>()) {
  isal_zstream& stream = state_->stream;
  isal_deflate_init(&stream);
  stream.level = 1;
  stream.level_buf = state_->level_buffer.data();
  stream.level_buf_size = state_->level_buffer.size();
  stream.gzip_flag = IGZIP_GZIP;
  stream.flush = NO_FLUSH;
}

GzipStream::~GzipStream() = default;

Status GzipStream::write(std::string_view data, std::string& out) {
  return compress(data, false, out);
}

Status GzipStream::finish(std::string& out) {
  return compress({}, true, out);
}

Status GzipStream::compress(std::string_view data, bool last, std::string& out) {
  if (finished_) {
    return Error{"gzip: the stream is already finished"};
  }
  isal_zstream& stream = state_->stream;
  stream.end_of_stream = last ? 1 : 0;
  do {
    // ISA-L counts input in 32 bits: a bigger piece goes in as several.
    const size_t piece = std::min<size_t>(data.size(), uint32_t{1} << 30);
    stream.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uint32_t>(piece);
    stream.end_of_stream = last && piece == data.size() ? 1 : 0;
    data.remove_prefix(piece);
    while (true) {
      stream.next_out = state_->out.data();
      stream.avail_out = static_cast<uint32_t>(state_->out.size());
      if (const int error = isal_deflate(&stream); error != COMP_OK) {
        return Error{fmt::format("gzip: ISA-L's deflate failed ({})", error)};
      }
      out.append(reinterpret_cast<const char*>(state_->out.data()),
                 state_->out.size() - stream.avail_out);
      const bool ended = stream.internal_state.state == ZSTATE_END;
      if (stream.avail_in == 0 && (stream.end_of_stream == 0 || ended)) {
        break;
      }
    }
  } while (!data.empty());
  finished_ = last;
  return {};
}

Expected<std::string> gzip_compress(std::string_view data) {
  std::string out;
  // Exposition text shrinks about 6x: room for a fourth, never written to beyond what is used.
  out.reserve(data.size() / 4 + 1024);
  GzipStream gzip;
  if (Status status = gzip.write(data, out); !status.ok()) {
    return status.error();
  }
  if (Status status = gzip.finish(out); !status.ok()) {
    return status.error();
  }
  return out;
}

}  // namespace thinpool
