// The number and field helpers every parser of kernel and dmsetup text uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace thinpool {

// A whole decimal number without sign or blanks ("42"); nullopt for anything else ("", "4x",
// "-1", a value above 2^64 - 1).
std::optional<uint64_t> parse_u64(std::string_view text);

// Splits on runs of blanks (space, tab, newline); the kernel ends every status token with a space.
std::vector<std::string_view> split_fields(std::string_view text);

}  // namespace thinpool
