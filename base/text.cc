#include "base/text.h"

#include <charconv>

namespace thinpool {

std::optional<uint64_t> parse_u64(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n';
}

}  // namespace

Fields::Fields(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && is_blank(text[pos])) {
      ++pos;
    }
    size_t end = pos;
    while (end < text.size() && !is_blank(text[end])) {
      ++end;
    }
    if (end == pos) {
      break;
    }
    const std::string_view field = text.substr(pos, end - pos);
    if (size_ < kInline) {
      inline_[size_] = field;
    } else {
      if (more_.empty()) {
        more_.assign(inline_.begin(), inline_.end());
      }
      more_.push_back(field);
    }
    ++size_;
    pos = end;
  }
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace thinpool
