// lvm2's checksum: CRC-32 (reflected polynomial 0xedb88320) started from a given value and
// with no final inversion, as lvm2's calc_crc() in lib/misc/crc.c. Every checksum on a PV
// (label sector, metadata area header, metadata text) starts from kLvmInitialCrc.
#pragma once

#include <cstdint>
#include <string_view>

namespace thinpool::lvm {

inline constexpr uint32_t kLvmInitialCrc = 0xf597a6cf;

// Continues the checksum `initial` over `bytes`. Chaining is allowed:
// lvm_crc(lvm_crc(kLvmInitialCrc, a), b) == lvm_crc(kLvmInitialCrc, a + b).
uint32_t lvm_crc(uint32_t initial, std::string_view bytes);

}  // namespace thinpool::lvm
