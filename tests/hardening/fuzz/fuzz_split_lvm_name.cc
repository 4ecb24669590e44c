// libFuzzer target: split_lvm_name() and is_lvm_uuid() on arbitrary names. A split name must
// not contain more characters than the input (the '--' escape only shrinks).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lvm/dm_names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view name(reinterpret_cast<const char*>(data), size);
  thinpool::lvm::LvmName split = thinpool::lvm::split_lvm_name(name);
  if (split.vg.size() + split.lv.size() + split.layer.size() > name.size()) {
    __builtin_trap();
  }
  (void)thinpool::lvm::is_lvm_uuid(name);
  return 0;
}
