// libFuzzer target: parse_thin_table() on arbitrary text must return a value or an Error, never
// crash, read out of bounds or hit undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "thin/thin_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed =
      thinpool::parse_thin_table(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok() && parsed.error().message.empty()) {
    __builtin_trap();  // every error must say what was wrong
  }
  return 0;
}
