#include "collectors/lvm_name.h"

namespace thinpool {
namespace {

// Takes one component off the front of `rest`, undoubling dashes, and advances `rest` past the
// separating dash. Mirrors lvm2's _unquote(): a dash as the very last character is kept.
std::string take_component(std::string_view& rest) {
  std::string out;
  size_t i = 0;
  for (; i < rest.size(); ++i) {
    if (rest[i] == '-' && i + 1 < rest.size()) {
      if (rest[i + 1] != '-') {
        break;
      }
      ++i;  // "--" -> "-"
    }
    out.push_back(rest[i]);
  }
  rest = i < rest.size() ? rest.substr(i + 1) : std::string_view();
  return out;
}

}  // namespace

LvmName split_lvm_name(std::string_view dm_name) {
  LvmName name;
  name.vg = take_component(dm_name);
  name.lv = take_component(dm_name);
  name.layer = take_component(dm_name);
  return name;
}

bool is_lvm_uuid(std::string_view uuid) {
  return uuid.starts_with("LVM-");
}

}  // namespace thinpool
