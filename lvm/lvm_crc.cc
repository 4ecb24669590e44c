#include "lvm/lvm_crc.h"

#include <array>

namespace thinpool::lvm {
namespace {

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) {
      c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    table[i] = c;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kTable = make_table();

}  // namespace

uint32_t lvm_crc(uint32_t initial, std::string_view bytes) {
  uint32_t crc = initial;
  for (const char ch : bytes) {
    crc = kTable[(crc ^ static_cast<uint8_t>(ch)) & 0xffu] ^ (crc >> 8);
  }
  return crc;
}

}  // namespace thinpool::lvm
