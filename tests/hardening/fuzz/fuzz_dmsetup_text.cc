// libFuzzer target: FakeDeviceMapper::from_dmsetup_text() on arbitrary captures, then every call
// the collectors make on the result. The input is the three files (info, table, status) joined
// by NUL bytes; seeds are made from tests/fixtures/*/ by make_seeds.sh.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dm/fake_device_mapper.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3];
  for (int i = 0; i < 2; ++i) {
    size_t nul = input.find('\0');
    if (nul == std::string_view::npos) {
      parts[i] = input;
      input = {};
      break;
    }
    parts[i] = input.substr(0, nul);
    input.remove_prefix(nul + 1);
  }
  parts[2] = input;
  auto fake = thinpool::FakeDeviceMapper::from_dmsetup_text(parts[0], parts[1], parts[2]);
  if (!fake.ok()) {
    return 0;
  }
  auto devices = fake->list_devices();
  if (devices.ok()) {
    for (const auto& device : *devices) {
      (void)fake->status(device);
      (void)fake->table(device);
    }
  }
  (void)thinpool::unmangle_dm_name(parts[0]);
  (void)thinpool::parse_target_line(parts[1]);
  return 0;
}
