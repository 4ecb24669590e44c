#include "collectors/lvm_volume_series.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "exposition/metric_writer.h"

namespace thinpool {
namespace {

struct Lv {
  std::string pool, lv, origin;
  uint64_t creation_time;
};

// The lines FamilySamples::add writes for the same LVs: what the kept form must reproduce.
std::string reference(const std::string& vg, const std::vector<Lv>& lvs) {
  std::string text;
  MetricWriter writer(text);
  FamilySamples created = writer.family(kLvmVolumeCreation);
  for (const Lv& lv : lvs) {
    if (lv.creation_time != 0) {
      created.add({lv.pool, vg, lv.lv}, static_cast<double>(lv.creation_time));
    }
  }
  FamilySamples info = writer.family(kLvmVolumeInfo);
  for (const Lv& lv : lvs) {
    info.add({lv.pool, vg, lv.lv, lv.origin}, 1);
  }
  return text;
}

std::string written(const std::string& vg, const std::vector<Lv>& lvs) {
  LvmVolumeSeries series;
  for (const Lv& lv : lvs) {
    series.add(vg, lv.pool, lv.lv, lv.origin, lv.creation_time);
  }
  series.shrink_to_fit();
  EXPECT_EQ(series.size(), lvs.size());
  std::string text;
  MetricWriter writer(text);
  FamilySamples created = writer.family(kLvmVolumeCreation);
  series.write_creation(created);
  FamilySamples info = writer.family(kLvmVolumeInfo);
  series.write_info(info);
  return text;
}

TEST(LvmVolumeSeriesTest, WritesWhatAddWouldWrite) {
  // Pools interleaved and returning, a snapshot and an external origin, a creation time that
  // the metadata does not give (no creation line), values beyond 2^53, and names that need
  // escaping (LVM itself allows none of these characters; a damaged or foreign text may hold
  // them).
  const std::vector<Lv> lvs = {
      {"pool", "volume-1", "", 1764000000},
      {"pool", "volume-1-snap", "volume-1", 1764000001},
      {"other", "vol\"quoted\"", "", 0},
      {"pool", "back\\slash", "ext\norigin", 1},
      {"other", "latin\xe9", "volume-1", uint64_t{1} << 53},
      {"p\"3", "v", "", (uint64_t{1} << 53) + 1},
      {"pool", "", "", 18446744073709551615ULL},
  };
  EXPECT_EQ(written("vg\\name", lvs), reference("vg\\name", lvs));
  EXPECT_EQ(written("cinder-volumes", lvs), reference("cinder-volumes", lvs));
}

TEST(LvmVolumeSeriesTest, NoLvsWriteNothing) {
  EXPECT_EQ(written("vg", {}), "");
  // Only LVs without a creation time: the info family alone.
  const std::vector<Lv> lvs = {{"pool", "a", "", 0}};
  const std::string text = written("vg", lvs);
  EXPECT_EQ(text, reference("vg", lvs));
  EXPECT_EQ(text.find("thinpool_lvm_volume_creation_timestamp_seconds"), std::string::npos);
}

TEST(LvmVolumeSeriesTest, ThousandsOfLvsInOrder) {
  std::vector<Lv> lvs;
  lvs.reserve(5000);
  for (int i = 0; i < 5000; ++i) {
    lvs.push_back({i % 3 == 0 ? "pool-a" : "pool-b", "volume-" + std::to_string(i),
                   i % 10 == 9 ? "volume-" + std::to_string(i - 1) : "",
                   static_cast<uint64_t>(1700000000 + i)});
  }
  EXPECT_EQ(written("vg", lvs), reference("vg", lvs));
}

}  // namespace
}  // namespace thinpool
