#include "base/device_number.h"

#include <fmt/format.h>

#include <cstdint>

#include "base/text.h"

namespace thinpool {

std::string to_string(DeviceNumber dev) {
  return fmt::format("{}:{}", dev.major, dev.minor);
}

Expected<DeviceNumber> parse_device_number(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Error::parse(fmt::format("\"{}\" is not <major>:<minor>", text));
  }
  auto major = parse_u64(text.substr(0, colon));
  auto minor = parse_u64(text.substr(colon + 1));
  if (!major || !minor || *major > UINT32_MAX || *minor > UINT32_MAX) {
    return Error::parse(fmt::format("\"{}\" is not <major>:<minor>", text));
  }
  return DeviceNumber{static_cast<uint32_t>(*major), static_cast<uint32_t>(*minor)};
}

}  // namespace thinpool
