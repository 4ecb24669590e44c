// A Linux device number, as device-mapper tables and /sys/dev/block name devices: "254:3".
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace thinpool {

struct DeviceNumber {
  uint32_t major = 0;
  uint32_t minor = 0;
  friend bool operator==(const DeviceNumber&, const DeviceNumber&) = default;
  friend auto operator<=>(const DeviceNumber&, const DeviceNumber&) = default;
};

// "254:3", the form the kernel writes into table lines.
std::string to_string(DeviceNumber dev);

// "254:3" -> {254, 3}; an error quotes the text.
Expected<DeviceNumber> parse_device_number(std::string_view text);

}  // namespace thinpool

// For hash maps keyed by device: major and minor side by side, as the kernel's dev_t keeps them.
template <>
struct std::hash<thinpool::DeviceNumber> {
  size_t operator()(const thinpool::DeviceNumber& dev) const noexcept {
    return std::hash<uint64_t>{}((uint64_t{dev.major} << 32) | dev.minor);
  }
};
