// Table-driven tests of the LVM text format parser: accepted forms (compared as a compact dump
// of the tree), malformed input (compared by the error's position and wording), truncation of
// real metadata at every byte.
#include "lvm/config_parser.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace thinpool::lvm {
namespace {

std::string read_testdata(const std::string& name) {
  std::ifstream in(std::string(THINPOOL_LVM_TESTDATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string dump_scalar(const ConfigScalar& scalar) {
  if (const auto* i = std::get_if<int64_t>(&scalar)) {
    return std::to_string(*i);
  }
  if (const auto* d = std::get_if<double>(&scalar)) {
    return fmt::format("{}f", *d);
  }
  return "\"" + std::get<std::string>(scalar) + "\"";
}

// a=1;s{b=[1,"x"];}  — keys, values and nesting, nothing else.
std::string dump(const ConfigNode& node) {
  std::string out;
  for (const ConfigNode& child : node.children) {
    out += child.key;
    if (child.is_section()) {
      // Appended piece by piece: g++ 12 at -O3 warns (-Wrestrict, a false positive, GCC bug 105329)
      // on "{" + std::string&&.
      out += '{';
      out += dump(child);
      out += '}';
      continue;
    }
    out += "=";
    if (child.value->is_array) {
      out += "[";
      for (size_t i = 0; i < child.value->items.size(); ++i) {
        if (i > 0) {
          out += ',';
        }
        out += dump_scalar(child.value->items[i]);
      }
      out += "]";
    } else {
      out += dump_scalar(child.value->items.at(0));
    }
    out += ";";
  }
  return out;
}

struct ValidCase {
  std::string name;
  std::string input;
  std::string expected;
};

void PrintTo(const ValidCase& c, std::ostream* os) {
  *os << c.name;
}

class ParserAccepts : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ParserAccepts, BuildsTree) {
  Expected<ConfigNode> tree = parse_config(GetParam().input);
  ASSERT_TRUE(tree.ok()) << tree.error().message;
  EXPECT_EQ(dump(*tree), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, ParserAccepts,
    ::testing::Values(
        ValidCase{"empty", "", ""}, ValidCase{"only_comments", "# nothing\n   # here\n", ""},
        ValidCase{"integer", "a = 1", "a=1;"}, ValidCase{"negative", "a = -5", "a=-5;"},
        ValidCase{"plus_sign", "a = +5", "a=5;"},
        ValidCase{"int64_max", "a = 9223372036854775807", "a=9223372036854775807;"},
        ValidCase{"int64_min", "a = -9223372036854775808", "a=-9223372036854775808;"},
        ValidCase{"zero", "a = 0", "a=0;"}, ValidCase{"float", "a = 1.5", "a=1.5f;"},
        ValidCase{"float_leading_dot", "a = .5", "a=0.5f;"},
        ValidCase{"string", "a = \"x y\"", "a=\"x y\";"},
        ValidCase{"escaped_quote", R"(a = "say \"hi\"")", "a=\"say \"hi\"\";"},
        ValidCase{"escaped_backslash", R"(a = "c:\\dir")", "a=\"c:\\dir\";"},
        ValidCase{"other_backslash_kept", R"(a = "\n")", "a=\"\\n\";"},
        ValidCase{"single_quotes_no_escapes", R"(a = 'it\')", "a=\"it\\\";"},
        ValidCase{"hash_in_string", "a = \"#not a comment\" # comment", "a=\"#not a comment\";"},
        ValidCase{"newline_in_string", "a = \"two\nlines\"", "a=\"two\nlines\";"},
        ValidCase{"bare_value", "a = linear", "a=\"linear\";"},
        ValidCase{"no_spaces", "a=1 b=\"x\"", "a=1;b=\"x\";"},
        ValidCase{"empty_array", "flags = []", "flags=[];"},
        ValidCase{"array", "a = [\"x\", 1, 2.5]", "a=[\"x\",1,2.5f];"},
        ValidCase{"array_multiline", "stripes = [\n\t\"pv0\", 0,\n\t\"pv1\", 0\n]",
                  "stripes=[\"pv0\",0,\"pv1\",0];"},
        ValidCase{"array_no_commas", "a = [\"x\" \"y\" 3]", "a=[\"x\",\"y\",3];"},
        ValidCase{"array_trailing_comma", "a = [1, 2,]", "a=[1,2];"},
        ValidCase{"array_with_comments", "a = [ # first\n 1, # one\n 2 ]", "a=[1,2];"},
        ValidCase{"section", "vg0 { a = 1 }", "vg0{a=1;}"},
        ValidCase{"section_no_space", "vg0{a=1}", "vg0{a=1;}"},
        ValidCase{"empty_section", "s { }", "s{}"},
        ValidCase{"nested", "a { b { c { d = 1 } } }", "a{b{c{d=1;}}}"},
        ValidCase{"numeric_key", "1 { 2 = 3 }", "1{2=3;}"},
        ValidCase{"quoted_key", "\"odd key\" = 1", "odd key=1;"},
        ValidCase{"path_key", "a/b = 1", "a{b=1;}"},
        ValidCase{"path_key_merges", "a { c = 2 } a/b = 1", "a{c=2;b=1;}"},
        ValidCase{"section_merge", "a { x = 1 } a { y = 2 }", "a{x=1;y=2;}"},
        ValidCase{"last_value_wins", "a = 1 a = 2", "a=2;"},
        ValidCase{"case_sensitive", "A = 1 a = 2", "A=1;a=2;"},
        ValidCase{"nul_ends_input", std::string("a = 1\n\0garbage {{{", 18), "a=1;"},
        ValidCase{"crlf", "a = 1\r\nb = 2\r\n", "a=1;b=2;"},
        ValidCase{"comment_without_newline", "a = 1 # end", "a=1;"}),
    [](const ::testing::TestParamInfo<ValidCase>& param_info) { return param_info.param.name; });

struct InvalidCase {
  std::string name;
  std::string input;
  std::string expected_error;  // a substring of the message
};

void PrintTo(const InvalidCase& c, std::ostream* os) {
  *os << c.name;
}

class ParserRejects : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(ParserRejects, WithPositionAndQuote) {
  Expected<ConfigNode> tree = parse_config(GetParam().input);
  ASSERT_FALSE(tree.ok()) << "parsed as " << dump(*tree);
  EXPECT_NE(tree.error().message.find(GetParam().expected_error), std::string::npos)
      << tree.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, ParserRejects,
    ::testing::Values(
        InvalidCase{"missing_equals", "vg0 {\n\tid \"x\"\n}",
                    "parse error at 2:5: expected '=' or '{' after key \"id\", found string "
                    "\"x\": \"\tid \\\"x\\\"\""},
        InvalidCase{"missing_value", "a =\n}", "2:1: expected a value after \"a =\", found '}'"},
        InvalidCase{"value_at_end", "a =",
                    "1:4: expected a value after \"a =\", found end of "
                    "input"},
        InvalidCase{"unclosed_section", "vg0 {\n\ta = 1\n",
                    "3:1: unexpected end of input: section \"vg0\" opened at 1:1 is not closed"},
        InvalidCase{"unclosed_nested", "a {\n b {\n",
                    "section \"a/b\" opened at 2:2 is not closed"},
        InvalidCase{"stray_close", "a = 1\n}", "2:1: unexpected '}' outside any section"},
        InvalidCase{"unclosed_array", "a = [1,\n2", "array \"a\" opened at 1:5 is not closed"},
        InvalidCase{"unterminated_string", "a = \"abc\n\n", "1:5: unterminated string"},
        InvalidCase{"escaped_closing_quote", R"(a = "abc\")", "unterminated string"},
        InvalidCase{"unterminated_single", "a = 'abc", "unterminated string"},
        InvalidCase{"leading_comma", "a = [,1]",
                    "expected an array item or ']' in \"a\", found "
                    "','"},
        InvalidCase{"double_comma", "a = [1,,2]", "found ','"},
        InvalidCase{"section_in_array", "a = [ { ]", "found '{'"},
        InvalidCase{"equals_as_key", "= 1", "1:1: expected a key or '}', found '='"},
        InvalidCase{"array_as_key", "[a] = 1", "expected a key or '}', found '['"},
        InvalidCase{"number_with_letters", "a = 12ab", "1:5: malformed number \"12ab\""},
        InvalidCase{"lonely_minus", "a = -", "malformed number \"-\""},
        InvalidCase{"two_dots", "a = 1.2.3", "malformed number \"1.2.3\""},
        InvalidCase{"leading_zero", "a = 010", "has a leading zero (lvm2 would read it as octal)"},
        InvalidCase{"overflow", "a = 9223372036854775808", "is out of range"},
        InvalidCase{"underflow", "a = -9223372036854775809", "is out of range"},
        InvalidCase{"huge", "a = 99999999999999999999999", "is out of range"},
        InvalidCase{"section_then_value", "a { } a = 1", "\"a\" is used both as a section"},
        InvalidCase{"value_then_section", "a = 1 a { }", "\"a\" is used both as a section"},
        InvalidCase{"path_through_value", "a = 1 a/b = 2", "\"a\" is used both as a section"},
        InvalidCase{"empty_key", "\"\" = 1", "empty key"},
        InvalidCase{"slash_key", "/ = 1", "empty key"},
        InvalidCase{"control_bytes_quoted", "a = 1\n\x01\x02 x", "\\x01\\x02"},
        InvalidCase{"key_without_value", "vg0",
                    "1:4: expected '=' or '{' after key \"vg0\", found end of input"}),
    [](const ::testing::TestParamInfo<InvalidCase>& param_info) { return param_info.param.name; });

TEST(Parser, RejectsNestingDeeperThanTheLimit) {
  std::string deep;
  for (int i = 0; i < 100; ++i) {
    deep += "s {";
  }
  Expected<ConfigNode> tree = parse_config(deep);
  ASSERT_FALSE(tree.ok());
  EXPECT_NE(tree.error().message.find("nested deeper than 64"), std::string::npos)
      << tree.error().message;
}

TEST(Parser, QuotesLongLinesAroundTheColumn) {
  const std::string line = "key = " + std::string(200, 'x') + " }";
  Expected<ConfigNode> tree = parse_config(line);
  ASSERT_FALSE(tree.ok());
  EXPECT_NE(tree.error().message.find("1:208"), std::string::npos) << tree.error().message;
  EXPECT_NE(tree.error().message.find("\"...xxx"), std::string::npos) << tree.error().message;
  EXPECT_LT(tree.error().message.size(), 200u);
}

// A section with many items finds them through an index (config_parser.cc), grown as the items
// come: merging, a value set again and a path key into the section behave as with a few.
TEST(Parser, MergesAndReplacesAmongManyItemsAsAmongFew) {
  std::string text = "big {\n";
  for (int i = 0; i < 500; ++i) {
    text += fmt::format("k{} = {}\n", i, i);
    if (i % 50 == 49) {
      // Set again, after the index grew past it: the last value wins, in its first place.
      text += fmt::format("k{} = {}\n", i - 40, 1000 + i);
      // A section named again: merged into the first.
      text += fmt::format("s{} {{ item{} = 1 }}\n", i % 3, i);
    }
  }
  text += "}\nbig/k7 = 7007\nbig/s1/extra = 2\n";
  Expected<ConfigNode> tree = parse_config(text);
  ASSERT_TRUE(tree.ok()) << tree.error().message;
  const ConfigNode* big = tree->find("big");
  ASSERT_NE(big, nullptr);
  ASSERT_EQ(big->children.size(), 503u);  // k0..k499, s0, s1, s2
  for (int i = 0; i < 500; ++i) {
    const std::string key = fmt::format("k{}", i);
    const ConfigNode* item = big->find(key);
    ASSERT_NE(item, nullptr) << key;
    const int expected = i == 7 ? 7007 : (i + 40) % 50 == 49 ? 1000 + i + 40 : i;
    Expected<int64_t> value = big->get_int(key);
    ASSERT_TRUE(value.ok()) << value.error().message;
    EXPECT_EQ(*value, expected) << key;
  }
  EXPECT_EQ(big->children[10].key, "k10");  // k9 was set again, not moved
  EXPECT_EQ(big->children[50].key, "s1");   // where s1 first appeared, after k49
  ASSERT_NE(big->find("s1"), nullptr);
  // s1 came at i = 49, 199, 349 and 499 (of i = 49 + 50n, those with i % 3 == 1), then from the
  // path key.
  size_t s1_items = 0;
  for (int i = 49; i < 500; i += 50) {
    s1_items += i % 3 == 1 ? 1 : 0;
  }
  EXPECT_EQ(big->find("s1")->children.size(), s1_items + 1);
  EXPECT_NE(big->find("s1")->find("extra"), nullptr);
  EXPECT_EQ(big->find("absent"), nullptr);
}

TEST(Parser, RecordsPositionsAndPaths) {
  Expected<ConfigNode> tree = parse_config("vg0 {\n\tpvs {\n\t\tpv0 { pe_count = 5 }\n\t}\n}\n");
  ASSERT_TRUE(tree.ok()) << tree.error().message;
  const ConfigNode* pv0 = tree->find("vg0")->find("pvs")->find("pv0");
  ASSERT_NE(pv0, nullptr);
  EXPECT_EQ(pv0->path, "vg0/pvs/pv0");
  EXPECT_EQ(pv0->position.line, 3);
  EXPECT_EQ(pv0->position.column, 3);
  EXPECT_EQ(pv0->find("pe_count")->position.column, 9);
}

TEST(Parser, TypedAccessorsExplainMismatches) {
  Expected<ConfigNode> tree =
      parse_config("s {\n a = \"x\"\n n = -3\n l = [\"p\", 2]\n e = []\n one = \"z\"\n sub { }\n}");
  ASSERT_TRUE(tree.ok()) << tree.error().message;
  const ConfigNode& s = *tree->find("s");
  EXPECT_EQ(s.get_int("a").error().message,
            "s/a (line 2:2): expected an integer, found string \"x\"");
  EXPECT_EQ(s.get_int("missing").error().message, "s: missing \"missing\"");
  EXPECT_EQ(*s.get_int("n"), -3);
  EXPECT_EQ(s.get_uint("n").error().message,
            "s/n (line 3:2): expected a non-negative integer, found -3");
  EXPECT_EQ(s.get_string("n").error().message,
            "s/n (line 3:2): expected a string, found integer -3");
  EXPECT_EQ(s.get_string("sub").error().message,
            "s/sub (line 7:2): expected a string, found a section");
  EXPECT_EQ(s.get_string_list("l").error().message,
            "s/l (line 4:2): item 1 is integer 2, expected a string");
  EXPECT_TRUE(s.get_string_list("e")->empty());
  EXPECT_EQ(*s.get_string_list("one"), std::vector<std::string>{"z"});
  EXPECT_TRUE(s.get_section("sub").ok());
  EXPECT_EQ(s.get_section("a").error().message,
            "s/a (line 2:2): expected a section, found string \"x\"");
  EXPECT_EQ(tree->get_int("nothing").error().message, "top level: missing \"nothing\"");
}

TEST(Parser, ParsesTheBackupFixture) {
  Expected<ConfigNode> tree = parse_config(read_testdata("vg0.backup"));
  ASSERT_TRUE(tree.ok()) << tree.error().message;
  EXPECT_EQ(*tree->get_string("contents"), "Text Format Volume Group");
  EXPECT_EQ(*tree->get_int("creation_time"), 1704794800);
  const ConfigNode* vg = tree->find("vg0");
  ASSERT_NE(vg, nullptr);
  EXPECT_EQ(*vg->get_int("seqno"), 12);
  const ConfigNode* segment = vg->find("logical_volumes")->find("pool")->find("segment1");
  ASSERT_NE(segment, nullptr);
  EXPECT_EQ(*segment->get_int("transaction_id"), 3);
  EXPECT_EQ(*segment->get_string("metadata"), "pool_tmeta");
}

// Metadata cut anywhere inside the VG section (a short read, a torn copy) must be an error,
// never a smaller VG.
TEST(Parser, RejectsEveryTruncationOfMetadata) {
  const std::string text = read_testdata("vg0.mda.txt");
  const size_t open = text.find('{');
  const size_t close = text.find("\n}\n") + 2;  // the VG section's closing brace
  ASSERT_NE(open, std::string::npos);
  for (size_t cut = open + 1; cut < close; ++cut) {
    Expected<ConfigNode> tree = parse_config(text.substr(0, cut));
    ASSERT_FALSE(tree.ok()) << "accepted a cut at byte " << cut;
  }
  // A NUL in place of the rest is the same truncation.
  std::string with_nul = text;
  with_nul[close / 2] = '\0';
  EXPECT_FALSE(parse_config(with_nul).ok());
}

TEST(Parser, MdaAndBackupFormsGiveTheSameVolumeGroupSection) {
  Expected<ConfigNode> backup = parse_config(read_testdata("vg0.backup"));
  Expected<ConfigNode> mda = parse_config(read_testdata("vg0.mda.txt"));
  ASSERT_TRUE(backup.ok()) << backup.error().message;
  ASSERT_TRUE(mda.ok()) << mda.error().message;
  EXPECT_EQ(dump(*backup->find("vg0")), dump(*mda->find("vg0")));
}

}  // namespace
}  // namespace thinpool::lvm
