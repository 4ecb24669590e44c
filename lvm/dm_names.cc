#include "lvm/dm_names.h"

namespace thinpool::lvm {
namespace {

// Takes one component off the front of `rest`, undoubling dashes, and advances `rest` past the
// separating dash. Mirrors lvm2's _unquote(): a dash as the very last character is kept.
std::string take_component(std::string_view& rest) {
  // Find the end first, so that the component is built with at most one allocation (this runs
  // for every device on every scrape).
  size_t end = 0;
  size_t doubled = 0;
  while (end < rest.size()) {
    if (rest[end] == '-' && end + 1 < rest.size()) {
      if (rest[end + 1] != '-') {
        break;
      }
      ++doubled;
      ++end;  // "--" -> "-"
    }
    ++end;
  }
  std::string out;
  out.reserve(end - doubled);
  const std::string_view component = rest.substr(0, end);
  for (size_t pos = 0;;) {
    size_t pair = component.find("--", pos);
    if (pair == std::string_view::npos) {
      out.append(component.substr(pos));
      break;
    }
    out.append(component.substr(pos, pair + 1 - pos));
    pos = pair + 2;
  }
  rest = end < rest.size() ? rest.substr(end + 1) : std::string_view();
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

}  // namespace thinpool::lvm
