// FakeDeviceMapper finds devices through a name index (a 10,000-volume benchmark was quadratic
// with a linear search): the index must follow every change of the device list.
#include <gtest/gtest.h>

#include <string>

#include "dm/fake_device_mapper.h"

namespace thinpool {
namespace {

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
