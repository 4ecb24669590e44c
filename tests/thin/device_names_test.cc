#include "thin/device_names.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace thinpool {
namespace {

TEST(VolumeNames, SplitsAnLvmName) {
  VolumeNamesStore store;
  const VolumeNames& names =
      *store.add("cinder--volumes-volume--1a2b", true, "cinder--volumes-pool-tpool", "17");
  EXPECT_EQ(names.dm_name(), "cinder--volumes-volume--1a2b");
  EXPECT_EQ(names.vg(), "cinder-volumes");
  EXPECT_EQ(names.lv(), "volume-1a2b");
  EXPECT_EQ(names.label_text(),
            "volume=\"cinder--volumes-volume--1a2b\",pool=\"cinder--volumes-pool-tpool\","
            "vg=\"cinder-volumes\",lv=\"volume-1a2b\",device_id=\"17\"");
  EXPECT_TRUE(names.has_labels("cinder--volumes-pool-tpool", "17"));
  EXPECT_FALSE(names.has_labels("cinder--volumes-pool-tpool", "1"));
  EXPECT_FALSE(names.has_labels("other-tpool", "17"));
}

// Escaping changes the label values, not the names read back.
TEST(VolumeNames, ANameThatNeedsEscapingReadsBackAsItIs) {
  struct Case {
    std::string lv;
    std::string escaped;  // as a label value: '\\', '"' and newline escaped
  };
  for (const Case& c : {Case{"a\"b", "a\\\"b"}, Case{"a\\b", "a\\\\b"}, Case{"a\nb", "a\\nb"},
                        Case{"\"\\\n", "\\\"\\\\\\n"}}) {
    const std::string dm_name = "vg0-" + c.lv;
    VolumeNamesStore store;
    const VolumeNames& names = *store.add(dm_name, true, "vg0-pool-tpool", "3");
    EXPECT_EQ(names.dm_name(), dm_name);
    EXPECT_EQ(names.vg(), "vg0");
    EXPECT_EQ(names.lv(), c.lv);
    std::string expected = "volume=\"vg0-";
    expected.append(c.escaped).append("\",pool=\"vg0-pool-tpool\",vg=\"vg0\",lv=\"");
    expected.append(c.escaped).append("\",device_id=\"3\"");
    EXPECT_EQ(names.label_text(), expected);
  }
}

// Not LVM's (no "LVM-" uuid): no VG or LV, whatever its name looks like; a volume of a failed
// pool has neither a pool nor a device id.
TEST(VolumeNames, ADeviceNotMadeByLvmHasNoVgOrLv) {
  {
    VolumeNamesStore store;
    const VolumeNames& names = *store.add("vg0-thin", false, "", "");
    EXPECT_EQ(names.dm_name(), "vg0-thin");
    EXPECT_EQ(names.vg(), "");
    EXPECT_EQ(names.lv(), "");
    EXPECT_EQ(names.label_text(), "volume=\"vg0-thin\",pool=\"\",vg=\"\",lv=\"\",device_id=\"\"");
    EXPECT_TRUE(names.has_labels("", ""));
  }
}

// Names added one after another stay where they are and read back as they were made, across
// the store's blocks, as do their copies in another store; names longer than a block get a block
// of their own.
TEST(VolumeNamesStore, NamesStayWhereTheyAreAndCopyAcrossStores) {
  VolumeNamesStore store;
  struct Made {
    const VolumeNames* names;
    std::string dm_name;
    std::string label_text;
  };
  std::vector<Made> made;
  made.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    // Every 100th name far longer than a block, every 7th one that needs escaping.
    std::string lv = i % 100 == 50 ? std::string(70000, 'x') : "volume_" + std::to_string(i);
    if (i % 7 == 3) {
      lv += "\"q";
    }
    std::string dm_name = "vg0-" + lv;
    const VolumeNames* names = store.add(dm_name, true, "vg0-pool-tpool", std::to_string(i));
    made.push_back({names, dm_name, std::string(names->label_text())});
  }
  EXPECT_GT(store.held_bytes(), size_t{10} * 70000);
  EXPECT_EQ(store.used_bytes() > store.held_bytes() / 2, true);
  EXPECT_FALSE(store.mostly_unused());
  VolumeNamesStore copies;
  for (size_t i = 0; i < made.size(); ++i) {
    const Made& m = made[i];
    EXPECT_EQ(m.names->dm_name(), m.dm_name) << i;
    EXPECT_EQ(m.names->vg(), "vg0") << i;
    EXPECT_EQ(m.names->lv(), std::string_view(m.dm_name).substr(4)) << i;
    EXPECT_TRUE(m.names->has_labels("vg0-pool-tpool", std::to_string(i))) << i;
    const VolumeNames* copy = copies.add_copy(*m.names);
    EXPECT_NE(copy, m.names);
    EXPECT_EQ(copy->label_text(), m.label_text) << i;
    EXPECT_EQ(copy->dm_name(), m.dm_name) << i;
    EXPECT_EQ(copy->lv(), m.names->lv()) << i;
  }
  EXPECT_EQ(copies.used_bytes(), store.used_bytes());
}

// What the cache lets go of counts as unused; once more than half of what is held is unused, a
// copy of the rest is worth making.
TEST(VolumeNamesStore, CountsWhatIsNoLongerUsed) {
  VolumeNamesStore store;
  std::vector<const VolumeNames*> names;
  names.reserve(2000);
  for (int i = 0; i < 2000; ++i) {
    names.push_back(
        store.add("vg0-volume-" + std::to_string(i), true, "vg0-pool-tpool", std::to_string(i)));
  }
  const size_t used = store.used_bytes();
  EXPECT_FALSE(store.mostly_unused());
  for (size_t i = 0; i < 1000; ++i) {
    store.release(*names[i]);
  }
  EXPECT_LT(store.used_bytes(), used / 2 + used / 100);
  EXPECT_FALSE(store.mostly_unused());  // half unused: not yet
  for (size_t i = 1000; i < 1900; ++i) {
    store.release(*names[i]);
  }
  EXPECT_TRUE(store.mostly_unused());
  // Released names still read as they were (an inventory may still point at them).
  EXPECT_EQ(names[0]->dm_name(), "vg0-volume-0");
}

}  // namespace
}  // namespace thinpool
