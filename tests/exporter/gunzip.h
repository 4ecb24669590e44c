// What zlib, a second implementation, makes of the exporter's gzip: the tests' check of it.
#pragma once

#include <zlib.h>

#include <string>
#include <vector>

namespace thinpool {

// The text of the gzip member `data`, and whether the member was complete, its trailer (CRC-32,
// length) right and nothing after it.
struct Inflated {
  std::string text;
  bool complete = false;
};

inline Inflated gunzip(const std::string& data) {
  z_stream stream{};
  inflateInit2(&stream, 15 + 16);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  Inflated inflated;
  std::vector<char> out(size_t{64} * 1024);
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    result = inflate(&stream, Z_NO_FLUSH);
    inflated.text.append(out.data(), out.size() - stream.avail_out);
  }
  inflated.complete = result == Z_STREAM_END && stream.avail_in == 0;
  inflateEnd(&stream);
  return inflated;
}

}  // namespace thinpool
