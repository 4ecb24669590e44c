// The number and field helpers every parser of kernel and dmsetup text uses, and the HTML escaping
// of the exporter's pages.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace thinpool {

// A whole decimal number without sign or blanks ("42"); nullopt for anything else ("", "4x",
// "-1", a value above 2^64 - 1).
std::optional<uint64_t> parse_u64(std::string_view text);

// The fields of a line split on runs of blanks (space, tab, newline; the kernel ends every status
// token with a space), as views into it. Up to kInline fields are held without allocating: a
// status or table line is split on every scrape for every device, and a thin volume's has 2.
class Fields {
 public:
  static constexpr size_t kInline = 16;

  explicit Fields(std::string_view text);

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view operator[](size_t i) const { return all()[i]; }
  std::span<const std::string_view> all() const {
    return more_.empty() ? std::span<const std::string_view>(inline_.data(), size_)
                         : std::span<const std::string_view>(more_);
  }
  auto begin() const { return all().begin(); }
  auto end() const { return all().end(); }

 private:
  std::array<std::string_view, kInline> inline_;
  std::vector<std::string_view> more_;  // every field, once there are more than kInline
  size_t size_ = 0;
};

inline Fields split_fields(std::string_view text) {
  return Fields(text);
}

// `text` safe as HTML text and as a double-quoted attribute value: & < > " become &amp; &lt; &gt;
// &quot;; every other byte, ' and UTF-8 included, is kept (no page puts text in single quotes).
std::string html_escape(std::string_view text);

}  // namespace thinpool
