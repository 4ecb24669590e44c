#include "collectors/device_mapper.h"

#include <fmt/format.h>

namespace thinpool {

std::string to_string(DeviceNumber dev) {
  return fmt::format("{}:{}", dev.major, dev.minor);
}

}  // namespace thinpool
