#include "thin/inventory.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

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
  ASSERT_EQ((*inventory)->pools.size(), 1u);
  const ThinPool& pool = (*inventory)->pools[0];
  EXPECT_EQ(pool.names.dm_name, "vg0-pool-tpool");
  EXPECT_EQ(pool.names.vg, "vg0");
  EXPECT_EQ(pool.names.lv, "pool");
  EXPECT_EQ(pool.thin_volume_count, 3u);
  EXPECT_EQ(pool.provisioned_sectors, 3u * 2097152u);
  ASSERT_EQ((*inventory)->volumes.size(), 3u);
  EXPECT_EQ((*inventory)->volumes[1].pool_name(), "vg0-pool-tpool");
  EXPECT_EQ((*inventory)->volumes[1].names().lv(), "t1");
  EXPECT_EQ((*inventory)->volumes[1].table.device_id, 2u);
}

TEST(Inventory, ReadsTablesOnlyAfterDeviceMapperChangedSomething) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(100);
  InventoryReader reader(fake);
  ASSERT_TRUE(reader.read().ok());
  // One table per device: the pool, its linear top device, each volume.
  EXPECT_EQ(fake.calls().table, 102);
  ASSERT_TRUE(reader.read().ok());
  // Nothing changed: no table again; a status for the pool and each volume, none for the rest.
  EXPECT_EQ(fake.calls().table, 102);
  EXPECT_EQ(fake.calls().status, 2 * 101);

  // A volume recreated under the same name and number: every table is read again.
  fake.remove_device("vg0-t6");
  fake.add_device("vg0-t6", {254, 16}, "LVM-vgid-new-t6", "0 2097152 thin 254:2 999",
                  "0 2097152 thin 0 -");
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  EXPECT_EQ(fake.calls().table, 2 * 102);
  bool found = false;
  for (const auto& volume : (*inventory)->volumes) {
    if (volume.names().dm_name() == "vg0-t6") {
      EXPECT_EQ(volume.table.device_id, 999u);
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

// The device list too is taken again only after a change: a create, a remove and a rename each
// move the kernel's event counter, and each is seen by the next read; between them the last list
// is used again, while every pool's and volume's status is still read on every read.
TEST(Inventory, ListsDevicesAgainOnlyAfterDeviceMapperChangedSomething) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(3);
  InventoryReader reader(fake);
  auto names = [](const InventoryRef& inventory) {
    std::vector<std::string> out;
    for (const ThinVolume& volume : inventory->volumes) {
      out.emplace_back(volume.names().dm_name());
    }
    return out;
  };
  auto read = [&](int lists, std::vector<std::string> volumes) {
    const int statuses = fake.calls().status;
    auto inventory = reader.read();
    ASSERT_TRUE(inventory.ok()) << inventory.error().message;
    EXPECT_EQ(fake.calls().list, lists);
    EXPECT_EQ(fake.calls().status - statuses, 1 + static_cast<int>(volumes.size()));
    EXPECT_EQ(names(*inventory), volumes);
  };
  read(1, {"vg0-t0", "vg0-t1", "vg0-t2"});
  read(1, {"vg0-t0", "vg0-t1", "vg0-t2"});

  fake.add_device("vg0-new", {254, 20}, "LVM-vgid-new", "0 2097152 thin 254:2 9",
                  "0 2097152 thin 0 -");
  read(2, {"vg0-t0", "vg0-t1", "vg0-t2", "vg0-new"});
  read(2, {"vg0-t0", "vg0-t1", "vg0-t2", "vg0-new"});

  fake.remove_device("vg0-t0");
  read(3, {"vg0-t1", "vg0-t2", "vg0-new"});
  read(3, {"vg0-t1", "vg0-t2", "vg0-new"});

  fake.remove_device("vg0-t1");  // a rename: the same number and uuid under another name
  fake.add_device("vg0-renamed", {254, 11}, "LVM-vgid-t1", "0 2097152 thin 254:2 2",
                  "0 2097152 thin 2048 2047");
  read(4, {"vg0-t2", "vg0-new", "vg0-renamed"});
  read(4, {"vg0-t2", "vg0-new", "vg0-renamed"});

  // A list that fails leaves nothing to use again: the next read lists.
  fake.set_list_error(Error{"dm list: Input/output error", ErrorKind::kIo});
  ASSERT_FALSE(reader.read().ok());
  fake.set_list_error(std::nullopt);
  read(6, {"vg0-t2", "vg0-new", "vg0-renamed"});
  read(6, {"vg0-t2", "vg0-new", "vg0-renamed"});
}

TEST(Inventory, ARenamedVolumeHasItsTableReadAgain) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(2);
  InventoryReader reader(fake);
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(fake.calls().table, 4);
  // Same device number, uuid, length and event_nr; only the name changed (dmsetup rename).
  fake.remove_device("vg0-t1");
  fake.add_device("vg0-renamed", {254, 11}, "LVM-vgid-t1", "0 2097152 thin 254:2 2",
                  "0 2097152 thin 2048 2047");
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  EXPECT_EQ(fake.calls().table, 4 + 4);  // a rename is a change: every table again
  ASSERT_EQ((*inventory)->volumes.size(), 2u);
  EXPECT_EQ((*inventory)->volumes[1].names().dm_name(), "vg0-renamed");
  EXPECT_EQ((*inventory)->volumes[1].pool_name(), "vg0-pool-tpool");
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
    write_volume_series((*inventory)->volumes, out);
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

// The label text holds the pool's name and the device id too: it is kept (the same object) while
// both stay, and made again when the pool is renamed (the volume's own table unchanged) or the
// volume is reloaded with another thin id (lvconvert --merge).
TEST(Inventory, AVolumesLabelsFollowItsPoolsNameAndItsDeviceId) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(2);
  InventoryReader reader(fake);
  auto first = reader.read();
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = reader.read();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)->volumes[1].volume_names, (*first)->volumes[1].volume_names);
  EXPECT_EQ((*second)->volumes[1].names().label_text(),
            "volume=\"vg0-t1\",pool=\"vg0-pool-tpool\",vg=\"vg0\",lv=\"t1\",device_id=\"2\"");

  fake.remove_device("vg0-pool-tpool");
  fake.add_device("vg0-new\"pool-tpool", {254, 2}, "LVM-vgid-poolid-tpool", kPoolTable,
                  kPoolStatus);
  auto renamed = reader.read();
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ((*renamed)->volumes[1].names().label_text(),
            "volume=\"vg0-t1\",pool=\"vg0-new\\\"pool-tpool\",vg=\"vg0\",lv=\"t1\","
            "device_id=\"2\"");

  fake.set_table_line("vg0-t1", "0 2097152 thin 254:2 7");
  auto reloaded = reader.read();
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ((*reloaded)->volumes[1].names().label_text(),
            "volume=\"vg0-t1\",pool=\"vg0-new\\\"pool-tpool\",vg=\"vg0\",lv=\"t1\","
            "device_id=\"7\"");
  // The other volume kept its labels, and the first read's still say what they said.
  EXPECT_EQ((*first)->volumes[1].names().label_text(),
            "volume=\"vg0-t1\",pool=\"vg0-pool-tpool\",vg=\"vg0\",lv=\"t1\",device_id=\"2\"");
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
  ASSERT_EQ((*inventory)->pools.size(), 2u);
  const ThinPool& lvm_pool = (*inventory)->pools[0];
  EXPECT_EQ(lvm_pool.uuid, "LVM-vgid-poolid-tpool");
  std::vector<std::string> names;
  for (const DmDevice& device : lvm_pool.sub_devices) {
    names.push_back(device.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"vg0-pool_tmeta", "vg0-pool_tdata",
                                             "vg0-pool_tdata_rmeta_0", "vg0-pool_tdata_rimage_0",
                                             "vg0-pool_tdata_rmeta_1", "vg0-pool_tdata_rimage_1"}));
  EXPECT_EQ(lvm_pool.physical_devices, (std::vector<DeviceNumber>{{8, 16}, {8, 32}}));
  const ThinPool& loop_pool = (*inventory)->pools[1];
  EXPECT_TRUE(loop_pool.sub_devices.empty());
  EXPECT_EQ(loop_pool.physical_devices, (std::vector<DeviceNumber>{{7, 0}, {7, 1}}));
}

TEST(Inventory, APvThatIsItselfADeviceMapperDeviceIsWhereTheWayDownStops) {
  // LVM on a multipath map and on a dm-crypt mapping: the PVs are those dm devices, not the disks
  // beneath them, whose LVM labels (if any) belong to no VG of this pool.
  FakeDeviceMapper fake = lvm_pool_with_volumes(1);
  fake.add_device("vg0-pool_tmeta", {254, 0}, "LVM-vgid-tmeta", "0 8192 linear 254:30 2048",
                  "0 8192 linear ");
  fake.add_device("vg0-pool_tdata", {254, 1}, "LVM-vgid-tdata", "0 1048576 linear 254:31 2048",
                  "0 1048576 linear ");
  fake.add_device("mpatha", {254, 30}, "mpath-3600a0b80001",
                  "0 2097152 multipath 0 0 1 1 "
                  "service-time 0 2 1 8:64 1 8:80 1",
                  "0 2097152 multipath 2 0 0 0 1 1 A 0 2 0 "
                  "8:64 A 0 8:80 A 0 ");
  fake.add_device("luks-data", {254, 31}, "CRYPT-LUKS2-abcdef-luks-data",
                  "0 2097152 crypt aes-xts-plain64 :64:logon:cryptsetup:abcdef-d0 0 8:96 32768",
                  "0 2097152 crypt ");
  InventoryReader reader(fake);
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  ASSERT_EQ((*inventory)->pools.size(), 1u);
  const ThinPool& pool = (*inventory)->pools[0];
  EXPECT_EQ(pool.physical_devices, (std::vector<DeviceNumber>{{254, 30}, {254, 31}}));
  EXPECT_EQ(pool.sub_devices.size(), 4u);  // the stack is still followed to its bottom
}

TEST(Inventory, VanishedDevicesAreSkippedWithoutError) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(2);
  fake.add_device("vg0-gone", {254, 50}, "LVM-x", "0 2097152 thin 254:2 9", std::nullopt);
  InventoryReader reader(fake);
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  EXPECT_EQ((*inventory)->volumes.size(), 2u);
  EXPECT_EQ((*inventory)->pools[0].thin_volume_count, 2u);
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
  EXPECT_EQ((*inventory)->pools.size(), 1u);
  EXPECT_EQ((*inventory)->volumes.size(), 2u);
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
  EXPECT_EQ((*inventory)->volumes.size(), 1u);

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
  ASSERT_EQ((*inventory)->volumes.size(), 1u);
  EXPECT_EQ((*inventory)->volumes[0].pool_name(), "253:99");
}

// A failed pool makes the kernel write "Fail" for its volumes' tables as well as their status.
// A volume's name and uuid are kept with its labels (VolumeNames), the name as it is when the
// label value had to be escaped: such a volume's table is kept between reads like any other's,
// and after a change its labels stay while its name and uuid do.
TEST(Inventory, AVolumeWhoseNameNeedsEscapingIsKeptLikeAnyOther) {
  const std::string odd = "vg0-a\"b\\c\nd";
  FakeDeviceMapper fake = lvm_pool_with_volumes(1);
  fake.add_device(odd, {254, 40}, "LVM-vgid-odd", "0 8 thin 254:2 9", "0 8 thin 0 -");
  InventoryReader reader(fake);
  // The volume with this minor number in a read.
  auto volume_of = [](const InventoryRef& inventory, uint32_t minor) -> const ThinVolume& {
    for (const ThinVolume& volume : inventory->volumes) {
      if (volume.dev == DeviceNumber{254, minor}) {
        return volume;
      }
    }
    ADD_FAILURE() << "no volume 254:" << minor;
    return inventory->volumes.at(0);
  };
  auto first = reader.read();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(fake.calls().table, 4);
  auto second = reader.read();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(fake.calls().table, 4);  // nothing changed: no table read again
  ASSERT_EQ((*second)->volumes.size(), 2u);
  const ThinVolume& volume = volume_of(*second, 40);
  EXPECT_EQ(volume.volume_names, volume_of(*first, 40).volume_names);
  EXPECT_EQ(volume.names().dm_name(), odd);
  EXPECT_EQ(volume.names().vg(), "vg0");
  EXPECT_EQ(volume.names().lv(), "a\"b\\c\nd");
  EXPECT_EQ(volume.names().label_text(),
            "volume=\"vg0-a\\\"b\\\\c\\nd\",pool=\"vg0-pool-tpool\",vg=\"vg0\","
            "lv=\"a\\\"b\\\\c\\nd\",device_id=\"9\"");

  // Another device comes: every table is read again, and both volumes keep their labels.
  fake.add_device("vg0-other", {254, 41}, "LVM-vgid-other", "0 8 thin 254:2 10", "0 8 thin 0 -");
  auto third = reader.read();
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(fake.calls().table, 4 + 5);
  ASSERT_EQ((*third)->volumes.size(), 3u);
  EXPECT_EQ(volume_of(*third, 10).volume_names, volume_of(*first, 10).volume_names);
  EXPECT_EQ(volume_of(*third, 40).volume_names, volume_of(*first, 40).volume_names);
  EXPECT_EQ(volume_of(*third, 41).names().lv(), "other");

  // Recreated under its name and number with another uuid, not LVM's: new labels, no VG or LV.
  fake.remove_device(odd);
  fake.add_device(odd, {254, 40}, "CRYPT-odd", "0 8 thin 254:2 9", "0 8 thin 0 -");
  auto fourth = reader.read();
  ASSERT_TRUE(fourth.ok());
  ASSERT_EQ((*fourth)->volumes.size(), 3u);
  EXPECT_NE(volume_of(*fourth, 40).volume_names, volume_of(*first, 40).volume_names);
  EXPECT_EQ(volume_of(*fourth, 40).names().dm_name(), odd);
  EXPECT_EQ(volume_of(*fourth, 40).names().vg(), "");
  EXPECT_EQ(volume_of(*fourth, 41).volume_names, volume_of(*third, 41).volume_names);
  // What the earlier reads hold still says what it said.
  EXPECT_EQ(volume_of(*first, 40).names().lv(), "a\"b\\c\nd");
}

// Every volume's labels made again (its pool renamed, again and again) leave the old ones unused
// in the names store: the cache copies what it still uses into a new store, while the
// inventories read before keep theirs, which still say what they said.
TEST(Inventory, NamesMadeAgainDoNotPileUpAndOldInventoriesKeepTheirs) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(1000);
  InventoryReader reader(fake);
  std::vector<InventoryRef> reads;
  std::vector<std::string> pool_names;
  std::string pool = "vg0-pool-tpool";
  for (int rename = 0; rename < 8; ++rename) {
    auto inventory = reader.read();
    ASSERT_TRUE(inventory.ok()) << inventory.error().message;
    reads.push_back(*inventory);
    pool_names.push_back(pool);
    // The store as this read left it: the names it made beside what the last one left (copied
    // once more than half was unused), never more than three times what is used and two blocks.
    const VolumeNamesStore& store = *(*inventory)->names_store;
    EXPECT_LE(store.held_bytes(), 3 * store.used_bytes() + size_t{128} * 1024) << rename;
    fake.remove_device(pool);
    pool = "vg0-pool" + std::to_string(rename) + "-tpool";
    fake.add_device(pool, {254, 2}, "LVM-vgid-poolid-tpool", kPoolTable, kPoolStatus);
  }
  EXPECT_NE(reads.front()->names_store, reads.back()->names_store);  // copied at least once
  for (size_t i = 0; i < reads.size(); ++i) {
    ASSERT_EQ(reads[i]->volumes.size(), 1000u);
    for (const ThinVolume& volume : reads[i]->volumes) {
      const std::string_view labels = volume.names().label_text();
      ASSERT_NE(labels.find(",pool=\"" + pool_names[i] + "\","), std::string_view::npos)
          << i << ": " << labels;
      ASSERT_EQ(labels.substr(0, 13), "volume=\"vg0-t") << labels;
      ASSERT_EQ(volume.names().vg(), "vg0");
    }
  }
}

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
  ASSERT_EQ((*inventory)->volumes.size(), 2u);
  // Seen before the failure: the cached table still names the pool.
  EXPECT_EQ((*inventory)->volumes[0].pool_name(), "vg0-pool-tpool");
  EXPECT_EQ((*inventory)->volumes[0].table.device_id, 1u);
  // Recreated after it: nothing is known about its pool.
  EXPECT_TRUE((*inventory)->volumes[1].table.pool_failed);
  EXPECT_EQ((*inventory)->volumes[1].pool_name(), "");
  EXPECT_EQ((*inventory)->pools[0].status.mode, PoolMode::kFail);
  EXPECT_EQ((*inventory)->pools[0].thin_volume_count, 1u);
  EXPECT_EQ(reader.parse_errors("thin"), 0u);
}

TEST(Inventory, NonLvmDevicesHaveNoVgOrLv) {
  FakeDeviceMapper fake;
  fake.add_device("docker-8:1-1234-pool", {254, 0}, "", "0 8 thin-pool 7:0 7:1 128 0 0",
                  "0 8 thin-pool 0 1/2 0/4 - rw discard_passdown queue_if_no_space - 1");
  InventoryReader reader(fake);
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  EXPECT_EQ((*inventory)->pools[0].names.vg, "");
  EXPECT_EQ((*inventory)->pools[0].names.lv, "");
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
  EXPECT_EQ(fake.calls().table, 1 + 3);  // nothing changed: none again
  ASSERT_EQ((*second)->volumes.size(), 3u);
  EXPECT_EQ((*second)->volumes[2].table.device_id, 3u);

  // thin1 goes away and comes back with another table (another device id): read again.
  fake.remove_device("thin1");
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(fake.calls().table, 4 + 3);
  add_thin_volume(fake, 1, 42);
  auto fourth = reader.read();
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(fake.calls().table, 4 + 3 + 4);
  ASSERT_EQ((*fourth)->volumes.size(), 3u);
  EXPECT_EQ((*fourth)->volumes.back().names().dm_name(), "thin1");
  EXPECT_EQ((*fourth)->volumes.back().table.device_id, 42u);

  // A table swap to another thin id with the same length and the device's own event counter
  // untouched (lvconvert --merge of a thin snapshot into its origin): read again, once.
  fake.set_table_line("thin0", "0 2048 thin 254:2 7");
  auto fifth = reader.read();
  ASSERT_TRUE(fifth.ok());
  EXPECT_EQ((*fifth)->volumes.front().table.device_id, 7u);
  ASSERT_TRUE(reader.read().ok());
  EXPECT_EQ(fake.calls().table, 4 + 3 + 4 + 4);
}

// A status call that blocks until released, as on a pool whose devices stopped answering.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    --waiting_;
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  int waiting() {
    std::lock_guard lock(mutex_);
    return waiting_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
  int waiting_ = 0;
};

// Two pools: vg0's (with two volumes) and a second one whose status calls will block.
FakeDeviceMapper two_pools() {
  FakeDeviceMapper fake = lvm_pool_with_volumes(2);
  fake.add_device("stuck-pool", {254, 70}, "", "0 524288 thin-pool 254:71 254:72 128 0 0",
                  "0 524288 thin-pool 0 214/2048 0/4096 - rw discard_passdown "
                  "queue_if_no_space - 512 ");
  fake.add_device("stuck-meta", {254, 71}, "", "0 8192 linear 8:48 0", "0 8192 linear ");
  fake.add_device("stuck-data", {254, 72}, "", "0 524288 linear 8:48 8192", "0 524288 linear ");
  fake.add_device("stuck-thin", {254, 73}, "", "0 2048 thin 254:70 1", "0 2048 thin 0 -");
  return fake;
}

TEST(Inventory, APoolWhoseStatusBlocksCostsOnlyItsOwnFigures) {
  FakeDeviceMapper fake = two_pools();
  Gate gate;
  fake.set_before_status("stuck-pool", [&] { gate.wait(); });
  fake.set_suspended("stuck-data", true);
  InventoryReader reader(fake);
  const auto start = Clock::now();
  auto inventory = reader.read(Clock::now() + std::chrono::milliseconds(400));
  ASSERT_TRUE(inventory.ok()) << inventory.error().message;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  ASSERT_EQ((*inventory)->pools.size(), 2u);
  const ThinPool& healthy = (*inventory)->pools[0];
  const ThinPool& stuck = (*inventory)->pools[1];
  EXPECT_FALSE(healthy.status_blocked);
  ASSERT_TRUE(healthy.status.usage.has_value());
  EXPECT_TRUE(stuck.status_blocked);
  EXPECT_EQ(stuck.suspended_devices, std::vector<std::string>{"stuck-data"});
  EXPECT_EQ(stuck.thin_volume_count, 1u);  // known from its table
  ASSERT_EQ((*inventory)->volumes.size(), 3u);
  EXPECT_FALSE((*inventory)->volumes[0].status_blocked);
  EXPECT_TRUE((*inventory)->volumes[2].status_blocked);
  EXPECT_EQ(reader.device_error_counts()[3], (std::pair<std::string_view, uint64_t>{"blocked", 2}));

  // The blocked call is never stacked on: later reads do not ask that pool again while it is
  // outstanding, and answer at once.
  for (int i = 0; i < 5; ++i) {
    const auto again_start = Clock::now();
    auto again = reader.read(Clock::now() + std::chrono::seconds(10));
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE((*again)->pools[1].status_blocked);
    EXPECT_FALSE((*again)->pools[0].status_blocked);
    EXPECT_LT(Clock::now() - again_start, std::chrono::seconds(5));
  }
  EXPECT_EQ(gate.waiting(), 1);

  // The call returns, but the devices under the pool are still suspended: still not asked.
  gate.open();
  for (int i = 0; i < 100 && gate.waiting() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const int calls_before = fake.calls().status;
  auto suspended = reader.read(Clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(suspended.ok());
  EXPECT_TRUE((*suspended)->pools[1].status_blocked);
  EXPECT_EQ(fake.calls().status - calls_before, 3);  // vg0's pool and its two volumes only

  // Resumed: read normally again.
  fake.set_suspended("stuck-data", false);
  auto resumed = reader.read(Clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(resumed.ok());
  EXPECT_FALSE((*resumed)->pools[1].status_blocked);
  EXPECT_TRUE((*resumed)->pools[1].status.usage.has_value());
  EXPECT_TRUE((*resumed)->pools[1].suspended_devices.empty());
}

TEST(Inventory, ConcurrentReadsShareOneRead) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(2);
  Gate gate;
  std::atomic<int> lists{0};
  fake.set_before_status("vg0-pool-tpool", [&] {
    ++lists;
    gate.wait();
  });
  InventoryReader reader(fake);
  auto first = std::async(std::launch::async,
                          [&] { return reader.read(Clock::now() + std::chrono::seconds(20)); });
  while (gate.waiting() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto second = std::async(std::launch::async,
                           [&] { return reader.read(Clock::now() + std::chrono::seconds(20)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  gate.open();
  ASSERT_TRUE(first.get().ok());
  ASSERT_TRUE(second.get().ok());
  EXPECT_EQ(fake.calls().list, 1);
  EXPECT_EQ(lists.load(), 1);
}

TEST(Inventory, OneDeviceFailingLeavesOnlyItOutAndIsCountedByReason) {
  FakeDeviceMapper fake = lvm_pool_with_volumes(3);
  fake.set_status_error("vg0-t1", Error{"dm status vg0-t1: Input/output error", ErrorKind::kIo});
  fake.add_device("bad-line", {254, 80}, "", "0 8 thin 254:2 9", "0 8 thin nonsense");
  InventoryReader reader(fake);
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  EXPECT_EQ((*inventory)->volumes.size(), 2u);
  EXPECT_EQ((*inventory)->pools[0].thin_volume_count, 2u);
  auto counts = reader.device_error_counts();
  EXPECT_EQ(counts[0].second, 0u);  // table
  EXPECT_EQ(counts[1].second, 1u);  // status
  EXPECT_EQ(counts[2].second, 1u);  // parse
  EXPECT_EQ(counts[3].second, 0u);  // blocked
}

}  // namespace
}  // namespace thinpool
