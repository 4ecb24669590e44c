// The per-scrape fast paths keep the behaviour they replaced: split_lvm_name (one allocation per
// component) against the character-by-character original on random names, and the thin-table
// cache (updated in place) across appearing, vanishing and reloaded volumes.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "dm/fake_device_mapper.h"
#include "lvm/dm_names.h"
#include "thin/inventory.h"

namespace thinpool {
namespace {

using lvm::LvmName;
using lvm::split_lvm_name;

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

TEST(ScrapeFastPathsTest, SplitLvmNameMatchesTheOriginalOnRandomNames) {
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

constexpr std::string_view kPoolTable = "0 2097152 thin-pool 254:0 254:1 128 0 0";
constexpr std::string_view kPoolStatus =
    "0 2097152 thin-pool 1 10/1024 0/16384 - rw discard_passdown queue_if_no_space - 256 ";

void add_volume(FakeDeviceMapper& fake, int n, int device_id) {
  fake.add_device("thin" + std::to_string(n), {254, static_cast<uint32_t>(10 + n)}, "",
                  "0 2048 thin 254:2 " + std::to_string(device_id),
                  std::string_view("0 2048 thin 0 -"));
}

TEST(ScrapeFastPathsTest, ThinTableCacheFollowsVolumesThatComeGoAndReload) {
  FakeDeviceMapper fake;
  fake.add_device("pool", {254, 2}, "", kPoolTable, kPoolStatus);
  for (int n = 0; n < 3; ++n) {
    add_volume(fake, n, n + 1);
  }
  InventoryReader reader(fake);
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(fake.calls().table, 1 + 3);  // the pool, and each volume once

  auto second = reader.read();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(fake.calls().table, 1 + 3 + 1);  // only the pool again
  ASSERT_EQ(second->volumes.size(), 3u);
  EXPECT_EQ(second->volumes[2].table.device_id, 3u);

  // thin1 goes away and comes back with another table (another device id): read again.
  fake.remove_device("thin1");
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(fake.calls().table, 1 + 3 + 2);
  add_volume(fake, 1, 42);
  auto fourth = reader.read();
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(fake.calls().table, 1 + 3 + 2 + 2);
  ASSERT_EQ(fourth->volumes.size(), 3u);
  EXPECT_EQ(fourth->volumes.back().names().dm_name(), "thin1");
  EXPECT_EQ(fourth->volumes.back().table.device_id, 42u);

  // A reload shows in event_nr: read again, once.
  fake.set_event_nr("thin0", 5);
  fake.set_table_line("thin0", "0 2048 thin 254:2 7");
  auto fifth = reader.read();
  ASSERT_TRUE(fifth.ok());
  EXPECT_EQ(fifth->volumes.front().table.device_id, 7u);
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(fake.calls().table, 1 + 3 + 2 + 2 + 2 + 1);
}

}  // namespace
}  // namespace thinpool
