#include "thin/inventory.h"

#include <gtest/gtest.h>

#include "collectors/thin_volume_collector.h"
#include "dm/fake_device_mapper.h"

namespace thinpool {
namespace {

constexpr const char* kPoolTable = "0 2097152 thin-pool 254:0 254:1 128 0 1 skip_block_zeroing";
constexpr const char* kPoolStatus =
    "0 2097152 thin-pool 40 152/1024 100/16384 - rw discard_passdown queue_if_no_space - 256 ";

FakeDeviceMapper lvm_pool_with_volumes(int volumes) {
  FakeDeviceMapper fake;
  fake.add_device("vg0-pool-tpool", {254, 2}, "LVM-vgid-poolid-tpool", kPoolTable, kPoolStatus);
  fake.add_device("vg0-pool", {254, 3}, "LVM-vgid-poolid-pool", "0 2097152 linear 254:2 0",
                  "0 2097152 linear ");
  for (int i = 0; i < volumes; ++i) {
    fake.add_device("vg0-t" + std::to_string(i), {254, static_cast<uint32_t>(10 + i)},
                    "LVM-vgid-t" + std::to_string(i),
                    "0 2097152 thin 254:2 " + std::to_string(i + 1), "0 2097152 thin 2048 2047");
  }
  return fake;
}

TEST(Inventory, FindsPoolsAndVolumesByTargetTypeAndLinksThem) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(3);
  InventoryReader reader(fake);
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  ASSERT_EQ(inventory->pools.size(), 1u);
  const ThinPool& pool = inventory->pools[0];
  EXPECT_EQ(pool.names.dm_name, "vg0-pool-tpool");
  EXPECT_EQ(pool.names.vg, "vg0");
  EXPECT_EQ(pool.names.lv, "pool");
  EXPECT_EQ(pool.thin_volume_count, 3u);
  EXPECT_EQ(pool.provisioned_sectors, 3u * 2097152u);
  ASSERT_EQ(inventory->volumes.size(), 3u);
  EXPECT_EQ(inventory->volumes[1].pool_name(), "vg0-pool-tpool");
  EXPECT_EQ(inventory->volumes[1].names().lv(), "t1");
  EXPECT_EQ(inventory->volumes[1].table.device_id, 2u);
}

TEST(Inventory, ReadsThinTablesOnlyWhenAVolumeChanges) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(100);
  InventoryReader reader(fake);
  ASSERT_TRUE(reader.read().ok());
  // One table for the pool, one per volume.
  EXPECT_EQ(fake.calls().table, 101);
  ASSERT_TRUE(reader.read().ok());
  // Only the pool's table again.
  EXPECT_EQ(fake.calls().table, 102);
  EXPECT_EQ(fake.calls().status, 2 * 102);

  // A reload shows in event_nr; a recreated volume with the same name in its uuid.
  fake.set_event_nr("vg0-t5", 1);
  fake.remove_device("vg0-t6");
  fake.add_device("vg0-t6", {254, 16}, "LVM-vgid-new-t6", "0 2097152 thin 254:2 999",
                  "0 2097152 thin 0 -");
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  EXPECT_EQ(fake.calls().table, 102 + 3);
  bool found = false;
  for (const auto& volume : inventory->volumes) {
    if (volume.names().dm_name() == "vg0-t6") {
      EXPECT_EQ(volume.table.device_id, 999u);
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST(Inventory, ARenamedVolumeHasItsTableReadAgain) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(2);
  InventoryReader reader(fake);
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(fake.calls().table, 3);
  // Same device number, uuid, length and event_nr; only the name changed (dmsetup rename).
  fake.remove_device("vg0-t1");
  fake.add_device("vg0-renamed", {254, 11}, "LVM-vgid-t1", "0 2097152 thin 254:2 2",
                  "0 2097152 thin 2048 2047");
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  EXPECT_EQ(fake.calls().table, 3 + 2);  // the pool's and the renamed volume's
  ASSERT_EQ(inventory->volumes.size(), 2u);
  EXPECT_EQ(inventory->volumes[1].names().dm_name(), "vg0-renamed");
  EXPECT_EQ(inventory->volumes[1].pool_name(), "vg0-pool-tpool");
}

// The volume's labels are kept between reads (VolumeNames in the thin-table cache): a rename, or
// a device recreated under the same number with another uuid, must give it new ones.
TEST(Inventory, ARenamedOrRecreatedVolumeGetsNewLabels) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(2);
  InventoryReader reader(fake);
  auto text_of = [&reader] {
    auto inventory = reader.read();
    EXPECT_TRUE(inventory.ok());
    std::string text;
    MetricWriter out(text);
    write_volume_series(inventory->volumes, out);
    return text;
  };
  const std::string before = text_of();
  EXPECT_NE(before.find("volume=\"vg0-t1\",pool=\"vg0-pool-tpool\",vg=\"vg0\",lv=\"t1\""),
            std::string::npos)
      << before;
  EXPECT_EQ(text_of(), before);  // kept: the same text from the cache

  // Renamed (dmsetup rename: same number, uuid, length, event_nr), to a name that needs escaping.
  fake.remove_device("vg0-t1");
  fake.add_device("vg0-re\"named", {254, 11}, "LVM-vgid-t1", "0 2097152 thin 254:2 2",
                  "0 2097152 thin 2048 2047");
  const std::string renamed = text_of();
  EXPECT_EQ(renamed.find("vg0-t1"), std::string::npos) << renamed;
  EXPECT_NE(renamed.find("volume=\"vg0-re\\\"named\",pool=\"vg0-pool-tpool\",vg=\"vg0\","
                         "lv=\"re\\\"named\",device_id=\"2\"}"),
            std::string::npos)
      << renamed;

  // Recreated under the same number and name, no longer by LVM: no VG or LV.
  fake.remove_device("vg0-re\"named");
  fake.add_device("vg0-re\"named", {254, 11}, "", "0 2097152 thin 254:2 2",
                  "0 2097152 thin 2048 2047");
  const std::string recreated = text_of();
  EXPECT_NE(recreated.find("volume=\"vg0-re\\\"named\",pool=\"vg0-pool-tpool\",vg=\"\","
                           "lv=\"\",device_id=\"2\"}"),
            std::string::npos)
      << recreated;
}

TEST(Inventory, FollowsEachPoolDownToTheBlockDevicesItStandsOn) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(2);
  fake.add_device("vg0-pool_tmeta", {254, 0}, "LVM-vgid-tmeta", "0 8192 linear 8:16 2048",
                  "0 8192 linear ");
  // _tdata on a raid1 LV: the raid table names two images, each linear on its own PV, and the
  // data LV was extended once (two segments).
  fake.add_device("vg0-pool_tdata", {254, 1}, "LVM-vgid-tdata",
                  "0 1048576 raid raid1 3 0 region_size 1024 2 254:20 254:21 254:22 254:23",
                  "0 1048576 raid raid1 2 AA 1048576/1048576 idle 0 0 -");
  fake.add_device("vg0-pool_tdata_rmeta_0", {254, 20}, "LVM-vgid-rm0", "0 8192 linear 8:16 4096",
                  "0 8192 linear ");
  fake.add_device("vg0-pool_tdata_rimage_0", {254, 21}, "LVM-vgid-ri0",
                  "0 1048576 linear 8:16 20480", "0 1048576 linear ");
  fake.add_device("vg0-pool_tdata_rmeta_1", {254, 22}, "LVM-vgid-rm1", "0 8192 linear 8:32 2048",
                  "0 8192 linear ");
  fake.add_device("vg0-pool_tdata_rimage_1", {254, 23}, "LVM-vgid-ri1",
                  "0 1048576 linear 8:32 10240", "0 1048576 linear ");
  fake.add_device("unrelated", {254, 40}, "", "0 1024 linear 8:48 0", "0 1024 linear ");
  // A pool built with dmsetup on loop devices stands on them directly.
  fake.add_device("loop-pool", {254, 41}, "", "0 524288 thin-pool 7:0 7:1 128 0 0",
                  "0 524288 thin-pool 0 214/2048 0/4096 - rw discard_passdown "
                  "queue_if_no_space - 512 ");
  InventoryReader reader(fake);
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  ASSERT_EQ(inventory->pools.size(), 2u);
  const ThinPool& lvm_pool = inventory->pools[0];
  EXPECT_EQ(lvm_pool.uuid, "LVM-vgid-poolid-tpool");
  std::vector<std::string> names;
  for (const DmDevice& device : lvm_pool.sub_devices) {
    names.push_back(device.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"vg0-pool_tmeta", "vg0-pool_tdata",
                                             "vg0-pool_tdata_rmeta_0", "vg0-pool_tdata_rimage_0",
                                             "vg0-pool_tdata_rmeta_1", "vg0-pool_tdata_rimage_1"}));
  EXPECT_EQ(lvm_pool.bottom_devices, (std::vector<DeviceNumber>{{8, 16}, {8, 32}}));
  const ThinPool& loop_pool = inventory->pools[1];
  EXPECT_TRUE(loop_pool.sub_devices.empty());
  EXPECT_EQ(loop_pool.bottom_devices, (std::vector<DeviceNumber>{{7, 0}, {7, 1}}));
}

TEST(Inventory, VanishedDevicesAreSkippedWithoutError) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(2);
  fake.add_device("vg0-gone", {254, 50}, "LVM-x", "0 2097152 thin 254:2 9", std::nullopt);
  InventoryReader reader(fake);
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  EXPECT_EQ(inventory->volumes.size(), 2u);
  EXPECT_EQ(inventory->pools[0].thin_volume_count, 2u);
  EXPECT_EQ(reader.parse_errors("thin"), 0u);
}

TEST(Inventory, MalformedLinesSkipOnlyTheirDeviceAndAreCounted) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(2);
  fake.add_device("broken-pool", {254, 60}, "", "0 8 thin-pool 7:0 7:1 128 0 0",
                  "0 8 thin-pool x 1/2 0/4 -");
  fake.add_device("broken-thin", {254, 61}, "", "0 8 thin 254:2 77", "0 8 thin 12 x");
  InventoryReader reader(fake);
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  EXPECT_EQ(inventory->pools.size(), 1u);
  EXPECT_EQ(inventory->volumes.size(), 2u);
  EXPECT_EQ(reader.parse_errors("thin-pool"), 1u);
  EXPECT_EQ(reader.parse_errors("thin"), 1u);
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(reader.parse_errors("thin-pool"), 2u);
}

TEST(Inventory, ListFailureFailsTheRead) {
  FakeDeviceMapper fake;
  fake.set_list_error(Error{"dm list: the kernel has no device-mapper", ErrorKind::kUnavailable});
  InventoryReader reader(fake);
  auto inventory = reader.read();
  ASSERT_FALSE(inventory.ok());
  EXPECT_NE(inventory.error().message.find("no device-mapper"), std::string::npos);
}

TEST(Inventory, PrivilegeErrorFailsTheReadOtherErrorsSkipTheDevice) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(2);
  fake.set_status_error("vg0-t0", Error{"dm status vg0-t0: Input/output error", ErrorKind::kIo});
  InventoryReader reader(fake);
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  EXPECT_EQ(inventory->volumes.size(), 1u);

  fake.set_status_error("vg0-t1",
                        Error{"dm status vg0-t1: Permission denied", ErrorKind::kPermission});
  auto denied = reader.read();
  ASSERT_FALSE(denied.ok());
  EXPECT_TRUE(denied.error().is(ErrorKind::kPermission));
}

TEST(Inventory, VolumeOfAnUnknownPoolNamesThePoolDevice) {
  FakeDeviceMapper fake;
  fake.add_device("orphan", {254, 1}, "", "0 8 thin 253:99 7", "0 8 thin 0 -");
  InventoryReader reader(fake);
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  ASSERT_EQ(inventory->volumes.size(), 1u);
  EXPECT_EQ(inventory->volumes[0].pool_name(), "253:99");
}

// A failed pool makes the kernel write "Fail" for its volumes' tables as well as their status.
TEST(Inventory, VolumesOfAFailedPoolKeepThePoolTheyHadBefore) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(1);
  fake.add_device("vg0-new", {254, 40}, "LVM-vgid-new", "0 8 thin 254:2 5", "0 8 thin 0 -");
  InventoryReader reader(fake);
  ASSERT_TRUE(reader.read().ok());
  fake.remove_device("vg0-new");
  fake.add_device("vg0-new", {254, 40}, "LVM-vgid-new-again", "0 8 thin Fail", "0 8 thin Fail");
  fake.set_status_line("vg0-pool-tpool", "0 2097152 thin-pool Fail");
  fake.set_table_line("vg0-t0", "0 2097152 thin Fail");
  fake.set_status_line("vg0-t0", "0 2097152 thin Fail");
  fake.set_event_nr("vg0-t0", 3);
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  ASSERT_EQ(inventory->volumes.size(), 2u);
  // Seen before the failure: the cached table still names the pool.
  EXPECT_EQ(inventory->volumes[0].pool_name(), "vg0-pool-tpool");
  EXPECT_EQ(inventory->volumes[0].table.device_id, 1u);
  // Recreated after it: nothing is known about its pool.
  EXPECT_TRUE(inventory->volumes[1].table.pool_failed);
  EXPECT_EQ(inventory->volumes[1].pool_name(), "");
  EXPECT_EQ(inventory->pools[0].status.mode, PoolMode::kFail);
  EXPECT_EQ(inventory->pools[0].thin_volume_count, 1u);
  EXPECT_EQ(reader.parse_errors("thin"), 0u);
}

TEST(Inventory, NonLvmDevicesHaveNoVgOrLv) {
  FakeDeviceMapper fake;
  fake.add_device("docker-8:1-1234-pool", {254, 0}, "", "0 8 thin-pool 7:0 7:1 128 0 0",
                  "0 8 thin-pool 0 1/2 0/4 - rw discard_passdown queue_if_no_space - 1");
  InventoryReader reader(fake);
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  EXPECT_EQ(inventory->pools[0].names.vg, "");
  EXPECT_EQ(inventory->pools[0].names.lv, "");
}

// The thin-table cache, updated in place, across appearing, vanishing and reloaded volumes.
constexpr std::string_view kCachedPoolTable = "0 2097152 thin-pool 254:0 254:1 128 0 0";
constexpr std::string_view kCachedPoolStatus =
    "0 2097152 thin-pool 1 10/1024 0/16384 - rw discard_passdown queue_if_no_space - 256 ";

void add_thin_volume(FakeDeviceMapper& fake, int n, int device_id) {
  fake.add_device("thin" + std::to_string(n), {254, static_cast<uint32_t>(10 + n)}, "",
                  "0 2048 thin 254:2 " + std::to_string(device_id),
                  std::string_view("0 2048 thin 0 -"));
}

TEST(Inventory, ThinTableCacheFollowsVolumesThatComeGoAndReload) {
  FakeDeviceMapper fake;
  fake.add_device("pool", {254, 2}, "", kCachedPoolTable, kCachedPoolStatus);
  for (int n = 0; n < 3; ++n) {
    add_thin_volume(fake, n, n + 1);
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
  add_thin_volume(fake, 1, 42);
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
