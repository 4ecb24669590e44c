#include "thin/device_names.h"

#include <gtest/gtest.h>

#include <string>

namespace thinpool {
namespace {

constexpr std::string_view kUuid =
    "LVM-3qXv1oTxVgXnN8cWb1C0yWp8sJpLq0aQ9Ue6bN0GfL3qk2kMZkQzCdn1sYtRvQ7x";

TEST(VolumeNames, SplitsAnLvmNameAndKeepsTheUuid) {
  const VolumeNames names("cinder--volumes-volume--1a2b", kUuid, "cinder--volumes-pool-tpool",
                          "17");
  EXPECT_EQ(names.dm_name(), "cinder--volumes-volume--1a2b");
  EXPECT_EQ(names.vg(), "cinder-volumes");
  EXPECT_EQ(names.lv(), "volume-1a2b");
  EXPECT_EQ(names.uuid(), kUuid);
  EXPECT_EQ(names.label_text(),
            "volume=\"cinder--volumes-volume--1a2b\",pool=\"cinder--volumes-pool-tpool\","
            "vg=\"cinder-volumes\",lv=\"volume-1a2b\",device_id=\"17\"");
  EXPECT_TRUE(names.has_labels("cinder--volumes-pool-tpool", "17"));
  EXPECT_FALSE(names.has_labels("cinder--volumes-pool-tpool", "1"));
  EXPECT_FALSE(names.has_labels("other-tpool", "17"));
}

// Escaping changes the label values, not the names and uuid read back.
TEST(VolumeNames, ANameThatNeedsEscapingReadsBackAsItIs) {
  struct Case {
    std::string lv;
    std::string escaped;  // as a label value: '\\', '"' and newline escaped
  };
  for (const Case& c : {Case{"a\"b", "a\\\"b"}, Case{"a\\b", "a\\\\b"}, Case{"a\nb", "a\\nb"},
                        Case{"\"\\\n", "\\\"\\\\\\n"}}) {
    const std::string dm_name = "vg0-" + c.lv;
    const VolumeNames names(dm_name, "LVM-vgid-lvid", "vg0-pool-tpool", "3");
    EXPECT_EQ(names.dm_name(), dm_name);
    EXPECT_EQ(names.vg(), "vg0");
    EXPECT_EQ(names.lv(), c.lv);
    EXPECT_EQ(names.uuid(), "LVM-vgid-lvid");
    std::string expected = "volume=\"vg0-";
    expected.append(c.escaped).append("\",pool=\"vg0-pool-tpool\",vg=\"vg0\",lv=\"");
    expected.append(c.escaped).append("\",device_id=\"3\"");
    EXPECT_EQ(names.label_text(), expected);
  }
}

// Not LVM's (no "LVM-" uuid, or none): no VG or LV; a volume of a failed pool has neither a pool
// nor a device id.
TEST(VolumeNames, ADeviceNotMadeByLvmHasNoVgOrLv) {
  for (std::string_view uuid : {std::string_view(""), std::string_view("CRYPT-x")}) {
    const VolumeNames names("vg0-thin", uuid, "", "");
    EXPECT_EQ(names.dm_name(), "vg0-thin");
    EXPECT_EQ(names.vg(), "");
    EXPECT_EQ(names.lv(), "");
    EXPECT_EQ(names.uuid(), uuid);
    EXPECT_EQ(names.label_text(), "volume=\"vg0-thin\",pool=\"\",vg=\"\",lv=\"\",device_id=\"\"");
    EXPECT_TRUE(names.has_labels("", ""));
  }
}

}  // namespace
}  // namespace thinpool
