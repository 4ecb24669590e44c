// Against what a real lvm2 2.03.16 wrote on Debian 12's kernel (tests/fixtures/captured/lvm,
// made by tests/vm/capture-fixtures): the first MiB of the PV, `vgcfgbackup` of its VG, and
// `vgs`/`pvs --reportformat json` for the numbers lvm2 itself computes.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "lvm/pv_reader.h"
#include "lvm/vg_model.h"
#include "tests/lvm/pv_image.h"

namespace thinpool::lvm {
namespace {

const std::filesystem::path kDir = THINPOOL_LVM_CAPTURED_DIR;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string gunzip(const std::filesystem::path& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return "";
  }
  std::string out;
  char buffer[65536];
  int n = 0;
  while ((n = gzread(file, buffer, sizeof buffer)) > 0) {
    out.append(buffer, static_cast<size_t>(n));
  }
  gzclose(file);
  return out;
}

// "vg_free":"255852544B" -> "255852544"
std::string json_field(const std::string& json, const std::string& field) {
  std::smatch match;
  const std::regex pattern("\"" + field + "\":\"([^\"]*?)B?\"");
  if (!std::regex_search(json, match, pattern)) {
    return "";
  }
  return match[1];
}

class Captured : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kDir / "cinder-volumes.vgcfg") ||
        !std::filesystem::exists(kDir / "pv-vda-first-1MiB.bin.gz")) {
      GTEST_SKIP() << "no captured LVM fixtures in " << kDir;
    }
    image_ = gunzip(kDir / "pv-vda-first-1MiB.bin.gz");
    ASSERT_EQ(image_.size(), 1u << 20);
    vgs_ = read_file(kDir / "vgs.json");
    pvs_ = read_file(kDir / "pvs.json");
  }

  static PvReadOptions no_sleep() {
    PvReadOptions options;
    options.sleep = [](std::chrono::milliseconds) {};
    return options;
  }

  std::string image_;
  std::string vgs_;
  std::string pvs_;
};

TEST_F(Captured, BackupMatchesWhatVgsReports) {
  Expected<VolumeGroup> vg = parse_volume_group(read_file(kDir / "cinder-volumes.vgcfg"));
  ASSERT_TRUE(vg.ok()) << vg.error().message;
  EXPECT_EQ(vg->name, json_field(vgs_, "vg_name"));
  EXPECT_EQ(vg->id, json_field(vgs_, "vg_uuid"));
  EXPECT_EQ(std::to_string(vg->seqno), json_field(vgs_, "vg_seqno"));
  EXPECT_EQ(std::to_string(vg->size_bytes()), json_field(vgs_, "vg_size"));
  EXPECT_EQ(std::to_string(vg->free_bytes()), json_field(vgs_, "vg_free"));
  EXPECT_EQ(std::to_string(vg->extent_size_bytes()), json_field(vgs_, "vg_extent_size"));
  const std::vector<ThinPoolSummary> pools = thin_pools(*vg);
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0].lv, "cinder-volumes-pool");
  EXPECT_EQ(pools[0].transaction_id, 5u);
  EXPECT_EQ(pools[0].thin_volume_count, 5u);
  EXPECT_EQ(pools[0].metadata_size_bytes, 4u << 20);
  EXPECT_EQ(pools[0].data_size_bytes, 512u << 20);
}

TEST_F(Captured, PvImageMatchesWhatPvsReportsAndTheBackup) {
  MemoryBlockReader reader(image_, "vda");
  Expected<PvMetadata> metadata = read_pv_metadata(reader, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  EXPECT_EQ(metadata->attempts, 1);
  EXPECT_EQ(metadata->label.sector, 1u);
  EXPECT_EQ(metadata->label.pv_uuid, json_field(pvs_, "pv_uuid"));
  ASSERT_EQ(metadata->label.data_areas.size(), 1u);
  EXPECT_EQ(std::to_string(metadata->label.data_areas[0].offset), json_field(pvs_, "pe_start"));
  ASSERT_EQ(metadata->label.metadata_areas.size(), 1u);
  EXPECT_EQ(std::to_string(metadata->label.metadata_areas[0].size),
            json_field(pvs_, "pv_mda_size"));
  ASSERT_TRUE(metadata->location.has_value()) << metadata->no_metadata_reason;

  Expected<VolumeGroup> from_pv = parse_volume_group(metadata->text);
  Expected<VolumeGroup> from_backup = parse_volume_group(read_file(kDir / "cinder-volumes.vgcfg"));
  ASSERT_TRUE(from_pv.ok()) << from_pv.error().message;
  ASSERT_TRUE(from_backup.ok()) << from_backup.error().message;
  EXPECT_EQ(from_pv->name, from_backup->name);
  EXPECT_EQ(from_pv->seqno, from_backup->seqno);
  EXPECT_EQ(from_pv->free_bytes(), from_backup->free_bytes());
  EXPECT_EQ(from_pv->lv_count(), from_backup->lv_count());
  EXPECT_EQ(thin_pools(*from_pv)[0].transaction_id, thin_pools(*from_backup)[0].transaction_id);
  EXPECT_EQ(from_pv->pvs[0].id, metadata->label.pv_uuid);
  EXPECT_EQ(metadata->label.device_size_bytes, from_pv->pvs[0].dev_size_sectors * kSectorBytes);
}

// Every thin LV real lvm2 wrote (in its metadata area and in its backup) fits the compact table
// the reader keeps them in (vg_model.h's ThinLvTable): none is left whole among the pools' LVs.
TEST_F(Captured, TheRealThinLvsAreKeptInTheCompactTable) {
  MemoryBlockReader reader(image_, "vda");
  Expected<PvMetadata> metadata = read_pv_metadata(reader, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  const std::string backup = read_file(kDir / "cinder-volumes.vgcfg");
  for (const std::string* text : std::vector<const std::string*>{&metadata->text, &backup}) {
    Expected<VolumeGroup> vg = parse_volume_group(*text);
    ASSERT_TRUE(vg.ok()) << vg.error().message;
    size_t thin_segments = 0;
    for (size_t at = text->find("type = \"thin\""); at != std::string::npos;
         at = text->find("type = \"thin\"", at + 1)) {
      ++thin_segments;
    }
    ASSERT_GT(thin_segments, 0u);
    EXPECT_EQ(vg->thin_lvs.size(), thin_segments);
    size_t visited = 0;
    for_each_thin_volume(*vg, [&visited](const ThinVolumeSummary&) { ++visited; });
    EXPECT_EQ(visited, thin_segments);
    for (const LogicalVolume& lv : vg->lvs) {
      for (const Segment& segment : lv.segments) {
        EXPECT_FALSE(segment.thin.has_value()) << lv.name;
      }
    }
  }
}

TEST_F(Captured, ReadsTheRealTextMovedToWrapAround) {
  MemoryBlockReader original(image_);
  Expected<PvMetadata> metadata = read_pv_metadata(original, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  const DiskArea mda = metadata->label.metadata_areas[0];
  std::string moved = image_;
  testing::commit_metadata(moved, mda.offset, metadata->text, mda.size - 1000);
  MemoryBlockReader reader(moved);
  Expected<PvMetadata> wrapped = read_pv_metadata(reader, no_sleep());
  ASSERT_TRUE(wrapped.ok()) << wrapped.error().message;
  EXPECT_EQ(wrapped->text, metadata->text);
  EXPECT_EQ(wrapped->location->raw.offset, mda.size - 1000);
}

TEST_F(Captured, NeverReturnsADamagedRealText) {
  MemoryBlockReader original(image_);
  Expected<PvMetadata> metadata = read_pv_metadata(original, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  std::string damaged = image_;
  // "transaction_id = 5" in the text becomes 6: what a torn or corrupted copy could say.
  const size_t text_at = metadata->location->mda_start + metadata->location->raw.offset;
  const size_t at = damaged.find("transaction_id = 5", text_at);
  ASSERT_NE(at, std::string::npos);
  damaged[at + 17] = '6';
  MemoryBlockReader reader(damaged);
  Expected<PvMetadata> read = read_pv_metadata(reader, no_sleep());
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message.find("fails its checksum"), std::string::npos)
      << read.error().message;
}

}  // namespace
}  // namespace thinpool::lvm
