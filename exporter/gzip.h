// gzip (RFC 1952) of the /metrics body, made as the text comes: ISA-L's igzip at level 1, which
// compresses exposition text about 2.7 times as fast as libdeflate's level 1 (whole buffers only)
// and 6 times as fast as zlib's, to within 3% of libdeflate's size (BENCHMARKS.md).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace thinpool {

// One gzip member, its input given in pieces of any size. Each call appends to `out` the
// compressed bytes it has ready; finish() appends the rest and the trailer. About 370 KiB of
// compressor state while it lives.
class GzipStream {
 public:
  GzipStream();
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  Status write(std::string_view data, std::string& out);
  Status finish(std::string& out);

 private:
  Status compress(std::string_view data, bool last, std::string& out);
  struct State;
  std::unique_ptr<State> state_;
  bool finished_ = false;
};

// gzip of `data`.
Expected<std::string> gzip_compress(std::string_view data);

}  // namespace thinpool
