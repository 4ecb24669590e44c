// Backup files and the cache that re-parses only after LVM committed new metadata.
#include "lvm/metadata_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "lvm/backup_reader.h"
#include "tests/lvm/pv_image.h"

namespace thinpool::lvm {
namespace {

using testing::build_pv_image;
using testing::commit_metadata;
using testing::PvImageSpec;

std::string read_testdata(const std::string& name) {
  std::ifstream in(std::string(THINPOOL_LVM_TESTDATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string with_seqno(std::string text, int seqno) {
  const size_t at = text.find("seqno = 12");
  text.replace(at, 10, "seqno = " + std::to_string(seqno));
  return text;
}

// Counts reads and remembers their offsets.
class CountingReader final : public BlockReader {
 public:
  explicit CountingReader(std::string image) : memory_(std::move(image), "/dev/test") {}
  Expected<std::string> read_at(uint64_t offset, size_t length) override {
    offsets.push_back(offset);
    return memory_.read_at(offset, length);
  }
  std::string name() const override { return memory_.name(); }
  MemoryBlockReader& memory() { return memory_; }

  std::vector<uint64_t> offsets;

 private:
  MemoryBlockReader memory_;
};

PvReadOptions no_sleep() {
  PvReadOptions options;
  options.sleep = [](std::chrono::milliseconds) {};
  return options;
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("thinpool_lvm_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

// vg0's metadata (seqno 12) on a PV image read through a CountingReader, and a cache to load it.
struct Vg0OnPv {
  PvImageSpec spec = [] {
    PvImageSpec vg0;
    vg0.text = read_testdata("vg0.mda.txt");
    return vg0;
  }();
  CountingReader reader{build_pv_image(spec)};
  VolumeGroupCache cache{no_sleep()};

  // lvm2 writes version `seqno` at `offset` of the circular buffer and commits it.
  void commit(int seqno, uint64_t offset = 512 + 8192) {
    std::string image = reader.memory().image();
    commit_metadata(image, 4096, with_seqno(spec.text, seqno), offset);
    reader.memory().set_image(image);
  }
};

// vg0's backup in a folder of its own, and a cache to load it.
struct Vg0Backup {
  Vg0Backup() { dir.write("vg0", text); }
  Expected<LoadedVolumeGroup> load() { return cache.load_from_backup(dir.path(), "vg0"); }

  TempDir dir;
  const std::string text = read_testdata("vg0.backup");
  VolumeGroupCache cache{no_sleep()};
};

TEST(VgName, FollowsLvmRules) {
  EXPECT_TRUE(is_valid_vg_name("vg0"));
  EXPECT_TRUE(is_valid_vg_name("cinder-volumes"));
  EXPECT_TRUE(is_valid_vg_name("a.b_c+d"));
  EXPECT_FALSE(is_valid_vg_name(""));
  EXPECT_FALSE(is_valid_vg_name("."));
  EXPECT_FALSE(is_valid_vg_name(".."));
  EXPECT_FALSE(is_valid_vg_name("-vg"));
  EXPECT_FALSE(is_valid_vg_name("../etc/passwd"));
  EXPECT_FALSE(is_valid_vg_name("vg/0"));
  EXPECT_FALSE(is_valid_vg_name("vg 0"));
  EXPECT_FALSE(is_valid_vg_name(std::string(128, 'v')));
  EXPECT_TRUE(is_valid_vg_name(std::string(127, 'v')));
}

// read_backup_file + parse_backup, as VolumeGroupCache::load_from_backup reads a backup.
Expected<VolumeGroup> load_backup(const std::filesystem::path& dir, std::string_view vg_name) {
  Expected<BackupText> backup = read_backup_file(dir, vg_name);
  if (!backup.ok()) {
    return backup.error();
  }
  return parse_backup(*backup, vg_name);
}

TEST(Backup, LoadsTheVolumeGroup) {
  TempDir dir;
  dir.write("vg0", read_testdata("vg0.backup"));
  Expected<VolumeGroup> vg = load_backup(dir.path(), "vg0");
  ASSERT_TRUE(vg.ok()) << vg.error().message;
  EXPECT_EQ(vg->seqno, 12u);
  EXPECT_EQ(thin_pools(*vg)[0].transaction_id, 3u);
}

TEST(Backup, ExplainsFailures) {
  TempDir dir;
  Expected<VolumeGroup> missing = load_backup(dir.path(), "vg9");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().is(ErrorKind::kGone));
  EXPECT_EQ(missing.error().message,
            "open " + (dir.path() / "vg9").string() + ": No such file or directory");

  Expected<VolumeGroup> traversal = load_backup(dir.path(), "../vg0");
  ASSERT_FALSE(traversal.ok());
  EXPECT_EQ(traversal.error().message, "\"../vg0\" is not a valid volume group name");

  dir.write("other", read_testdata("vg0.backup"));
  Expected<VolumeGroup> renamed = load_backup(dir.path(), "other");
  ASSERT_FALSE(renamed.ok());
  EXPECT_NE(renamed.error().message.find("describes volume group \"vg0\", not \"other\""),
            std::string::npos);

  dir.write("broken", "broken {\n");
  Expected<VolumeGroup> broken = load_backup(dir.path(), "broken");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find((dir.path() / "broken").string() +
                                        ": parse error at 2:1: unexpected end of input"),
            std::string::npos)
      << broken.error().message;

  std::filesystem::create_directory(dir.path() / "adir");
  Expected<BackupText> directory = read_backup_file(dir.path(), "adir");
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message.find("not a regular file"), std::string::npos);

  dir.write("big", std::string(2000, '#'));
  Expected<BackupText> big = read_backup_file(dir.path(), "big", 1000);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("2000 bytes, more than the 1000 allowed"), std::string::npos);
}

TEST(Cache, ParsesOnceWhileTheRawLocationStaysTheSame) {
  Vg0OnPv pv;
  CountingReader& reader = pv.reader;
  VolumeGroupCache& cache = pv.cache;

  Expected<LoadedVolumeGroup> first = cache.load_from_pv(reader);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->reused);
  EXPECT_EQ(first->source, MetadataSource::kPhysicalVolume);
  EXPECT_EQ(to_string(first->source), "pv");
  EXPECT_EQ(first->origin, "/dev/test");
  EXPECT_EQ(first->vg->seqno, 12u);
  EXPECT_EQ(reader.offsets.size(), 2u);  // the first 8 KiB (label, header), then the text

  reader.offsets.clear();
  Expected<LoadedVolumeGroup> second = cache.load_from_pv(reader);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_TRUE(second->reused);
  EXPECT_EQ(second->vg.get(), first->vg.get());
  EXPECT_EQ(reader.offsets, (std::vector<uint64_t>{0}));  // the label and header; no text read
  EXPECT_EQ(cache.stats().parses, 1u);
  EXPECT_EQ(cache.stats().reuses, 1u);
}

TEST(Cache, ReparsesAfterACommit) {
  Vg0OnPv pv;
  VolumeGroupCache& cache = pv.cache;
  ASSERT_TRUE(cache.load_from_pv(pv.reader).ok());

  // lvm2 writes version 13 after version 12 in the circular buffer and commits it.
  pv.commit(13);
  Expected<LoadedVolumeGroup> after = cache.load_from_pv(pv.reader);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_FALSE(after->reused);
  EXPECT_EQ(after->vg->seqno, 13u);
  EXPECT_EQ(after->location->raw.offset, 512u + 8192u);
  EXPECT_EQ(cache.stats().parses, 2u);

  // Same offset and size but other bytes (a hand-edited vgcfgrestore): the checksum differs.
  pv.commit(14);
  after = cache.load_from_pv(pv.reader);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->vg->seqno, 14u);
  EXPECT_EQ(cache.stats().parses, 3u);
}

TEST(Cache, RemembersMetadataThatDoesNotParse) {
  PvImageSpec spec;
  spec.text = "vg0 { seqno = 1 ";  // checksum fine, text truncated by whoever wrote it
  CountingReader reader(build_pv_image(spec));
  VolumeGroupCache cache(no_sleep());
  for (int i = 0; i < 3; ++i) {
    Expected<LoadedVolumeGroup> loaded = cache.load_from_pv(reader);
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().message.find("/dev/test: metadata at byte 4608 (seen at attempt 1): "
                                          "parse error at 1:17"),
              std::string::npos)
        << loaded.error().message;
  }
  EXPECT_EQ(cache.stats().parses, 1u);
}

TEST(Cache, ReportsAPvWithoutMetadata) {
  PvImageSpec spec;  // no text: an unused PV
  CountingReader reader(build_pv_image(spec));
  VolumeGroupCache cache(no_sleep());
  Expected<LoadedVolumeGroup> loaded = cache.load_from_pv(reader);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message,
            "/dev/test: the metadata area holds no volume group (an unused PV)");
}

TEST(Cache, KeepsPvsApart) {
  PvImageSpec a;
  a.text = read_testdata("vg0.mda.txt");
  PvImageSpec b = a;
  b.pv_uuid = "Zp7QwEr4TnYu2iO9pAs8DfG1hJk3LzXc";
  b.text = with_seqno(a.text, 40);
  CountingReader reader_a(build_pv_image(a));
  CountingReader reader_b(build_pv_image(b));
  VolumeGroupCache cache(no_sleep());
  EXPECT_EQ(cache.load_from_pv(reader_a)->vg->seqno, 12u);
  EXPECT_EQ(cache.load_from_pv(reader_b)->vg->seqno, 40u);
  EXPECT_TRUE(cache.load_from_pv(reader_a)->reused);
  EXPECT_TRUE(cache.load_from_pv(reader_b)->reused);
  EXPECT_EQ(cache.stats().parses, 2u);
}

TEST(Cache, EvictsTheLeastRecentlyUsed) {
  VolumeGroupCache cache(no_sleep(), /*capacity=*/1);
  PvImageSpec a;
  a.text = read_testdata("vg0.mda.txt");
  PvImageSpec b = a;
  b.pv_uuid = "Zp7QwEr4TnYu2iO9pAs8DfG1hJk3LzXc";
  CountingReader reader_a(build_pv_image(a));
  CountingReader reader_b(build_pv_image(b));
  ASSERT_TRUE(cache.load_from_pv(reader_a).ok());
  ASSERT_TRUE(cache.load_from_pv(reader_b).ok());
  EXPECT_FALSE(cache.load_from_pv(reader_a)->reused);
  EXPECT_EQ(cache.stats().parses, 3u);
}

TEST(Cache, ReparsesABackupOnlyWhenItChanges) {
  Vg0Backup backup;
  Expected<LoadedVolumeGroup> first = backup.load();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->source, MetadataSource::kBackupFile);
  EXPECT_EQ(to_string(first->source), "backup");
  EXPECT_EQ(first->origin, (backup.dir.path() / "vg0").string());
  EXPECT_FALSE(first->location.has_value());
  Expected<LoadedVolumeGroup> again = backup.load();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->reused);
  backup.dir.write("vg0", with_seqno(backup.text, 13));
  Expected<LoadedVolumeGroup> changed = backup.load();
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_FALSE(changed->reused);
  EXPECT_EQ(changed->vg->seqno, 13u);
  EXPECT_EQ(backup.cache.stats().parses, 2u);

  Expected<LoadedVolumeGroup> missing = backup.cache.load_from_backup(backup.dir.path(), "vg1");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().is(ErrorKind::kGone));
}

// A backup that is still the file it was (same inode, size, modification and change time) and
// has not changed for two seconds is not read again; a change made since is.
TEST(Backup, IsReadAgainOnlyWhenTheFileChanged) {
  TempDir dir;
  const std::string text = read_testdata("vg0.backup");
  dir.write("vg0", text);
  Expected<BackupText> first = read_backup_file(dir.path(), "vg0");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->read);
  EXPECT_EQ(first->text, text);
  // Changed less than two seconds ago: read anyway (a change made within the same clock tick
  // leaves the times as they were).
  Expected<BackupText> recent = read_backup_file(dir.path(), "vg0", 64ULL << 20, &first->version);
  ASSERT_TRUE(recent.ok());
  EXPECT_TRUE(recent->read);
  EXPECT_EQ(recent->version, first->version);

  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  Expected<BackupText> same = read_backup_file(dir.path(), "vg0", 64ULL << 20, &first->version);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->read);
  EXPECT_TRUE(same->text.empty());

  // Rewritten in place with the same size and its modification time put back.
  const std::string path = (dir.path() / "vg0").string();
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  dir.write("vg0", with_seqno(text, 13));
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  Expected<BackupText> edited = read_backup_file(dir.path(), "vg0", 64ULL << 20, &first->version);
  ASSERT_TRUE(edited.ok());
  EXPECT_TRUE(edited->read);
  EXPECT_EQ(edited->text, with_seqno(text, 13));
}

TEST(Cache, ABackupReplacedByTheSameTextIsNotParsedAgain) {
  Vg0Backup backup;
  Expected<LoadedVolumeGroup> first = backup.load();
  ASSERT_TRUE(first.ok()) << first.error().message;
  backup.dir.write("vg0.tmp", backup.text);
  std::filesystem::rename(backup.dir.path() / "vg0.tmp", backup.dir.path() / "vg0");
  Expected<LoadedVolumeGroup> again = backup.load();
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->vg, first->vg);
  Expected<LoadedVolumeGroup> unchanged = backup.load();
  ASSERT_TRUE(unchanged.ok());
  EXPECT_TRUE(unchanged->reused);
  EXPECT_EQ(backup.cache.stats().parses, 1u);
  EXPECT_EQ(backup.cache.stats().reuses, 2u);
}

// What a reader derived from a VG's LVs, for the tests: the LV count it saw.
struct CountedLvs final : VolumeGroupDigest {
  explicit CountedLvs(size_t count) : lvs(count) {}
  size_t lvs;
};

TEST(Cache, KeepsADigestInPlaceOfTheLvsUntilLvmCommitsAgain) {
  Vg0OnPv pv;
  VolumeGroupCache& cache = pv.cache;
  Expected<LoadedVolumeGroup> parsed = cache.load_from_pv(pv.reader);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->digest, nullptr);
  ASSERT_EQ(parsed->vg->lv_count(), 8u);
  const std::weak_ptr<const VolumeGroup> full = parsed->vg;

  auto digest = std::make_shared<const CountedLvs>(parsed->vg->lv_count());
  std::shared_ptr<const VolumeGroup> slim = cache.keep_digest(*parsed, digest);
  ASSERT_NE(slim, parsed->vg);
  EXPECT_EQ(slim->lv_count(), 0u);
  EXPECT_EQ(slim->name, "vg0");
  EXPECT_EQ(slim->seqno, 12u);
  EXPECT_EQ(slim->pvs.size(), parsed->vg->pvs.size());
  // The same VG again (another scrape that loaded it before the digest was kept): nothing to do.
  EXPECT_EQ(cache.keep_digest(*parsed, std::make_shared<const CountedLvs>(0)), parsed->vg);
  parsed->vg.reset();
  EXPECT_TRUE(full.expired()) << "the cache still holds the LVs";

  Expected<LoadedVolumeGroup> reused = cache.load_from_pv(pv.reader);
  ASSERT_TRUE(reused.ok()) << reused.error().message;
  EXPECT_TRUE(reused->reused);
  EXPECT_EQ(reused->vg, slim);
  EXPECT_EQ(reused->digest, digest);

  // LVM commits version 13: the digest and the VG without LVs go before the new text is parsed.
  const std::weak_ptr<const VolumeGroupDigest> old_digest = digest;
  digest.reset();
  slim.reset();
  reused->vg.reset();
  reused->digest.reset();
  EXPECT_FALSE(old_digest.expired());  // the cache's
  pv.commit(13);
  Expected<LoadedVolumeGroup> after = cache.load_from_pv(pv.reader);
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_FALSE(after->reused);
  EXPECT_TRUE(old_digest.expired());
  EXPECT_EQ(after->digest, nullptr);
  EXPECT_EQ(after->vg->seqno, 13u);
  EXPECT_EQ(after->vg->lv_count(), 8u);
}

TEST(Cache, KeepsADigestForABackupToo) {
  Vg0Backup backup;
  Expected<LoadedVolumeGroup> first = backup.load();
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto digest = std::make_shared<const CountedLvs>(first->vg->lv_count());
  std::shared_ptr<const VolumeGroup> slim = backup.cache.keep_digest(*first, digest);
  EXPECT_EQ(slim->lv_count(), 0u);
  Expected<LoadedVolumeGroup> again = backup.load();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->vg, slim);
  EXPECT_EQ(again->digest, digest);
  ASSERT_EQ(dynamic_cast<const CountedLvs*>(again->digest.get())->lvs, 8u);

  backup.dir.write("vg0", with_seqno(backup.text, 13));
  Expected<LoadedVolumeGroup> changed = backup.load();
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_FALSE(changed->reused);
  EXPECT_EQ(changed->digest, nullptr);
  EXPECT_EQ(changed->vg->lv_count(), 8u);
}

}  // namespace
}  // namespace thinpool::lvm
