#include "base/text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace thinpool {
namespace {

std::vector<std::string> as_strings(const Fields& fields) {
  return {fields.begin(), fields.end()};
}

TEST(ParseU64, AcceptsOnlyAWholeUnsignedDecimal) {
  EXPECT_EQ(parse_u64("0"), 0u);
  EXPECT_EQ(parse_u64("42"), 42u);
  EXPECT_EQ(parse_u64("18446744073709551615"), UINT64_MAX);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "4x", "0x10", "18446744073709551616"}) {
    EXPECT_FALSE(parse_u64(bad).has_value()) << bad;
  }
}

TEST(SplitFields, SplitsOnRunsOfBlanks) {
  EXPECT_EQ(as_strings(split_fields("")), std::vector<std::string>{});
  EXPECT_EQ(as_strings(split_fields("   \t\n")), std::vector<std::string>{});
  EXPECT_EQ(as_strings(split_fields("0 -")), (std::vector<std::string>{"0", "-"}));
  // The kernel ends every status token with a space.
  EXPECT_EQ(as_strings(split_fields(" 1228800 1228799 ")),
            (std::vector<std::string>{"1228800", "1228799"}));
  EXPECT_EQ(as_strings(split_fields("a\t\tb\nc")), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(SplitFields, HoldsAnyNumberOfFields) {
  for (size_t count : {Fields::kInline - 1, Fields::kInline, Fields::kInline + 1, size_t{100}}) {
    std::string line;
    std::vector<std::string> expected;
    for (size_t i = 0; i < count; ++i) {
      // Not "f" + std::to_string(i): g++ 12 at -O3 warns on that (-Wrestrict, a false positive,
      // GCC bug 105329).
      expected.push_back(std::string("f").append(std::to_string(i)));
      line += expected.back() + (i % 2 == 0 ? " " : "  \t");
    }
    Fields fields = split_fields(line);
    ASSERT_EQ(fields.size(), count);
    EXPECT_EQ(as_strings(fields), expected) << count;
    EXPECT_EQ(fields[count - 1], expected.back());
    EXPECT_EQ(fields.all().size(), count);
  }
}

TEST(HtmlEscape, EscapesWhatEndsTextOrADoubleQuotedAttribute) {
  EXPECT_EQ(html_escape(""), "");
  EXPECT_EQ(html_escape("&"), "&amp;");
  EXPECT_EQ(html_escape("<"), "&lt;");
  EXPECT_EQ(html_escape(">"), "&gt;");
  EXPECT_EQ(html_escape("\""), "&quot;");
  // Every page quotes its attributes with ", so ' is kept.
  EXPECT_EQ(html_escape("'"), "'");
  // An entity already written is escaped again: the input is text, not HTML.
  EXPECT_EQ(html_escape("&amp;"), "&amp;amp;");
  EXPECT_EQ(html_escape("<a href=\"x\">it's</a>"), "&lt;a href=&quot;x&quot;&gt;it's&lt;/a&gt;");
  // UTF-8 passes byte for byte.
  EXPECT_EQ(html_escape("vg0-pool \u00e9\u2192\U0001f4be"), "vg0-pool \u00e9\u2192\U0001f4be");
  EXPECT_EQ(html_escape("caf\xc3\xa9 & th\xc3\xa9"), "caf\xc3\xa9 &amp; th\xc3\xa9");
}

}  // namespace
}  // namespace thinpool
