// The VG model read from metadata: the fixture VG checked field by field, free space worked
// out by hand, and the metadata lvm2 itself would refuse.
#include "lvm/vg_model.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "lvm/config_parser.h"

namespace thinpool::lvm {
namespace {

std::string read_testdata(const std::string& name) {
  std::ifstream in(std::string(THINPOOL_LVM_TESTDATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

constexpr uint64_t kMiB = 1024ULL * 1024;

// The VG's thin LVs in the order for_each_thin_volume gives them.
std::vector<ThinVolumeSummary> thin_volumes(const VolumeGroup& vg) {
  std::vector<ThinVolumeSummary> volumes;
  for_each_thin_volume(vg, [&volumes](const ThinVolumeSummary& thin) { volumes.push_back(thin); });
  return volumes;
}

TEST(VolumeGroup, ReadsTheBackupFixture) {
  Expected<VolumeGroup> vg = parse_volume_group(read_testdata("vg0.backup"));
  ASSERT_TRUE(vg.ok()) << vg.error().message;
  EXPECT_EQ(vg->name, "vg0");
  EXPECT_EQ(vg->id, "Xq3dGk-mF2o-Lr8b-Vx0Q-p1Zc-Hw4T-yN7s2E");
  EXPECT_EQ(vg->seqno, 12u);
  EXPECT_EQ(vg->format, "lvm2");
  EXPECT_EQ(vg->extent_size_sectors, 8192u);
  EXPECT_EQ(vg->extent_size_bytes(), 4 * kMiB);
  EXPECT_EQ(vg->status, (std::vector<std::string>{"RESIZEABLE", "READ", "WRITE"}));
  EXPECT_EQ(vg->description, "Created *after* executing 'lvcreate --snapshot --name t1 vg0/t0'");
  EXPECT_EQ(vg->creation_host, "testhost");
  EXPECT_EQ(vg->creation_time, 1704794800u);

  ASSERT_EQ(vg->pvs.size(), 2u);
  const PhysicalVolume& pv1 = vg->pvs[1];
  EXPECT_EQ(pv1.name, "pv1");
  EXPECT_EQ(pv1.id, "Zp7QwE-r4Tn-Yu2i-O9pA-s8Df-G1hJ-k3LzXc");
  EXPECT_EQ(pv1.device_hint, "/dev/vdc");
  EXPECT_EQ(pv1.dev_size_sectors, 4194304u);
  EXPECT_EQ(pv1.pe_start_sectors, 2048u);
  EXPECT_EQ(pv1.pe_count, 511u);

  // The two thin LVs in the compact table, the pool, its sub-LVs and the others whole.
  ASSERT_EQ(vg->lv_count(), 8u);
  EXPECT_EQ(vg->thin_lvs.size(), 2u);
  EXPECT_EQ(vg->lvs.size(), 6u);
  const LogicalVolume* pool = vg->find_lv("pool");
  ASSERT_NE(pool, nullptr);
  EXPECT_TRUE(pool->visible);
  ASSERT_EQ(pool->segments.size(), 1u);
  ASSERT_TRUE(pool->segments[0].thin_pool.has_value());
  const ThinPoolSegment& tp = *pool->segments[0].thin_pool;
  EXPECT_EQ(tp.metadata_lv, "pool_tmeta");
  EXPECT_EQ(tp.data_lv, "pool_tdata");
  EXPECT_EQ(tp.transaction_id, 3u);
  EXPECT_EQ(tp.chunk_size_sectors, 128u);
  EXPECT_EQ(tp.discards, "passdown");
  EXPECT_TRUE(tp.zero_new_blocks);
  EXPECT_EQ(pool->segments[0].areas.size(), 0u);

  EXPECT_EQ(vg->find_lv("t1"), nullptr);  // thin LVs are found through for_each_thin_volume()
  const std::vector<LogicalVolume> all = vg->all_lvs();
  const auto t1 =
      std::find_if(all.begin(), all.end(), [](const LogicalVolume& lv) { return lv.name == "t1"; });
  ASSERT_NE(t1, all.end());
  ASSERT_TRUE(t1->segments[0].thin.has_value());
  EXPECT_EQ(t1->segments[0].thin->thin_pool, "pool");
  EXPECT_EQ(t1->segments[0].thin->device_id, 2u);
  EXPECT_EQ(t1->segments[0].thin->transaction_id, 2u);
  EXPECT_EQ(t1->segments[0].thin->origin, "t0");
  EXPECT_EQ(t1->extent_count(), 256u);

  const LogicalVolume* tmeta = vg->find_lv("pool_tmeta");
  ASSERT_NE(tmeta, nullptr);
  EXPECT_FALSE(tmeta->visible);

  const LogicalVolume* str = vg->find_lv("str");
  ASSERT_NE(str, nullptr);
  const Segment& striped = str->segments[0];
  EXPECT_EQ(striped.type, "striped");
  EXPECT_EQ(striped.stripe_size_sectors, 128u);
  EXPECT_EQ(striped.area_extents, 10u);
  ASSERT_EQ(striped.areas.size(), 2u);
  EXPECT_EQ(striped.areas[1].name, "pv1");
  EXPECT_EQ(striped.areas[1].start_extent, 310u);
  EXPECT_EQ(striped.areas[1].kind, AreaKind::kPhysicalVolume);
}

// Worked out by hand from vg0.backup (extent = 4 MiB):
//   pv0: 255 extents; allocated: lvol0_pmspare 1 (0), pool_tdata 100 (1..100),
//        lin 10 (200..209), str 10 of 20 (210..219)                      = 121
//   pv1: 511 extents; allocated: pool_tmeta 1 (0), pool_tdata 28 (1..28),
//        lin 5 (300..304), str 10 of 20 (310..319)                       =  44
//   thin LVs and the pool LV itself hold no PV extents.
//   size = 766 extents = 3064 MiB; free = 766 - 165 = 601 extents = 2404 MiB.
TEST(VolumeGroup, WithoutLvsCopiesEverythingElse) {
  Expected<VolumeGroup> vg = parse_volume_group(read_testdata("vg0.backup"));
  ASSERT_TRUE(vg.ok()) << vg.error().message;
  vg->profile = "thin-generic";  // the fixture sets none
  const VolumeGroup copy = vg->without_lvs();
  EXPECT_EQ(copy.lv_count(), 0u);
  EXPECT_EQ(vg->lv_count(), 8u);
  EXPECT_EQ(copy.name, vg->name);
  EXPECT_EQ(copy.id, vg->id);
  EXPECT_EQ(copy.seqno, vg->seqno);
  EXPECT_EQ(copy.extent_size_sectors, vg->extent_size_sectors);
  EXPECT_EQ(copy.status, vg->status);
  EXPECT_EQ(copy.profile, "thin-generic");
  EXPECT_EQ(copy.format, vg->format);
  ASSERT_EQ(copy.pvs.size(), vg->pvs.size());
  for (size_t i = 0; i < copy.pvs.size(); ++i) {
    EXPECT_EQ(copy.pvs[i].name, vg->pvs[i].name);
    EXPECT_EQ(copy.pvs[i].id, vg->pvs[i].id);
    EXPECT_EQ(copy.pvs[i].device_hint, vg->pvs[i].device_hint);
    EXPECT_EQ(copy.pvs[i].pe_count, vg->pvs[i].pe_count);
  }
  EXPECT_EQ(copy.description, vg->description);
  EXPECT_EQ(copy.creation_host, vg->creation_host);
  EXPECT_EQ(copy.creation_time, vg->creation_time);
  EXPECT_EQ(copy.size_bytes(), vg->size_bytes());   // the PVs' extents
  EXPECT_EQ(copy.free_bytes(), copy.size_bytes());  // no LV holds any
}

TEST(VolumeGroup, SizeAndFreeSpaceMatchTheHandCount) {
  Expected<VolumeGroup> vg = parse_volume_group(read_testdata("vg0.backup"));
  ASSERT_TRUE(vg.ok()) << vg.error().message;
  EXPECT_EQ(vg->total_extents(), 766u);
  EXPECT_EQ(vg->allocated_extents(), 165u);
  EXPECT_EQ(vg->free_extents(), 601u);
  EXPECT_EQ(vg->size_bytes(), 3064 * kMiB);
  EXPECT_EQ(vg->size_bytes(), 3212836864u);
  EXPECT_EQ(vg->free_bytes(), 2404 * kMiB);
  EXPECT_EQ(vg->free_bytes(), 2520776704u);
}

TEST(VolumeGroup, SummarizesThinPools) {
  Expected<VolumeGroup> vg = parse_volume_group(read_testdata("vg0.backup"));
  ASSERT_TRUE(vg.ok()) << vg.error().message;
  const std::vector<ThinPoolSummary> pools = thin_pools(*vg);
  ASSERT_EQ(pools.size(), 1u);
  EXPECT_EQ(pools[0].lv, "pool");
  EXPECT_EQ(pools[0].transaction_id, 3u);
  EXPECT_EQ(pools[0].metadata_lv, "pool_tmeta");
  EXPECT_EQ(pools[0].metadata_size_bytes, 4 * kMiB);
  EXPECT_EQ(pools[0].data_lv, "pool_tdata");
  EXPECT_EQ(pools[0].data_size_bytes, 512 * kMiB);
  EXPECT_EQ(pools[0].chunk_size_bytes, 64u * 1024);
  EXPECT_EQ(pools[0].thin_volume_count, 2u);
  // t0 and its thin snapshot, 1 GiB each.
  EXPECT_EQ(pools[0].provisioned_bytes, 2048 * kMiB);
  EXPECT_EQ(pools[0].snapshot_count, 1u);
}

TEST(VolumeGroup, ListsThinVolumesWithTheirCreationTimeAndOrigin) {
  Expected<VolumeGroup> vg = parse_volume_group(read_testdata("vg0.backup"));
  ASSERT_TRUE(vg.ok()) << vg.error().message;
  const std::vector<ThinVolumeSummary> volumes = thin_volumes(*vg);
  ASSERT_EQ(volumes.size(), 2u);
  std::map<std::string, const ThinVolumeSummary*> by_name;
  for (const ThinVolumeSummary& volume : volumes) {
    by_name[std::string(volume.name)] = &volume;
    EXPECT_EQ(volume.thin_pool, "pool");
    EXPECT_EQ(volume.extent_count * vg->extent_size_bytes(), 1024 * kMiB);
    EXPECT_TRUE(volume.visible);
  }
  ASSERT_TRUE(by_name.contains("t0"));
  ASSERT_EQ(by_name.size(), 2u);
  EXPECT_EQ(by_name["t0"]->origin, "");
  const ThinVolumeSummary* snapshot =
      by_name.begin()->first == "t0" ? std::next(by_name.begin())->second : by_name.begin()->second;
  EXPECT_EQ(snapshot->origin, "t0");
  // The pool LV itself and its hidden sub-LVs are not thin volumes; every LV's creation time is
  // read (the fixture's comments give them as dates).
  for (const LogicalVolume& lv : vg->all_lvs()) {
    EXPECT_GE(lv.creation_time, 1704794300u) << lv.name;
    EXPECT_LE(lv.creation_time, 1704794800u) << lv.name;
  }
}

TEST(VolumeGroup, CountsMissingPvsByFlagAndByPresence) {
  const std::string text = read_testdata("vg0.backup");
  Expected<VolumeGroup> vg = parse_volume_group(text);
  ASSERT_TRUE(vg.ok()) << vg.error().message;
  ASSERT_FALSE(vg->pvs.empty());
  EXPECT_EQ(missing_pv_count(*vg, nullptr), 0u);
  EXPECT_EQ(missing_pv_count(*vg, [](const PhysicalVolume&) { return true; }), 0u);
  EXPECT_EQ(missing_pv_count(*vg, [](const PhysicalVolume&) { return false; }), vg->pvs.size());
  const std::string pv_id = vg->pvs[0].id;
  EXPECT_EQ(missing_pv_count(*vg, [&](const PhysicalVolume& pv) { return pv.id != pv_id; }), 1u);

  // lvm2 2.03 writes MISSING into a PV's flags when it commits the VG without that PV's device
  // (seen in vgcfgbackup on 2.03.16); older versions wrote it into status.
  for (const auto& [from, to] :
       {std::pair{"flags = []", "flags = [\"MISSING\"]"},
        std::pair{"status = [\"ALLOCATABLE\"]", "status = [\"ALLOCATABLE\", \"MISSING\"]"}}) {
    const size_t at = text.find(from, text.find("pv0 {"));
    ASSERT_NE(at, std::string::npos) << from;
    std::string flagged = text;
    flagged.replace(at, std::string(from).size(), to);
    Expected<VolumeGroup> missing = parse_volume_group(flagged);
    ASSERT_TRUE(missing.ok()) << missing.error().message;
    EXPECT_EQ(missing_pv_count(*missing, nullptr), 1u) << to;
    EXPECT_EQ(missing_pv_count(*missing, [](const PhysicalVolume&) { return true; }), 1u) << to;
  }
}

TEST(VolumeGroup, MetadataAreaTextGivesTheSameVolumeGroup) {
  Expected<VolumeGroup> backup = parse_volume_group(read_testdata("vg0.backup"));
  Expected<VolumeGroup> mda = parse_volume_group(read_testdata("vg0.mda.txt"));
  ASSERT_TRUE(backup.ok()) << backup.error().message;
  ASSERT_TRUE(mda.ok()) << mda.error().message;
  EXPECT_EQ(mda->seqno, backup->seqno);
  EXPECT_EQ(mda->free_bytes(), backup->free_bytes());
  EXPECT_EQ(mda->lv_count(), backup->lv_count());
  EXPECT_EQ(mda->description, "");
  EXPECT_EQ(thin_pools(*mda)[0].transaction_id, 3u);
}

// A small VG to vary: pv0 has 100 extents, pv1 50, an extent is 4 KiB.
std::string small_vg(const std::string& lvs, const std::string& header = "") {
  return (header.empty() ? "contents = \"Text Format Volume Group\"\nversion = 1\n" : header) +
         "vg1 {\n id = \"vgid\"\n seqno = 4\n status = [\"READ\"]\n extent_size = 8\n"
         " physical_volumes {\n"
         "  pv0 { id = \"p0\" status = [\"ALLOCATABLE\"] pe_start = 2048 pe_count = 100 }\n"
         "  pv1 { id = \"p1\" status = [\"ALLOCATABLE\"] pe_start = 2048 pe_count = 50 }\n"
         " }\n logical_volumes {\n" +
         lvs + "\n }\n}\n";
}

std::string linear(const std::string& name, const std::string& pv, int start, int count) {
  return name + " { id = \"" + name + "\" status = [\"READ\", \"VISIBLE\"] segment_count = 1\n" +
         " segment1 { start_extent = 0 extent_count = " + std::to_string(count) +
         " type = \"striped\" stripe_count = 1 stripes = [\"" + pv + "\", " +
         std::to_string(start) + "] } }\n";
}

TEST(VolumeGroup, CountsMirrorLegsInFull) {
  // pvmove's temporary LV: a mirror whose legs sit directly on PVs.
  Expected<VolumeGroup> vg = parse_volume_group(
      small_vg("pvmove0 { id = \"m\" status = [\"READ\", \"PVMOVE\"] segment_count = 1\n"
               " segment1 { start_extent = 0 extent_count = 10 type = \"mirror\" mirror_count = 2\n"
               " mirrors = [\"pv0\", 0, \"pv1\", 0] } }"));
  ASSERT_TRUE(vg.ok()) << vg.error().message;
  EXPECT_EQ(vg->allocated_extents(), 20u);
  EXPECT_EQ(vg->free_extents(), 130u);
}

TEST(VolumeGroup, CountsRaidThroughItsImages) {
  Expected<VolumeGroup> vg = parse_volume_group(
      small_vg("r { id = \"r\" status = [\"READ\", \"VISIBLE\"] segment_count = 1\n"
               " segment1 { start_extent = 0 extent_count = 8 type = \"raid1\" device_count = 2\n"
               " raids = [\"r_rmeta_0\", \"r_rimage_0\", \"r_rmeta_1\", \"r_rimage_1\"] } }\n" +
               linear("r_rmeta_0", "pv0", 0, 1) + linear("r_rimage_0", "pv0", 1, 8) +
               linear("r_rmeta_1", "pv1", 0, 1) + linear("r_rimage_1", "pv1", 1, 8)));
  ASSERT_TRUE(vg.ok()) << vg.error().message;
  EXPECT_EQ(vg->find_lv("r")->segments[0].areas.size(), 4u);
  EXPECT_EQ(vg->allocated_extents(), 18u);
  EXPECT_EQ(vg->free_bytes(), (150u - 18u) * 4096u);
}

TEST(VolumeGroup, SplitsTypeFlagsAndReadsOldChunkSizeKey) {
  Expected<VolumeGroup> vg = parse_volume_group(small_vg(
      "p { id = \"p\" status = [\"READ\", \"VISIBLE\"] segment_count = 1\n"
      " segment1 { start_extent = 0 extent_count = 4 type = \"thin-pool+METADATA_FORMAT\"\n"
      " metadata = \"p_tmeta\" pool = \"p_tdata\" transaction_id = 91 data_block_size = 256 } }\n" +
      linear("p_tmeta", "pv0", 0, 1) + linear("p_tdata", "pv0", 1, 4)));
  ASSERT_TRUE(vg.ok()) << vg.error().message;
  const Segment& segment = vg->find_lv("p")->segments[0];
  EXPECT_EQ(segment.type, "thin-pool");
  EXPECT_EQ(segment.type_flags, std::vector<std::string>{"METADATA_FORMAT"});
  EXPECT_EQ(segment.thin_pool->chunk_size_sectors, 256u);
  EXPECT_EQ(segment.thin_pool->discards, "");
  EXPECT_FALSE(segment.thin_pool->zero_new_blocks);
  EXPECT_EQ(thin_pools(*vg)[0].transaction_id, 91u);
  EXPECT_EQ(thin_pools(*vg)[0].metadata_size_bytes, 4096u);
  EXPECT_EQ(thin_pools(*vg)[0].thin_volume_count, 0u);
}

// A thin LV as the reader makes one: one thin segment, segment1, from extent 0.
LogicalVolume thin_lv(const std::string& name, const std::string& pool, const std::string& origin,
                      const std::string& external_origin) {
  LogicalVolume lv;
  lv.name = name;
  lv.status = LvStatus({"READ", "WRITE", "VISIBLE"});
  lv.visible = true;
  lv.creation_time = 1704794500;
  Segment segment;
  segment.name = "segment1";
  segment.extent_count = 7;
  segment.type = "thin";
  ThinVolumeSegment thin;
  thin.thin_pool = pool;
  thin.transaction_id = 11;
  thin.device_id = 12;
  thin.origin = origin;
  thin.external_origin = external_origin;
  segment.thin = std::move(thin);
  lv.segments.push_back(std::move(segment));
  return lv;
}

// The same fields of two LVs (LogicalVolume has no operator==).
std::string describe(const LogicalVolume& lv) {
  std::string text = lv.name + (lv.visible ? " visible " : " hidden ") +
                     std::to_string(lv.creation_time) + " " + lv.profile + " [";
  for (const std::string& flag : lv.status.flags()) {
    text += flag + " ";
  }
  text += "]";
  for (const Segment& segment : lv.segments) {
    text += " " + segment.name + " " + segment.type + " " + std::to_string(segment.start_extent) +
            "+" + std::to_string(segment.extent_count) + " " +
            std::to_string(segment.area_extents) + " " + std::to_string(segment.areas.size()) +
            " " + std::to_string(segment.type_flags.size()) + " " +
            std::to_string(segment.stripe_size_sectors) + (segment.thin_pool ? " pool" : "");
    if (segment.thin) {
      text += " thin " + segment.thin->thin_pool + " " +
              std::to_string(segment.thin->transaction_id) + " " +
              std::to_string(segment.thin->device_id) + " <" + segment.thin->origin + "> <" +
              segment.thin->external_origin + ">";
    }
  }
  return text;
}

TEST(ThinLvTable, KeepsAThinLvAsItWasRead) {
  ThinLvTable table;
  const LogicalVolume a = thin_lv("volume-a", "cinder-volumes-pool", "", "");
  const LogicalVolume b = thin_lv("b", "other-pool", "volume-a", "");
  LogicalVolume c = thin_lv("c", "cinder-volumes-pool", "", "external");
  c.visible = false;
  c.status = LvStatus({"READ"});
  for (const LogicalVolume* lv : std::vector<const LogicalVolume*>{&a, &b, &c}) {
    ASSERT_TRUE(ThinLvTable::fits(*lv, 1)) << lv->name;
  }
  ASSERT_TRUE(table.add(a, 4));
  ASSERT_TRUE(table.add(b, 1));
  ASSERT_TRUE(table.add(c, 9));
  table.finish();  // by position: b, a, c
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table.position(0), 1u);
  EXPECT_EQ(table.position(2), 9u);
  EXPECT_EQ(describe(table.whole(0)), describe(b));
  EXPECT_EQ(describe(table.whole(1)), describe(a));
  EXPECT_EQ(describe(table.whole(2)), describe(c));
  const ThinVolumeSummary summary = table[2];
  EXPECT_EQ(summary.name, "c");
  EXPECT_EQ(summary.thin_pool, "cinder-volumes-pool");
  EXPECT_EQ(summary.origin, "");
  EXPECT_EQ(summary.external_origin, "external");
  EXPECT_EQ(summary.extent_count, 7u);
  EXPECT_EQ(summary.device_id, 12u);
  EXPECT_EQ(summary.transaction_id, 11u);
  EXPECT_EQ(summary.creation_time, 1704794500u);
  EXPECT_FALSE(summary.visible);
  EXPECT_EQ(table[0].origin, "volume-a");
  EXPECT_EQ(table[0].thin_pool, "other-pool");
}

TEST(ThinLvTable, LeavesWholeWhatItCannotHold) {
  const LogicalVolume base = thin_lv("t", "p", "", "");
  EXPECT_FALSE(ThinLvTable::fits(base, 2)) << "segment_count";
  std::vector<std::pair<std::string, LogicalVolume>> cases;
  auto vary = [&](const std::string& what, const std::function<void(LogicalVolume&)>& change) {
    LogicalVolume lv = base;
    change(lv);
    cases.emplace_back(what, std::move(lv));
  };
  vary("profile", [](LogicalVolume& lv) { lv.profile = "thin-performance"; });
  vary("unknown status", [](LogicalVolume& lv) { lv.status = LvStatus({"READ", "NEW_FLAG"}); });
  vary("visible without VISIBLE", [](LogicalVolume& lv) { lv.status = LvStatus({"READ"}); });
  vary("name of 65,536 bytes", [](LogicalVolume& lv) { lv.name = std::string(65536, 'n'); });
  vary("origin of 65,536 bytes",
       [](LogicalVolume& lv) { lv.segments[0].thin->origin = std::string(65536, 'o'); });
  vary("two segments", [](LogicalVolume& lv) { lv.segments.push_back(lv.segments[0]); });
  vary("not segment1", [](LogicalVolume& lv) { lv.segments[0].name = "segment2"; });
  vary("not from extent 0", [](LogicalVolume& lv) { lv.segments[0].start_extent = 1; });
  vary("type flags", [](LogicalVolume& lv) { lv.segments[0].type_flags = {"FLAG"}; });
  vary("an area", [](LogicalVolume& lv) {
    lv.segments[0].areas.push_back({AreaKind::kPhysicalVolume, "pv0", 0});
  });
  vary("stripe size", [](LogicalVolume& lv) { lv.segments[0].stripe_size_sectors = 128; });
  vary("area extents", [](LogicalVolume& lv) { lv.segments[0].area_extents = 7; });
  vary("a thin-pool part", [](LogicalVolume& lv) { lv.segments[0].thin_pool = ThinPoolSegment{}; });
  vary("no thin part",
       [](LogicalVolume& lv) { lv.segments[0].thin = HeapOptional<ThinVolumeSegment>(); });
  vary("another type", [](LogicalVolume& lv) { lv.segments[0].type = "thin-pool"; });
  vary("64-bit extent count", [](LogicalVolume& lv) { lv.segments[0].extent_count = 1ULL << 32; });
  ASSERT_TRUE(ThinLvTable::fits(base, 1));
  for (const auto& [what, lv] : cases) {
    EXPECT_FALSE(ThinLvTable::fits(lv, 1)) << what;
  }
}

// for_each_thin_volume() and all_lvs() give the LVs of both forms in metadata order.
TEST(ThinLvTable, LvsOfBothFormsInMetadataOrder) {
  const std::string text = small_vg(
      linear("lin", "pv0", 0, 2) +
      "pool { id = \"p\" status = [\"READ\", \"VISIBLE\"] segment_count = 1\n segment1 { "
      "start_extent = 0 extent_count = 4 type = \"thin-pool\" metadata = \"pool_tmeta\" pool = "
      "\"pool_tdata\" transaction_id = 5 chunk_size = 128 } }\n" +
      linear("pool_tmeta", "pv0", 2, 1) + linear("pool_tdata", "pv0", 3, 4) +
      "a { id = \"a\" status = [\"READ\", \"VISIBLE\"] segment_count = 1\n segment1 { "
      "start_extent = 0 extent_count = 3 type = \"thin\" thin_pool = \"pool\" transaction_id = 1 "
      "device_id = 1 } }\n"
      "b { id = \"b\" status = [\"READ\", \"VISIBLE\"] profile = \"x\" segment_count = 1\n "
      "segment1 { start_extent = 0 extent_count = 5 type = \"thin\" thin_pool = \"pool\" "
      "transaction_id = 2 device_id = 2 origin = \"a\" } }\n"
      "c { id = \"c\" status = [\"READ\"] segment_count = 1\n segment1 { start_extent = 0 "
      "extent_count = 6 type = \"thin\" thin_pool = \"pool\" transaction_id = 3 device_id = 3 "
      "origin = \"b\" } }\n" +
      linear("after", "pv1", 0, 1));
  for (bool whole_tree : {false, true}) {
    SCOPED_TRACE(whole_tree ? "whole tree" : "streaming");
    Expected<VolumeGroup> vg = parse_volume_group(text);
    if (whole_tree) {
      Expected<ConfigNode> tree = parse_config(text);
      ASSERT_TRUE(tree.ok()) << tree.error().message;
      vg = extract_volume_group(*tree);
    }
    ASSERT_TRUE(vg.ok()) << vg.error().message;
    EXPECT_EQ(vg->thin_lvs.size(), 2u);  // a and c; b has a profile
    EXPECT_EQ(vg->lvs.size(), 6u);
    std::string names;
    for (const LogicalVolume& lv : vg->all_lvs()) {
      names += lv.name + " ";
    }
    EXPECT_EQ(names, "lin pool pool_tmeta pool_tdata a b c after ");
    std::string thin;
    for (const ThinVolumeSummary& volume : thin_volumes(*vg)) {
      thin += fmt::format("{}:{}:{}:{} ", volume.name, volume.extent_count, volume.origin,
                          volume.visible);
    }
    EXPECT_EQ(thin, "a:3::true b:5:a:true c:6:b:false ");
    const std::vector<ThinPoolSummary> pools = thin_pools(*vg);
    ASSERT_EQ(pools.size(), 1u);
    EXPECT_EQ(pools[0].thin_volume_count, 3u);
    EXPECT_EQ(pools[0].snapshot_count, 2u);
    EXPECT_EQ(pools[0].provisioned_bytes, 14 * vg->extent_size_bytes());
  }
}

TEST(LvStatus, KeepsKnownFlagsAsBitsAndOthersByName) {
  const LvStatus status({"VISIBLE", "NEW_FLAG", "READ", "ACTIVATION_SKIP", "WRITE"});
  EXPECT_TRUE(status.contains("READ"));
  EXPECT_TRUE(status.contains("VISIBLE"));
  EXPECT_TRUE(status.contains("NEW_FLAG"));
  EXPECT_FALSE(status.contains("LOCKED"));
  EXPECT_FALSE(status.contains("OTHER"));
  EXPECT_EQ(status.flags(),
            (std::vector<std::string>{"READ", "WRITE", "VISIBLE", "ACTIVATION_SKIP", "NEW_FLAG"}));
  EXPECT_EQ(status, LvStatus({"READ", "WRITE", "VISIBLE", "ACTIVATION_SKIP", "NEW_FLAG"}));
  EXPECT_NE(status, LvStatus({"READ", "WRITE", "VISIBLE", "NEW_FLAG"}));
  EXPECT_TRUE(LvStatus().flags().empty());
}

TEST(VolumeGroup, AnEmptyVolumeGroupIsAllFree) {
  Expected<VolumeGroup> vg = parse_volume_group(small_vg(""));
  ASSERT_TRUE(vg.ok()) << vg.error().message;
  EXPECT_EQ(vg->free_bytes(), 150u * 4096u);
  EXPECT_TRUE(thin_pools(*vg).empty());
}

struct BadMetadata {
  std::string name;
  std::string text;
  std::string expected_error;
};

void PrintTo(const BadMetadata& bad, std::ostream* os) {
  *os << bad.name;
}

class VolumeGroupRejects : public ::testing::TestWithParam<BadMetadata> {};

TEST_P(VolumeGroupRejects, WithAReason) {
  Expected<VolumeGroup> vg = parse_volume_group(GetParam().text);
  ASSERT_FALSE(vg.ok());
  EXPECT_NE(vg.error().message.find(GetParam().expected_error), std::string::npos)
      << vg.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Metadata, VolumeGroupRejects,
    ::testing::Values(
        BadMetadata{"no_contents", small_vg("", "version = 1\n"),
                    "not LVM volume group metadata: top level: missing \"contents\""},
        BadMetadata{"other_contents", small_vg("", "contents = \"x\"\nversion = 1\n"),
                    "contents is \"x\""},
        BadMetadata{"version_2",
                    small_vg("", "contents = \"Text Format Volume Group\"\nversion = 2\n"),
                    "unsupported LVM metadata format version 2"},
        BadMetadata{"no_vg_section", "contents = \"Text Format Volume Group\"\nversion = 1\n",
                    "no volume group section"},
        BadMetadata{"parse_error", "vg {", "parse error at 1:5"},
        BadMetadata{"unknown_pv", small_vg(linear("a", "pv9", 0, 1)),
                    "names \"pv9\", which is neither a PV nor an LV of the VG"},
        BadMetadata{"beyond_pv_end", small_vg(linear("a", "pv0", 95, 10)),
                    "a/segment1: extents 95..104 lie beyond the end of pv0 (100 extents)"},
        BadMetadata{"overlap", small_vg(linear("a", "pv0", 0, 10) + linear("b", "pv0", 5, 10)),
                    "extent 5 of pv0 is allocated to both a and b"},
        BadMetadata{"stripes_do_not_divide",
                    small_vg("a { id = \"a\" status = [] segment_count = 1 segment1 { "
                             "start_extent = 0 extent_count = 5 type = \"striped\" stripe_count "
                             "= 2 stripes = [\"pv0\", 0, \"pv1\", 0] } }"),
                    "extent_count 5 is not a multiple of stripe_count 2"},
        BadMetadata{"stripe_count_mismatch",
                    small_vg("a { id = \"a\" status = [] segment_count = 1 segment1 { "
                             "start_extent = 0 extent_count = 4 type = \"striped\" stripe_count "
                             "= 2 stripes = [\"pv0\", 0] } }"),
                    "stripe_count is 2 but stripes lists 1 areas"},
        BadMetadata{"odd_area_list",
                    small_vg("a { id = \"a\" status = [] segment_count = 1 segment1 { "
                             "start_extent = 0 extent_count = 4 type = \"striped\" stripe_count "
                             "= 1 stripes = [\"pv0\"] } }"),
                    "expected pairs of volume name and extent, found 1 items"},
        BadMetadata{"area_swapped",
                    small_vg("a { id = \"a\" status = [] segment_count = 1 segment1 { "
                             "start_extent = 0 extent_count = 4 type = \"striped\" stripe_count "
                             "= 1 stripes = [0, \"pv0\"] } }"),
                    "area 0 is not a volume name and an extent"},
        BadMetadata{"segment_count_mismatch",
                    small_vg("a { id = \"a\" status = [] segment_count = 2 segment1 { "
                             "start_extent = 0 extent_count = 4 type = \"striped\" stripe_count "
                             "= 1 stripes = [\"pv0\", 0] } }"),
                    "vg1/logical_volumes/a: segment_count is 2 but there are 1 segments"},
        BadMetadata{"segment_gap",
                    small_vg("a { id = \"a\" status = [] segment_count = 2 segment1 { "
                             "start_extent = 0 extent_count = 4 type = \"striped\" stripe_count "
                             "= 1 stripes = [\"pv0\", 0] } segment2 { start_extent = 5 "
                             "extent_count = 1 type = \"striped\" stripe_count = 1 stripes = "
                             "[\"pv0\", 10] } }"),
                    "segment2: starts at extent 5, expected 4 (gap or overlap)"},
        BadMetadata{"thin_unknown_pool",
                    small_vg("t { id = \"t\" status = [] segment_count = 1 segment1 { "
                             "start_extent = 0 extent_count = 4 type = \"thin\" thin_pool = "
                             "\"nope\" transaction_id = 1 device_id = 1 } }"),
                    "segment1/thin_pool: unknown LV \"nope\""},
        BadMetadata{"pool_without_transaction_id",
                    small_vg("p { id = \"p\" status = [] segment_count = 1 segment1 { "
                             "start_extent = 0 extent_count = 4 type = \"thin-pool\" metadata = "
                             "\"p\" pool = \"p\" chunk_size = 128 } }"),
                    "vg1/logical_volumes/p/segment1: missing \"transaction_id\""},
        BadMetadata{
            "negative_extent_count",
            small_vg("a { id = \"a\" status = [] segment_count = 1 segment1 { "
                     "start_extent = 0 extent_count = -4 type = \"error\" } }"),
            "vg1/logical_volumes/a/segment1/extent_count (line 13:72): expected a non-negative "
            "integer, found -4"},
        BadMetadata{
            "transaction_id_as_string",
            small_vg("p { id = \"p\" status = [] segment_count = 1 segment1 { "
                     "start_extent = 0 extent_count = 4 type = \"thin-pool\" metadata = "
                     "\"p\" pool = \"p\" transaction_id = \"91\" chunk_size = 128 } }"),
            "vg1/logical_volumes/p/segment1/transaction_id (line 13:134): expected an integer, "
            "found string \"91\""},
        // An LV's id and creation_host are checked, though not kept.
        BadMetadata{"lv_without_id",
                    small_vg("a { status = [] segment_count = 1 segment1 { start_extent = 0 "
                             "extent_count = 4 type = \"striped\" stripe_count = 1 stripes = "
                             "[\"pv0\", 0] } }"),
                    "vg1/logical_volumes/a: missing \"id\""},
        BadMetadata{"lv_creation_host_as_number",
                    small_vg("a { id = \"a\" creation_host = 7 status = [] segment_count = 1 "
                             "segment1 { start_extent = 0 extent_count = 4 type = \"striped\" "
                             "stripe_count = 1 stripes = [\"pv0\", 0] } }"),
                    "vg1/logical_volumes/a/creation_host"},
        BadMetadata{"seqno_too_big",
                    "contents = \"Text Format Volume Group\"\nversion = 1\nvg { id = \"x\" seqno "
                    "= 4294967296 status = [] extent_size = 8 physical_volumes { } }",
                    "vg/seqno: 4294967296 does not fit in 32 bits"},
        BadMetadata{"zero_extent_size",
                    "contents = \"Text Format Volume Group\"\nversion = 1\nvg { id = \"x\" seqno "
                    "= 1 status = [] extent_size = 0 physical_volumes { } }",
                    "vg/extent_size: must not be 0"},
        BadMetadata{"no_physical_volumes",
                    "contents = \"Text Format Volume Group\"\nversion = 1\nvg { id = \"x\" seqno "
                    "= 1 status = [] extent_size = 8 }",
                    "vg: missing \"physical_volumes\""}),
    [](const ::testing::TestParamInfo<BadMetadata>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace thinpool::lvm
