#include "dm/fake_device_mapper.h"

#include <gtest/gtest.h>

namespace thinpool {
namespace {

TEST(FakeDeviceMapper, ServesCapturedDmsetupText) {
  auto fake = FakeDeviceMapper::from_dmsetup_text(
      "vg0-pool 254 7 LVM-abc\npool 254 10 \n",
      "vg0-pool: 0 2097152 thin-pool 254:9 254:8 128 0 1 skip_block_zeroing\n"
      "pool: 0 524288 thin-pool 7:0 7:1 128 0 0\n",
      "vg0-pool: 0 2097152 thin-pool 0 112/512 0/16384 - rw discard_passdown queue_if_no_space - "
      "128 \n"
      "pool: 0 524288 thin-pool 0 214/2048 0/4096 - rw discard_passdown queue_if_no_space - 512 "
      "\n");
  ASSERT_TRUE(fake.ok()) << fake.error().message;
  auto devices = fake->list_devices();
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].name, "vg0-pool");
  EXPECT_EQ((*devices)[0].dev, (DeviceNumber{254, 7}));

  auto status = fake->status((*devices)[0]);
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->exists);
  EXPECT_EQ(status->uuid, "LVM-abc");
  ASSERT_EQ(status->targets.size(), 1u);
  EXPECT_EQ(status->targets[0].type, "thin-pool");
  EXPECT_EQ(status->targets[0].length, 2097152u);
  // The params are kept exactly, the kernel's trailing blank included.
  EXPECT_EQ(status->targets[0].params,
            "0 112/512 0/16384 - rw discard_passdown queue_if_no_space - 128 ");

  auto table = fake->table((*devices)[1]);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->uuid, "");
  EXPECT_EQ(table->targets[0].params, "7:0 7:1 128 0 0");
  EXPECT_EQ(fake->calls().list, 1);
  EXPECT_EQ(fake->calls().status, 1);
  EXPECT_EQ(fake->calls().table, 1);
}

TEST(FakeDeviceMapper, UnmanglesNames) {
  EXPECT_EQ(unmangle_dm_name("we\\x22ird\\x5cp\\xc3\\xb6ol"), "we\"ird\\p\xc3\xb6ol");
  EXPECT_EQ(unmangle_dm_name("plain-name"), "plain-name");
  EXPECT_EQ(unmangle_dm_name("trailing\\x2"), "trailing\\x2");
  EXPECT_EQ(unmangle_dm_name("bad\\xzz"), "bad\\xzz");
}

TEST(FakeDeviceMapper, DeviceMissingFromStatusVanishes) {
  auto fake = FakeDeviceMapper::from_dmsetup_text("gone 254 1 \n",
                                                  "gone: 0 8 thin-pool 7:0 7:1 128 0 0\n", "");
  ASSERT_TRUE(fake.ok());
  auto status = fake->status(DmDevice{"gone", {254, 1}});
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->exists);
}

// DeviceMapper's own status_view (what the fake serves): status() as a view, counted as a call.
TEST(FakeDeviceMapper, StatusViewIsTheStatusAsAView) {
  auto fake = FakeDeviceMapper::from_dmsetup_text(
      "vg0-t1 254 8 \ngone 254 1 \n", "vg0-t1: 0 8 thin 254:7 1\ngone: 0 8 thin 254:7 2\n",
      "vg0-t1: 0 8 thin 6 5\n");
  ASSERT_TRUE(fake.ok()) << fake.error().message;
  auto view = fake->status_view(DmDevice{"vg0-t1", {254, 8}});
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_TRUE(view->exists);
  EXPECT_EQ(view->target_count, 1u);
  EXPECT_EQ(view->type, "thin");
  EXPECT_EQ(view->params, "6 5");
  EXPECT_EQ(fake->calls().status, 1);
  auto gone = fake->status_view(DmDevice{"gone", {254, 1}});
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->exists);
}

TEST(FakeDeviceMapper, EmptyKernel) {
  auto fake = FakeDeviceMapper::from_dmsetup_text("", "No devices found\n", "No devices found\n");
  ASSERT_TRUE(fake.ok());
  EXPECT_TRUE(fake->list_devices()->empty());
}

TEST(FakeDeviceMapper, RejectsBrokenCaptures) {
  EXPECT_FALSE(FakeDeviceMapper::from_dmsetup_text("onlyname\n", "", "").ok());
  EXPECT_FALSE(FakeDeviceMapper::from_dmsetup_text("a x 1\n", "", "").ok());
  auto unknown = FakeDeviceMapper::from_dmsetup_text("a 254 1\n", "b: 0 8 linear 8:1 0\n", "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("\"b\" is not in info"), std::string::npos);
  EXPECT_FALSE(FakeDeviceMapper::from_dmsetup_text("a 254 1\n", "a 0 8 linear\n", "").ok());
  EXPECT_FALSE(FakeDeviceMapper::from_dmsetup_text("a 254 1\n", "a: zero 8 linear\n", "").ok());
}

TEST(FakeDeviceMapper, FromDirectoryNamesTheMissingFile) {
  auto fake = FakeDeviceMapper::from_directory("/nonexistent-fixtures");
  ASSERT_FALSE(fake.ok());
  EXPECT_NE(fake.error().message.find("/nonexistent-fixtures/info"), std::string::npos);
}

TEST(FakeDeviceMapper, InjectedErrors) {
  FakeDeviceMapper fake;
  fake.add_device("p", {254, 0}, "", "0 8 thin-pool 7:0 7:1 128 0 0",
                  "0 8 thin-pool 0 1/2 0/4 - rw discard_passdown queue_if_no_space - 1");
  fake.set_status_error("p", Error{"dm status p: Permission denied", ErrorKind::kPermission});
  auto status = fake.status(DmDevice{"p", {254, 0}});
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(status.error().is(ErrorKind::kPermission));
  fake.set_list_error(Error{"dm list: no device-mapper", ErrorKind::kUnavailable});
  EXPECT_FALSE(fake.list_devices().ok());
  fake.set_list_error(std::nullopt);
  EXPECT_TRUE(fake.list_devices().ok());
}

// The name index (a 10,000-volume benchmark was quadratic with a linear search) must follow every
// change of the device list.
constexpr std::string_view kThinTable = "0 2048 thin 254:0 1";

std::string status_params(FakeDeviceMapper& fake, const std::string& name) {
  auto report = fake.status(DmDevice{name, {}});
  if (!report.ok() || !report->exists) {
    return "<vanished>";
  }
  return report->targets.front().params;
}

TEST(FakeDeviceMapperLookupTest, FindsEveryDeviceOfALargeList) {
  FakeDeviceMapper fake;
  for (int i = 0; i < 5000; ++i) {
    fake.add_device("thin" + std::to_string(i), {254, static_cast<uint32_t>(i)}, "", kThinTable,
                    "0 2048 thin " + std::to_string(i) + " -");
  }
  for (int i = 0; i < 5000; i += 499) {
    EXPECT_EQ(status_params(fake, "thin" + std::to_string(i)), std::to_string(i) + " -");
  }
  EXPECT_EQ(status_params(fake, "thin5000"), "<vanished>");
}

TEST(FakeDeviceMapperLookupTest, FollowsRemovalsAndAdditionsOfTheSameCount) {
  FakeDeviceMapper fake;
  fake.add_device("a", {254, 0}, "", kThinTable, "0 2048 thin 1 -");
  fake.add_device("b", {254, 1}, "", kThinTable, "0 2048 thin 2 -");
  EXPECT_EQ(status_params(fake, "b"), "2 -");  // builds the index
  fake.remove_device("a");
  fake.add_device("c", {254, 2}, "", kThinTable, "0 2048 thin 3 -");  // same size as before
  EXPECT_EQ(status_params(fake, "a"), "<vanished>");
  EXPECT_EQ(status_params(fake, "b"), "2 -");
  EXPECT_EQ(status_params(fake, "c"), "3 -");
  fake.set_status_line("c", "0 2048 thin 4 -");
  EXPECT_EQ(status_params(fake, "c"), "4 -");
}

TEST(FakeDeviceMapperLookupTest, FirstOfDuplicateNamesWinsAsInALinearSearch) {
  FakeDeviceMapper fake;
  fake.add_device("dup", {254, 0}, "", kThinTable, "0 2048 thin 1 -");
  fake.add_device("dup", {254, 1}, "", kThinTable, "0 2048 thin 2 -");
  EXPECT_EQ(status_params(fake, "dup"), "1 -");
  fake.remove_device("dup");  // removes both, as before
  EXPECT_EQ(status_params(fake, "dup"), "<vanished>");
}

TEST(FakeDeviceMapperLookupTest, MovedFakeFindsItsDevices) {
  FakeDeviceMapper first;
  first.add_device("x", {254, 0}, "", kThinTable, "0 2048 thin 1 -");
  EXPECT_EQ(status_params(first, "x"), "1 -");
  FakeDeviceMapper second;
  second.add_device("y", {254, 1}, "", kThinTable, "0 2048 thin 2 -");
  EXPECT_EQ(status_params(second, "y"), "2 -");
  second = std::move(first);
  EXPECT_EQ(status_params(second, "x"), "1 -");
  EXPECT_EQ(status_params(second, "y"), "<vanished>");
  FakeDeviceMapper third(std::move(second));
  EXPECT_EQ(status_params(third, "x"), "1 -");
}

}  // namespace
}  // namespace thinpool
