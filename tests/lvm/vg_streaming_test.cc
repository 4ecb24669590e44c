// parse_volume_group reads each LV while the text is parsed (vg_reader.cc); a read of the whole
// tree (parse_config + extract_volume_group) is what it must match: the same VG, or the same
// first error, whatever order the text names things in and however many LV sections it counts.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lvm/config_parser.h"
#include "lvm/vg_model.h"

namespace thinpool::lvm {
namespace {

std::string vg_with(const std::string& lvs, const std::string& after_vg = "") {
  return "contents = \"Text Format Volume Group\"\nversion = 1\n"
         "vg1 {\n id = \"vgid\"\n seqno = 4\n status = [\"READ\"]\n extent_size = 8\n"
         " physical_volumes {\n"
         "  pv0 { id = \"p0\" status = [\"ALLOCATABLE\"] pe_start = 2048 pe_count = 100 }\n"
         " }\n logical_volumes {\n" +
         lvs + "\n }\n}\n" + after_vg;
}

std::string linear(const std::string& name, int start, int count) {
  return name + " { id = \"" + name + "\" status = [\"READ\", \"VISIBLE\"] segment_count = 1\n" +
         " segment1 { start_extent = 0 extent_count = " + std::to_string(count) +
         " type = \"striped\" stripe_count = 1 stripes = [\"pv0\", " + std::to_string(start) +
         "] } }\n";
}

std::string thin(const std::string& name, const std::string& pool, const std::string& extra = "") {
  return name + " { id = \"" + name + "\" status = [\"READ\", \"VISIBLE\"] segment_count = 1\n" +
         " segment1 { start_extent = 0 extent_count = 4 type = \"thin\" thin_pool = \"" + pool +
         "\" transaction_id = 1 device_id = 1 " + extra + "} }\n";
}

// A pool named after the thin LVs that use it, as lvm2 never writes but may read.
std::string pool(const std::string& name) {
  return name + " { id = \"" + name + "\" status = [\"READ\", \"VISIBLE\"] segment_count = 1\n" +
         " segment1 { start_extent = 0 extent_count = 4 type = \"thin-pool\" metadata = \"" + name +
         "_tmeta\" pool = \"" + name + "_tdata\" transaction_id = 3 chunk_size = 128 } }\n" +
         linear(name + "_tmeta", 0, 1) + linear(name + "_tdata", 1, 4);
}

// A VG's LVs, segments, areas and thin references in one line, or its error.
std::string shape(const Expected<VolumeGroup>& vg) {
  if (!vg.ok()) {
    return "error: " + vg.error().message;
  }
  std::string line;
  for (const LogicalVolume& lv : vg->all_lvs()) {
    line += lv.name + (lv.visible ? "+" : "-") + std::to_string(lv.extent_count()) + "[";
    for (const Segment& segment : lv.segments) {
      line += segment.name + ":" + segment.type;
      for (const SegmentArea& area : segment.areas) {
        line += (area.kind == AreaKind::kPhysicalVolume ? " pv " : " lv ") + area.name;
      }
      if (segment.thin) {
        line += " pool " + segment.thin->thin_pool + " origin " + segment.thin->origin;
      }
    }
    line += "] ";
  }
  return line;
}

// What the whole-tree read makes of `text`.
std::string read_whole(const std::string& text) {
  Expected<ConfigNode> tree = parse_config(text);
  if (!tree.ok()) {
    return "error: " + tree.error().message;
  }
  return shape(extract_volume_group(*tree));
}

struct Case {
  std::string name;
  std::string text;
  std::string expected;  // a part of the result both reads give
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

class StreamingRead : public ::testing::TestWithParam<Case> {};

TEST_P(StreamingRead, MatchesAReadOfTheWholeTree) {
  const std::string whole = read_whole(GetParam().text);
  EXPECT_EQ(shape(parse_volume_group(GetParam().text)), whole);
  EXPECT_NE(whole.find(GetParam().expected), std::string::npos) << whole;
}

// The LV sections counted before the parse only size the LVs' vector: a text that names
// segment_count elsewhere too (a description, an LV's tag), a few times or more often than the
// text's size allows LVs, reads the same.
TEST_P(StreamingRead, ReadsTheSameWhenSegmentCountIsNamedElsewhere) {
  for (int words : {3, 10000}) {
    std::string description;
    for (int i = 0; i < words; ++i) {
      description += "segment_count ";
    }
    const std::string text = "description = \"" + description + "\"\n" + GetParam().text;
    EXPECT_EQ(shape(parse_volume_group(text)), read_whole(text)) << words;
  }
}

// `count` thin LVs, each a snapshot of the one before, the pool after them all.
std::string many_thin_lvs(int count) {
  std::string lvs;
  for (int i = 0; i < count; ++i) {
    lvs += thin(fmt::format("t{}", i), "p", i == 0 ? "" : fmt::format("origin = \"t{}\" ", i - 1));
  }
  return vg_with(lvs + pool("p"));
}

const std::string kSegment2Bad =
    "a { id = \"a\" status = [] segment_count = 2\n"
    " segment1 { start_extent = 0 extent_count = 1 type = \"striped\" stripe_count = 1"
    " stripes = [\"nope\", 0] }\n"
    " segment2 { start_extent = 1 extent_count = 1 stripe_count = 1 stripes = [\"pv0\", 5] } }\n";

INSTANTIATE_TEST_SUITE_P(
    Texts, StreamingRead,
    ::testing::Values(
        Case{"names_lvs_further_down",
             vg_with(thin("t1", "p") + thin("t2", "p", "origin = \"t1\"") + pool("p")),
             "t2+4[segment1:thin pool p origin t1]"},
        Case{"unknown_pool", vg_with(thin("t1", "nope") + pool("p")),
             "error: vg1/logical_volumes/t1/segment1/thin_pool: unknown LV \"nope\""},
        Case{"empty_origin", vg_with(pool("p") + thin("t1", "p", "origin = \"\"")),
             "error: vg1/logical_volumes/t1/segment1/origin: unknown LV \"\""},
        Case{"external_origin", vg_with(pool("p") + thin("t1", "p", "external_origin = \"x\"")),
             "error: vg1/logical_volumes/t1/segment1/external_origin: unknown LV \"x\""},
        // The first LV's reference error comes before the second LV's own error.
        Case{"reference_error_before_a_later_lvs_own_error",
             vg_with(pool("p") + thin("t1", "p", "origin = \"gone\"") +
                     "t2 { id = \"t2\" status = [] }"),
             "error: vg1/logical_volumes/t1/segment1/origin: unknown LV \"gone\""},
        // Within an LV: segment1's unknown area comes before segment2's missing type.
        Case{"reference_error_before_a_later_segments_own_error", vg_with(kSegment2Bad),
             "error: vg1/logical_volumes/a/segment1/stripes (line 13:81): area 0 names \"nope\""},
        Case{"unknown_mirror_leg",
             vg_with("m { id = \"m\" status = [] segment_count = 1\n segment1 { start_extent = 0 "
                     "extent_count = 2 type = \"mirror\" mirrors = [\"pv0\", 0, \"x\", 0] } }"),
             "error: vg1/logical_volumes/m/segment1/mirrors (line 13:63): area 1 names \"x\", "
             "which is neither a PV nor an LV of the VG"},
        Case{"unknown_raid_image",
             vg_with("r { id = \"r\" status = [] segment_count = 1\n segment1 { start_extent = 0 "
                     "extent_count = 1 type = \"raid1\" raids = [\"r_rimage_0\"] } }"),
             "error: vg1/logical_volumes/r/segment1/raids: unknown LV \"r_rimage_0\""},
        Case{"segment_count_mismatch",
             vg_with("a { id = \"a\" status = [] segment_count = 2\n segment1 { start_extent = 0 "
                     "extent_count = 1 type = \"striped\" stripe_count = 1 stripes = [\"pv0\", 0] "
                     "} }"),
             "error: vg1/logical_volumes/a: segment_count is 2 but there are 1 segments"},
        Case{"gap",
             vg_with("a { id = \"a\" status = [] segment_count = 1\n segment1 { "
                     "start_extent = 3 extent_count = 1 type = \"striped\" stripe_count = "
                     "1 stripes = [\"pv0\", 0] } }"),
             "error: vg1/logical_volumes/a/segment1: starts at extent 3, expected 0"},
        // lvm2 merges a section named twice: the LV read at its first close is read again whole.
        Case{"lv_section_named_twice",
             vg_with("a { id = \"a\" status = [\"VISIBLE\"] segment_count = 1 }\n" +
                     linear("b", 0, 2) +
                     "a { segment1 { start_extent = 0 extent_count = 3 type = \"striped\" "
                     "stripe_count = 1 stripes = [\"pv0\", 2] } }"),
             "a+3[segment1:striped pv pv0] b+2"},
        Case{"lv_set_below_after_its_close", vg_with(linear("a", 0, 2) + "a/status = [\"READ\"]"),
             "a-2["},
        Case{"lv_section_then_setting", vg_with(linear("a", 0, 2) + "a = 1"),
             "error: parse error at 14:1: \"vg1/logical_volumes/a\" is used both as a section"},
        Case{"lv_by_a_path_key",
             vg_with(linear("a", 0, 2)) + "vg1/logical_volumes/b { id = \"b\" status = [] "
                                          "segment_count = 1 segment1 { start_extent = 0 "
                                          "extent_count = 1 type = \"striped\" stripe_count = 1 "
                                          "stripes = [\"pv0\", 2] } }",
             "a+2[segment1:striped pv pv0] b-1"},
        Case{"second_vg_section_is_not_read",
             vg_with(linear("a", 0, 2), "vg2 { logical_volumes { " + thin("x", "nope") + "} }"),
             "a+2[segment1:striped pv pv0] "},
        // Thin LVs the compact table cannot hold (a metadata profile, a status flag lvm2 does
        // not set, two segments) stay whole, in their place among those it holds.
        Case{"thin_lvs_kept_whole_among_compact_ones",
             vg_with(thin("t1", "p") +
                     "t2 { id = \"t2\" status = [\"READ\", \"VISIBLE\"] profile = \"x\" "
                     "segment_count = 1\n segment1 { start_extent = 0 extent_count = 4 type = "
                     "\"thin\" thin_pool = \"p\" transaction_id = 1 device_id = 2 } }\n" +
                     thin("t3", "p", "origin = \"t2\"") +
                     "t4 { id = \"t4\" status = [\"READ\", \"OTHER\"] segment_count = 1\n "
                     "segment1 { start_extent = 0 extent_count = 4 type = \"thin\" thin_pool = "
                     "\"p\" transaction_id = 1 device_id = 3 } }\n" +
                     "t5 { id = \"t5\" status = [\"READ\"] segment_count = 2\n segment1 { "
                     "start_extent = 0 extent_count = 4 type = \"thin\" thin_pool = \"p\" "
                     "transaction_id = 1 device_id = 4 }\n segment2 { start_extent = 4 "
                     "extent_count = 4 type = \"thin\" thin_pool = \"p\" transaction_id = 1 "
                     "device_id = 4 } }\n" +
                     thin("t6", "p", "external_origin = \"t1\"") + pool("p")),
             "t1+4[segment1:thin pool p origin ] t2+4[segment1:thin pool p origin ] "
             "t3+4[segment1:thin pool p origin t2] t4-4[segment1:thin pool p origin ] "
             "t5-8[segment1:thin pool p origin segment2:thin pool p origin ] "
             "t6+4[segment1:thin pool p origin ] p+4"},
        Case{
            "thin_lv_by_a_path_key",
            vg_with(thin("t1", "p") + pool("p")) +
                "vg1/logical_volumes/t0 { id = \"t0\" status = [\"READ\"] segment_count = 1 "
                "segment1 { start_extent = 0 extent_count = 2 type = \"thin\" thin_pool = "
                "\"p\" transaction_id = 1 device_id = 9 } }",
            "t1+4[segment1:thin pool p origin ] p+4[segment1:thin-pool] p_tmeta+1[segment1:striped "
            "pv pv0] p_tdata+4[segment1:striped pv pv0] t0-2[segment1:thin pool p origin ] "},
        Case{"thin_lv_size_overflows",
             "contents = \"Text Format Volume Group\"\nversion = 1\n"
             "vg1 {\n id = \"vgid\"\n seqno = 4\n status = [\"READ\"]\n extent_size = "
             "4000000000\n physical_volumes {\n  pv0 { id = \"p0\" status = [\"ALLOCATABLE\"] "
             "pe_start = 2048 pe_count = 100 }\n }\n logical_volumes {\n" +
                 pool("p") +
                 "big { id = \"big\" status = [\"READ\"] segment_count = 1\n segment1 { "
                 "start_extent = 0 extent_count = 4000000000 type = \"thin\" thin_pool = \"p\" "
                 "transaction_id = 1 device_id = 1 } }\n }\n}\n",
             "error: vg1/logical_volumes/big: size overflows 64 bits"},
        Case{"many_lvs_naming_lvs_further_down", many_thin_lvs(600),
             "t599+4[segment1:thin pool p origin t598]"},
        Case{"syntax_error_after_the_lvs", vg_with(linear("a", 0, 2), "}"),
             "error: parse error at 17:1: unexpected '}' outside any section"}),
    [](const ::testing::TestParamInfo<Case>& param_info) { return param_info.param.name; });

// The handler sees each section as its '}' closes it (not those a key "c/d" makes on the way),
// with its parents; what it takes becomes a stand-in.
TEST(ConfigParserHandover, TakesClosedSectionsAndLeavesStandIns) {
  std::vector<std::string> seen;
  const ClosedSectionHandler handler = [&seen](const std::vector<const ConfigNode*>& parents,
                                               const ConfigNode& section) {
    std::string chain;
    for (const ConfigNode* parent : parents) {
      chain += parent->key + "/";
    }
    seen.push_back(chain + section.key + " " + std::to_string(section.children.size()));
    return section.key == "b" ? SectionHandover::kTaken : SectionHandover::kKept;
  };
  Expected<std::optional<ConfigNode>> tree =
      parse_config("a { b { x = 1 y = 2 } c/d { z = 3 } }\n", handler);
  ASSERT_TRUE(tree.ok()) << tree.error().message;
  ASSERT_TRUE(tree->has_value());
  EXPECT_EQ(seen, (std::vector<std::string>{"/a/b 2", "/a/c/d 1", "/a 2"}));
  const ConfigNode* b = (*tree)->find("a")->find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->handed_over);
  EXPECT_TRUE(b->is_section());
  EXPECT_TRUE(b->children.empty());
  EXPECT_FALSE((*tree)->find("a")->find("c")->handed_over);
}

// Among many sections taken, as an LV's among a large VG's, the one opened again is still found
// (the stand-ins keep their keys in the section's index).
TEST(ConfigParserHandover, GivesUpWhenOneOfManyTakenSectionsIsOpenedAgain) {
  const ClosedSectionHandler take_lvs = [](const std::vector<const ConfigNode*>&,
                                           const ConfigNode& section) {
    return section.key == "lvs" ? SectionHandover::kKept : SectionHandover::kTaken;
  };
  std::string text = "lvs {\n";
  for (int i = 0; i < 300; ++i) {
    text += fmt::format("lv{} {{ x = 1 }}\n", i);
  }
  Expected<std::optional<ConfigNode>> whole = parse_config(text + "}\n", take_lvs);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  ASSERT_TRUE(whole->has_value());
  EXPECT_EQ((*whole)->find("lvs")->children.size(), 300u);
  Expected<std::optional<ConfigNode>> reopened =
      parse_config(text + "lv17 { y = 2 }\n}\n", take_lvs);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_FALSE(reopened->has_value());
}

// Every integer setting of the tree as "path=value", in file order.
std::string leaves(const ConfigNode& node) {
  std::string text;
  for (const ConfigNode& child : node.children) {
    if (child.is_section()) {
      text += leaves(child);
    } else if (Expected<int64_t> value = node.get_int(child.key); value.ok()) {
      text += fmt::format("{}={} ", child.path, *value);
    }
  }
  return text;
}

// The room a size hint asks for is made as the section opens, for that section only; the tree is
// the same as without it.
TEST(ConfigParserHandover, MakesTheRoomTheSizeHintAsksFor) {
  const ClosedSectionHandler keep = [](const std::vector<const ConfigNode*>&, const ConfigNode&) {
    return SectionHandover::kKept;
  };
  std::vector<std::string> asked;
  const SectionSizeHint hint = [&asked](const std::vector<const ConfigNode*>& parents,
                                        const ConfigNode& section) -> size_t {
    asked.push_back(std::to_string(parents.size()) + " " + section.key);
    return section.key == "b" ? 1000 : 0;
  };
  const std::string text = "a { b { x = 1 y = 2 } c { z = 3 } }\n";
  Expected<std::optional<ConfigNode>> tree = parse_config(text, keep, hint);
  ASSERT_TRUE(tree.ok()) << tree.error().message;
  ASSERT_TRUE(tree->has_value());
  EXPECT_EQ(asked, (std::vector<std::string>{"1 a", "2 b", "2 c"}));
  EXPECT_GE((*tree)->find("a")->find("b")->children.capacity(), 1000u);
  EXPECT_EQ((*tree)->find("a")->find("b")->children.size(), 2u);
  EXPECT_LT((*tree)->find("a")->find("c")->children.capacity(), 1000u);
  Expected<ConfigNode> plain = parse_config(text);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(leaves(**tree), leaves(*plain));
  EXPECT_EQ(leaves(*plain), "a/b/x=1 a/b/y=2 a/c/z=3 ");
}

TEST(ConfigParserHandover, GivesUpWhenATakenSectionIsOpenedAgain) {
  const ClosedSectionHandler take_all = [](const std::vector<const ConfigNode*>&,
                                           const ConfigNode&) { return SectionHandover::kTaken; };
  for (const std::string text : {"a { } a { }", "a { } a/b = 1", "a { b { } b { x = 1 } }"}) {
    Expected<std::optional<ConfigNode>> tree = parse_config(text, take_all);
    ASSERT_TRUE(tree.ok()) << text << ": " << tree.error().message;
    EXPECT_FALSE(tree->has_value()) << text;
  }
  Expected<std::optional<ConfigNode>> conflict = parse_config("x { a { } a = 1 }", take_all);
  ASSERT_FALSE(conflict.ok());
  EXPECT_NE(conflict.error().message.find("\"x/a\" is used both as a section"), std::string::npos)
      << conflict.error().message;
}

}  // namespace
}  // namespace thinpool::lvm
