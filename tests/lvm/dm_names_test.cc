#include "lvm/dm_names.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace thinpool::lvm
