// write_lvm_series with its cache (collectors/lvm_series.h): a scrape of an unchanged VG writes
// from what an earlier scrape derived, and whatever changed (a new version of the VG, the pools the
// kernel has active and their dm names, the per-LV series flag, the VGs loaded) gives the text a
// fresh cache gives, which is the text written without one.
#include "collectors/lvm_series.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/exposition_text.h"

namespace thinpool {
namespace {

using testing_support::has_line;

// An LV section as lvm2 writes it, with one segment of `extents` extents of `type`.
std::string lv_text(const std::string& name, uint64_t created, uint64_t extents,
                    const std::string& type, const std::string& segment) {
  return name + " {\nid = \"" + name + "-id\"\nstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\n" +
         "creation_time = " + std::to_string(created) +
         "\nsegment_count = 1\nsegment1 {\nstart_extent = 0\nextent_count = " +
         std::to_string(extents) + "\ntype = \"" + type + "\"\n" + segment + "}\n}\n";
}

// The text lvm2 writes for vg0 with pool "pool" (its transaction id the seqno) and the thin LVs
// `volumes`, the second a snapshot of the first.
std::string vg_text(uint64_t seqno, const std::vector<std::string>& volumes) {
  const std::string seq = std::to_string(seqno);
  std::string text =
      "contents = \"Text Format Volume Group\"\nversion = 1\nvg0 {\nid = \"vg0-uuid\"\nseqno = " +
      seq +
      "\nformat = \"lvm2\"\nstatus = [\"READ\", \"WRITE\"]\nextent_size = 8192\n"
      "physical_volumes {\npv0 {\nid = \"pv0-uuid\"\ndevice = \"/dev/vdb\"\n"
      "status = [\"ALLOCATABLE\"]\npe_start = 2048\npe_count = 1000\n}\n}\n"
      "logical_volumes {\n";
  text += lv_text("pool", 0, 100, "thin-pool",
                  "metadata = \"pool_tmeta\"\npool = \"pool_tdata\"\ntransaction_id = " + seq +
                      "\nchunk_size = 128\n");
  text += lv_text("pool_tmeta", 0, 2, "striped", "stripe_count = 1\nstripes = [\"pv0\", 0]\n");
  text += lv_text("pool_tdata", 0, 100, "striped", "stripe_count = 1\nstripes = [\"pv0\", 2]\n");
  for (size_t i = 0; i < volumes.size(); ++i) {
    const std::string origin = i == 1 ? "origin = \"" + volumes[0] + "\"\n" : "";
    text +=
        lv_text(volumes[i], 1700000000 + i, 256, "thin",
                "thin_pool = \"pool\"\ntransaction_id = 0\ndevice_id = " + std::to_string(i + 1) +
                    "\n" + origin);
  }
  text += "}\n}\n";
  return text;
}

// A new VG object each call, parsed from vg_text().
std::shared_ptr<const lvm::VolumeGroup> volume_group(uint64_t seqno,
                                                     const std::vector<std::string>& volumes) {
  const std::string text = vg_text(seqno, volumes);
  auto vg = lvm::parse_volume_group(text);
  EXPECT_TRUE(vg.ok()) << vg.error().message << "\n" << text;
  return std::make_shared<const lvm::VolumeGroup>(vg.ok() ? std::move(*vg) : lvm::VolumeGroup{});
}

LoadedVolumeGroups loaded(const std::shared_ptr<const lvm::VolumeGroup>& vg) {
  LoadedVolumeGroups groups;
  lvm::LoadedVolumeGroup group;
  group.vg = vg;
  group.origin = "/dev/vdb";
  groups.emplace(vg->name, group);
  return groups;
}

// The kernel's pools: vg0's "pool" active as `dm_name`, or none.
ThinInventory kernel(const std::string& dm_name) {
  ThinInventory inventory;
  if (!dm_name.empty()) {
    ThinPool pool;
    pool.names.dm_name = dm_name;
    pool.names.vg = "vg0";
    pool.names.lv = "pool";
    pool.uuid = "LVM-vg0-pool-tpool";
    inventory.pools.push_back(pool);
  }
  return inventory;
}

std::string write(const LoadedVolumeGroups& groups, const ThinInventory& inventory,
                  bool volume_series, LvmSeriesCache& cache) {
  std::string text;
  MetricWriter out(text);
  write_lvm_series(groups, inventory, {}, {.volume_series = volume_series}, cache, out);
  return text;
}

std::string fresh(const LoadedVolumeGroups& groups, const ThinInventory& inventory,
                  bool volume_series) {
  LvmSeriesCache cache;
  return write(groups, inventory, volume_series, cache);
}

TEST(LvmSeriesCache, AnUnchangedVgIsDerivedOnceAndWrittenTheSameEveryScrape) {
  const LoadedVolumeGroups groups = loaded(volume_group(7, {"a", "b"}));
  const ThinInventory inventory = kernel("vg0-pool-tpool");
  LvmSeriesCache cache;
  const std::string expected = fresh(groups, inventory, true);
  for (int scrape = 0; scrape < 3; ++scrape) {
    EXPECT_EQ(write(groups, inventory, true, cache), expected) << scrape;
  }
  EXPECT_EQ(cache.made(), 1u);
  EXPECT_TRUE(
      has_line(expected, R"(thinpool_lvm_volume_info{pool="pool",vg="vg0",lv="b",origin="a"} 1)"))
      << expected;
  EXPECT_TRUE(has_line(
      expected,
      R"(thinpool_lvm_volume_creation_timestamp_seconds{pool="pool",vg="vg0",lv="a"} 1700000000)"))
      << expected;
  // 1000 extents of 4 MiB, 102 of them allocated (_tmeta, _tdata).
  EXPECT_TRUE(has_line(expected, R"(thinpool_lvm_vg_free_bytes{vg="vg0"} 3766484992)")) << expected;
  EXPECT_TRUE(has_line(expected,
                       R"(thinpool_lvm_thin_volumes{pool="vg0-pool-tpool",vg="vg0",lv="pool"} 2)"))
      << expected;
}

TEST(LvmSeriesCache, ANewVersionOfTheVgIsWrittenNotTheOneBefore) {
  const ThinInventory inventory = kernel("vg0-pool-tpool");
  LvmSeriesCache cache;
  const LoadedVolumeGroups before = loaded(volume_group(7, {"a", "b"}));
  write(before, inventory, true, cache);
  // LVM committed: "a" removed, "c" created, the pool's transaction id bumped.
  const LoadedVolumeGroups after = loaded(volume_group(8, {"c", "b"}));
  const std::string text = write(after, inventory, true, cache);
  EXPECT_EQ(text, fresh(after, inventory, true));
  EXPECT_TRUE(
      has_line(text, R"(thinpool_lvm_volume_info{pool="pool",vg="vg0",lv="c",origin=""} 1)"))
      << text;
  EXPECT_EQ(text.find(R"(lv="a")"), std::string::npos) << text;
  EXPECT_TRUE(
      has_line(text, R"(thinpool_lvm_transaction_id{pool="vg0-pool-tpool",vg="vg0",lv="pool"} 8)"))
      << text;
  // A VG read again into a new object is derived again, even with the same seqno: the object is
  // the key, not what it says about itself.
  const LoadedVolumeGroups reread = loaded(volume_group(8, {"c", "d"}));
  EXPECT_EQ(write(reread, inventory, true, cache), fresh(reread, inventory, true));
  EXPECT_EQ(cache.made(), 3u);
  // A VG that no longer loads leaves no series, one that reads again its own.
  LoadedVolumeGroups failed;
  failed.emplace("vg0", Error{"no physical volume found for the pool"});
  EXPECT_EQ(write(failed, inventory, true, cache), fresh(failed, inventory, true));
  EXPECT_EQ(write(LoadedVolumeGroups{}, inventory, true, cache), "");
  EXPECT_EQ(write(before, inventory, true, cache), fresh(before, inventory, true));
}

TEST(LvmSeriesCache, ThePoolsTheKernelHasActiveAreTakenFromEachScrape) {
  const LoadedVolumeGroups groups = loaded(volume_group(7, {"a", "b"}));
  LvmSeriesCache cache;
  // Inactive, activated, renamed (dmsetup rename), deactivated.
  for (const std::string dm_name : {"", "vg0-pool-tpool", "renamed-tpool", ""}) {
    const ThinInventory inventory = kernel(dm_name);
    const std::string text = write(groups, inventory, true, cache);
    EXPECT_EQ(text, fresh(groups, inventory, true)) << dm_name;
    const std::string labels = "{pool=\"" + dm_name + R"(",vg="vg0",lv="pool"})";
    EXPECT_TRUE(
        has_line(text, "thinpool_lvm_pool_active" + labels + (dm_name.empty() ? " 0" : " 1")))
        << text;
    EXPECT_EQ(text.find("thinpool_lvm_transaction_id{") != std::string::npos, !dm_name.empty())
        << text;
    if (dm_name != "vg0-pool-tpool") {
      EXPECT_EQ(text.find("vg0-pool-tpool"), std::string::npos) << text;
    }
  }
  EXPECT_EQ(cache.made(), 1u);
}

TEST(LvmSeriesCache, ThePerLvSeriesFlagIsPartOfTheKey) {
  const LoadedVolumeGroups groups = loaded(volume_group(7, {"a", "b"}));
  const ThinInventory inventory = kernel("vg0-pool-tpool");
  LvmSeriesCache cache;
  for (bool volume_series : {true, false, true, false}) {
    const std::string text = write(groups, inventory, volume_series, cache);
    EXPECT_EQ(text, fresh(groups, inventory, volume_series)) << volume_series;
    EXPECT_EQ(text.find("thinpool_lvm_volume_info{") != std::string::npos, volume_series) << text;
  }
}

// As the lvm collector runs it: the VGs loaded through the metadata cache, the entries kept there
// as their digests. The LVs are let go once the entry is made, and every scrape writes what one
// without the metadata cache writes.
TEST(LvmSeriesCache, AnEntryKeptAsTheVgsDigestIsWrittenWithoutTheLvs) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("thinpool_lvm_series_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto commit = [&](uint64_t seqno, const std::vector<std::string>& volumes) {
    std::ofstream(dir / "vg0", std::ios::binary) << vg_text(seqno, volumes);
  };
  lvm::VolumeGroupCache metadata;
  LvmSeriesCache cache;
  const ThinInventory inventory = kernel("vg0-pool-tpool");
  struct Scrape {
    std::string text;
    bool reused = false;
    bool had_digest = false;
    size_t lvs_written_from = 0;  // the LVs of the VG the scrape held while writing
  };
  auto scrape = [&] {
    LoadedVolumeGroups groups;
    groups.emplace("vg0", metadata.load_from_backup(dir, "vg0"));
    EXPECT_TRUE(groups.at("vg0").ok()) << groups.at("vg0").error().message;
    Scrape result;
    result.reused = groups.at("vg0")->reused;
    result.had_digest = groups.at("vg0")->digest != nullptr;
    const std::vector<LvmSeriesCache::Entry> entries = cache.entries(groups, true);
    keep_as_digests(groups, entries, metadata);
    result.lvs_written_from = groups.at("vg0")->vg->lvs.size();
    MetricWriter out(result.text);
    write_lvm_series(groups, inventory, {}, {.volume_series = true}, entries, out);
    return result;
  };

  // What the same VG writes without the metadata cache, read from the same backup.
  auto expected_text = [&](uint64_t seqno, const std::vector<std::string>& volumes) {
    LoadedVolumeGroups groups = loaded(volume_group(seqno, volumes));
    groups.at("vg0")->source = lvm::MetadataSource::kBackupFile;
    groups.at("vg0")->origin = (dir / "vg0").string();
    return fresh(groups, inventory, true);
  };
  commit(7, {"a", "b"});
  const std::string expected = expected_text(7, {"a", "b"});
  const Scrape first = scrape();
  EXPECT_EQ(first.text, expected);
  EXPECT_FALSE(first.reused);
  EXPECT_FALSE(first.had_digest);
  EXPECT_EQ(first.lvs_written_from, 0u);
  for (int again = 0; again < 2; ++again) {
    const Scrape next = scrape();
    EXPECT_EQ(next.text, expected) << again;
    EXPECT_TRUE(next.reused);
    EXPECT_TRUE(next.had_digest);
    EXPECT_EQ(next.lvs_written_from, 0u);
  }
  EXPECT_EQ(cache.made(), 1u);
  EXPECT_EQ(metadata.stats().parses, 1u);

  // LVM commits: parsed again, derived again, the LVs let go again.
  commit(8, {"c", "b"});
  const Scrape after = scrape();
  EXPECT_EQ(after.text, expected_text(8, {"c", "b"}));
  EXPECT_FALSE(after.reused);
  EXPECT_FALSE(after.had_digest);
  EXPECT_EQ(after.lvs_written_from, 0u);
  EXPECT_EQ(scrape().text, after.text);
  EXPECT_EQ(cache.made(), 2u);
  EXPECT_EQ(metadata.stats().parses, 2u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace thinpool
