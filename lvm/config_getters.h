// Typed reads of LVM metadata settings shared by the VG and segment readers (vg_reader.cc,
// segment_reader.cc). Internal to collectors/lvm.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "lvm/config_parser.h"

namespace thinpool::lvm {

inline constexpr uint64_t kUint32Max = std::numeric_limits<uint32_t>::max();

// Moves the value of `value` into `out`, or returns its error:
//   if (auto error = assign(vg_.id, node.get_string("id"))) { return *error; }
template <typename T, typename U>
std::optional<Error> assign(T& out, Expected<U> value) {
  if (!value.ok()) {
    return value.error();
  }
  out = std::move(value.value());
  return std::nullopt;
}

inline Error with_context(std::string_view context, const Error& error) {
  return Error{fmt::format("{}: {}", context, error.message), error.kind};
}

// A uint setting that lvm2 keeps in 32 bits (seqno, extent counts, extent size).
inline Expected<uint64_t> get_uint32(const ConfigNode& node, std::string_view key) {
  Expected<uint64_t> value = node.get_uint(key);
  if (value.ok() && *value > kUint32Max) {
    return Error{fmt::format("{}/{}: {} does not fit in 32 bits", node.path, key, *value)};
  }
  return value;
}

// An optional setting: absent is fine, present with the wrong type is not.
inline Expected<std::optional<uint64_t>> get_optional_uint(const ConfigNode& node,
                                                           std::string_view key) {
  if (node.find(key) == nullptr) {
    return std::optional<uint64_t>();
  }
  Expected<uint64_t> value = node.get_uint(key);
  if (!value.ok()) {
    return value.error();
  }
  return std::optional<uint64_t>(*value);
}

inline Expected<std::string> get_optional_string(const ConfigNode& node, std::string_view key) {
  if (node.find(key) == nullptr) {
    return std::string();
  }
  return node.get_string(key);
}

}  // namespace thinpool::lvm
