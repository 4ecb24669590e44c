#include "lvm/dm_names.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace thinpool::lvm {
namespace {

struct NameCase {
  std::string dm_name, vg, lv, layer;
};

void PrintTo(const NameCase& c, std::ostream* os) {
  *os << '"' << c.dm_name << '"';
}

class LvmNameTest : public testing::TestWithParam<NameCase> {};

TEST_P(LvmNameTest, SplitsLikeLvm) {
  const auto& c = GetParam();
  LvmName name = split_lvm_name(c.dm_name);
  EXPECT_EQ(name.vg, c.vg);
  EXPECT_EQ(name.lv, c.lv);
  EXPECT_EQ(name.layer, c.layer);
}

INSTANTIATE_TEST_SUITE_P(
    Names, LvmNameTest,
    testing::Values(
        // The seed incident's pool.
        NameCase{"cinder--volumes-cinder--volumes--pool-tpool", "cinder-volumes",
                 "cinder-volumes-pool", "tpool"},
        NameCase{"cinder--volumes-cinder--volumes--pool", "cinder-volumes", "cinder-volumes-pool",
                 ""},
        NameCase{"vg0-pool", "vg0", "pool", ""}, NameCase{"vg0-pool-tpool", "vg0", "pool", "tpool"},
        NameCase{"vg0-pool_tdata", "vg0", "pool_tdata", ""},
        NameCase{"vg0-pool_tmeta", "vg0", "pool_tmeta", ""},
        NameCase{"cinder--volumes-volume--5f0c1c2e--9b8a", "cinder-volumes", "volume-5f0c1c2e-9b8a",
                 ""},
        NameCase{"pve-data-tpool", "pve", "data", "tpool"},
        NameCase{"a---b-c", "a-", "b", "c"},  // "--" then a separator
        NameCase{"vg-lv-", "vg", "lv-", ""},  // a trailing dash is kept, as lvm2 does
        NameCase{"novg", "novg", "", ""}, NameCase{"", "", "", ""}),
    [](const auto& test_case) { return "case" + std::to_string(test_case.index); });

TEST(LvmUuid, RecognizesLvmDevices) {
  EXPECT_TRUE(
      is_lvm_uuid("LVM-aCOuZhT4Y2fj2XdrpgoKuJ9zVSPEpJ3uF3dPB0ZT1ULzZ3ZtA1cS8DK9vbYUFHAx-tpool"));
  EXPECT_FALSE(is_lvm_uuid(""));
  EXPECT_FALSE(is_lvm_uuid("CRYPT-LUKS2-abc"));
  EXPECT_FALSE(is_lvm_uuid("lvm-lowercase"));
}

// split_lvm_name allocates once per component; the character-by-character original stays as the
// reference.
// The original take_component(), kept as the reference.
std::string reference_take_component(std::string_view& rest) {
  std::string out;
  size_t i = 0;
  for (; i < rest.size(); ++i) {
    if (rest[i] == '-' && i + 1 < rest.size()) {
      if (rest[i + 1] != '-') {
        break;
      }
      ++i;
    }
    out.push_back(rest[i]);
  }
  rest = i < rest.size() ? rest.substr(i + 1) : std::string_view();
  return out;
}

LvmName reference_split_lvm_name(std::string_view dm_name) {
  LvmName name;
  name.vg = reference_take_component(dm_name);
  name.lv = reference_take_component(dm_name);
  name.layer = reference_take_component(dm_name);
  return name;
}

TEST(SplitLvmName, MatchesTheCharacterByCharacterOriginalOnRandomNames) {
  std::mt19937 random(7);
  const std::string alphabet = "--ab-";
  for (int n = 0; n < 200000; ++n) {
    std::string name;
    const int length = static_cast<int>(random() % 40);
    for (int i = 0; i < length; ++i) {
      name.push_back(alphabet[random() % alphabet.size()]);
    }
    LvmName got = split_lvm_name(name);
    LvmName want = reference_split_lvm_name(name);
    ASSERT_EQ(got.vg, want.vg) << name;
    ASSERT_EQ(got.lv, want.lv) << name;
    ASSERT_EQ(got.layer, want.layer) << name;
  }
  LvmName seed = split_lvm_name("cinder--volumes-cinder--volumes--pool-tpool");
  EXPECT_EQ(seed.vg, "cinder-volumes");
  EXPECT_EQ(seed.lv, "cinder-volumes-pool");
  EXPECT_EQ(seed.layer, "tpool");
}

}  // namespace
}  // namespace thinpool::lvm
