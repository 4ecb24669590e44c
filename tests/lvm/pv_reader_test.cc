// The raw PV reader on images built byte by byte (tests/lvm/pv_image.cc), on images captured
// from a real lvm2 when present, and against readers that change under it (torn reads).
#include "lvm/pv_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "lvm/lvm_crc.h"
#include "lvm/vg_model.h"
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

PvReadOptions no_sleep(int max_attempts = 3) {
  PvReadOptions options;
  options.max_attempts = max_attempts;
  options.sleep = [](std::chrono::milliseconds) {};
  return options;
}

// A reader that lets a test act before each read: count, change the image, or fail.
class ScriptedReader final : public BlockReader {
 public:
  explicit ScriptedReader(std::string image) : memory_(std::move(image), "scripted") {}

  Expected<std::string> read_at(uint64_t offset, size_t length) override {
    ++reads_;
    if (before_read) {
      before_read(reads_, offset, length, memory_);
    }
    return memory_.read_at(offset, length);
  }
  std::string name() const override { return "scripted"; }

  std::function<void(int read, uint64_t offset, size_t length, MemoryBlockReader& image)>
      before_read;
  int reads() const { return reads_; }

 private:
  MemoryBlockReader memory_;
  int reads_ = 0;
};

TEST(LvmCrc, IsZlibCrc32WithoutTheInversions) {
  const std::string data = "LVM2 metadata \x01\x02\xff and some more bytes to cover the loop";
  const uint32_t zlib = static_cast<uint32_t>(::crc32(~kLvmInitialCrc & 0xffffffffu,
                                                      reinterpret_cast<const Bytef*>(data.data()),
                                                      static_cast<uInt>(data.size())));
  EXPECT_EQ(lvm_crc(kLvmInitialCrc, data), ~zlib);
  EXPECT_EQ(lvm_crc(kLvmInitialCrc, ""), kLvmInitialCrc);
  EXPECT_EQ(lvm_crc(lvm_crc(kLvmInitialCrc, data.substr(0, 7)), data.substr(7)),
            lvm_crc(kLvmInitialCrc, data));
}

TEST(PvUuid, IsGroupedLikeLvmPrintsIt) {
  EXPECT_EQ(format_lvm_uuid("fk2kNVsDQn3cAE7vGtLd2wQp9XmB1rTa"),
            "fk2kNV-sDQn-3cAE-7vGt-Ld2w-Qp9X-mB1rTa");
}

TEST(PvReader, ReadsLabelHeaderAndText) {
  PvImageSpec spec;
  spec.text = read_testdata("vg0.mda.txt");
  MemoryBlockReader reader(build_pv_image(spec), "pv0.img");

  Expected<PvMetadata> metadata = read_pv_metadata(reader, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  EXPECT_EQ(metadata->label.sector, 1u);
  EXPECT_EQ(metadata->label.pv_uuid, "fk2kNV-sDQn-3cAE-7vGt-Ld2w-Qp9X-mB1rTa");
  EXPECT_EQ(metadata->label.device_size_bytes, 1u << 30);
  EXPECT_EQ(metadata->label.data_areas, (std::vector<DiskArea>{{1 << 20, 0}}));
  EXPECT_EQ(metadata->label.metadata_areas, (std::vector<DiskArea>{{4096, (1 << 20) - 4096}}));
  EXPECT_EQ(metadata->label.extension_version, 2u);
  EXPECT_EQ(metadata->label.extension_flags, 1u);
  ASSERT_TRUE(metadata->location.has_value());
  EXPECT_EQ(metadata->location->mda_start, 4096u);
  EXPECT_EQ(metadata->location->raw.offset, 512u);
  EXPECT_EQ(metadata->location->raw.size, spec.text.size() + 1);  // with the NUL
  EXPECT_EQ(metadata->text, spec.text);
  EXPECT_EQ(metadata->attempts, 1);

  Expected<VolumeGroup> vg = parse_volume_group(metadata->text);
  ASSERT_TRUE(vg.ok()) << vg.error().message;
  EXPECT_EQ(vg->seqno, 12u);
}

TEST(PvReader, FindsTheLabelInAnyOfTheFirstFourSectors) {
  for (uint64_t sector = 0; sector < 4; ++sector) {
    PvImageSpec spec;
    spec.label_sector = sector;
    spec.text = "vg { }\n";
    MemoryBlockReader reader(build_pv_image(spec));
    Expected<PvMetadata> metadata = read_pv_metadata(reader, no_sleep());
    ASSERT_TRUE(metadata.ok()) << "sector " << sector << ": " << metadata.error().message;
    EXPECT_EQ(metadata->label.sector, sector);
  }
}

TEST(PvReader, ReadsTextThatWrapsAroundTheCircularBuffer) {
  PvImageSpec spec;
  spec.mda_size = 16384;
  spec.data_offset = 4096 + 16384;
  spec.text = read_testdata("vg0.mda.txt");  // about 4 KiB
  spec.text_offset = 16384 - 1000;           // 1000 bytes before the end of the area
  MemoryBlockReader reader(build_pv_image(spec));
  Expected<PvMetadata> metadata = read_pv_metadata(reader, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  EXPECT_EQ(metadata->text, spec.text);
  EXPECT_GT(metadata->location->raw.offset + metadata->location->raw.size, spec.mda_size);
}

TEST(PvReader, WrapsAtExactlyTheLastByte) {
  PvImageSpec spec;
  spec.mda_size = 8192;
  spec.text = "vg { }\n";  // 8 bytes with the NUL: ends exactly at the area's end
  spec.text_offset = 8192 - 8;
  MemoryBlockReader reader(build_pv_image(spec));
  Expected<PvMetadata> metadata = read_pv_metadata(reader, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  EXPECT_EQ(metadata->text, spec.text);
}

TEST(PvReader, SaysWhyAPvHasNoMetadata) {
  PvImageSpec unused;  // pvcreate'd, in no VG
  MemoryBlockReader unused_reader(build_pv_image(unused));
  Expected<PvMetadata> metadata = read_pv_metadata(unused_reader, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  EXPECT_FALSE(metadata->location.has_value());
  EXPECT_EQ(metadata->no_metadata_reason, "the metadata area holds no volume group (an unused PV)");

  PvImageSpec no_mda;
  no_mda.with_mda = false;
  MemoryBlockReader no_mda_reader(build_pv_image(no_mda));
  metadata = read_pv_metadata(no_mda_reader, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  EXPECT_EQ(metadata->no_metadata_reason,
            "the PV has no metadata area (made with --metadatacopies 0)");

  PvImageSpec ignored;
  ignored.text = "vg { }\n";
  ignored.raw_flags = kRawLocationIgnored;
  MemoryBlockReader ignored_reader(build_pv_image(ignored));
  metadata = read_pv_metadata(ignored_reader, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  EXPECT_FALSE(metadata->location.has_value());
  EXPECT_EQ(metadata->no_metadata_reason, "every metadata area of the PV is marked ignored");
}

TEST(PvReader, FallsBackToTheSecondMetadataArea) {
  PvImageSpec spec;
  spec.second_mda = true;
  spec.text = "vg { }\n";
  std::string image = build_pv_image(spec);
  image[4096 + 4] = 'X';  // break the first area's magic
  MemoryBlockReader reader(image);
  Expected<PvMetadata> metadata = read_pv_metadata(reader, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  EXPECT_EQ(metadata->location->mda_start, spec.image_bytes - spec.second_mda_size);
  EXPECT_EQ(metadata->text, spec.text);
}

struct DamagedImage {
  std::string name;
  std::function<void(std::string&)> damage;
  std::string expected_error;
  // Reads before giving up: the first 8 KiB hold the label, the header and this small text (one
  // read per attempt); retried damage reads more, a short image the label once more alone.
  int expected_reads;
  int expected_sleeps = 0;
};

void PrintTo(const DamagedImage& d, std::ostream* os) {
  *os << d.name;
}

class PvReaderRejects : public ::testing::TestWithParam<DamagedImage> {};

TEST_P(PvReaderRejects, DamagedImages) {
  PvImageSpec spec;
  spec.text = "vg { }\n";
  std::string image = build_pv_image(spec);
  GetParam().damage(image);
  ScriptedReader reader(image);
  int sleeps = 0;
  PvReadOptions options = no_sleep(3);
  options.sleep = [&](std::chrono::milliseconds) { ++sleeps; };
  Expected<PvMetadata> metadata = read_pv_metadata(reader, options);
  ASSERT_FALSE(metadata.ok()) << "read text: " << metadata->text;
  EXPECT_NE(metadata.error().message.find(GetParam().expected_error), std::string::npos)
      << metadata.error().message;
  EXPECT_EQ(reader.reads(), GetParam().expected_reads) << metadata.error().message;
  EXPECT_EQ(sleeps, GetParam().expected_sleeps);
}

INSTANTIATE_TEST_SUITE_P(
    Damage, PvReaderRejects,
    ::testing::Values(
        DamagedImage{"no_label", [](std::string& i) { i[512] = 'X'; },
                     "scripted: no LVM2 label (LABELONE) in the first 4 sectors: not an LVM2 "
                     "physical volume",
                     1},
        DamagedImage{"label_crc", [](std::string& i) { i[512 + 100] ^= 1; },
                     "LVM2 label in sector 1 fails its checksum", 3, 2},
        DamagedImage{"label_wrong_sector",
                     [](std::string& i) {
                       testing::put_le64(i, 512 + 8, 2);
                       testing::fix_label_crc(i, 1);
                     },
                     "label in sector 1 says it belongs in sector 2", 1},
        DamagedImage{"label_type",
                     [](std::string& i) {
                       i[512 + 24] = 'X';
                       testing::fix_label_crc(i, 1);
                     },
                     "has type \"XVM2 001\", not \"LVM2 001\"", 1},
        DamagedImage{"pv_header_offset",
                     [](std::string& i) {
                       testing::put_le32(i, 512 + 20, 600);
                       testing::fix_label_crc(i, 1);
                     },
                     "puts the PV header at byte 600, outside the sector", 1},
        DamagedImage{"area_list_unterminated",
                     [](std::string& i) {
                       for (uint64_t at = 512 + 72; at + 8 <= 1024; at += 16) {
                         testing::put_le64(i, at, 4096);
                       }
                       testing::fix_label_crc(i, 1);
                     },
                     "PV header area lists run past the label sector", 1},
        DamagedImage{"uuid_binary",
                     [](std::string& i) {
                       i[512 + 40] = '\x01';
                       testing::fix_label_crc(i, 1);
                     },
                     "PV header uuid is not text", 1},
        DamagedImage{"mda_magic", [](std::string& i) { i[4096 + 10] = 'X'; },
                     "metadata area at byte 4096: no metadata area header there (wrong magic)", 1},
        DamagedImage{"mda_crc", [](std::string& i) { i[4096 + 300] ^= 1; },
                     "metadata area at byte 4096: header fails its checksum", 3, 2},
        DamagedImage{"mda_version",
                     [](std::string& i) {
                       testing::put_le32(i, 4096 + 20, 2);
                       testing::fix_mda_header_crc(i, 4096);
                     },
                     "header version 2 (only 1 is known)", 1},
        DamagedImage{"mda_start",
                     [](std::string& i) {
                       testing::put_le64(i, 4096 + 24, 8192);
                       testing::fix_mda_header_crc(i, 4096);
                     },
                     "header says it starts at byte 8192", 1},
        DamagedImage{"text_crc", [](std::string& i) { i[4096 + 512 + 2] ^= 1; },
                     "metadata text (8 bytes at offset 512) fails its checksum (stored", 3, 2},
        DamagedImage{"text_offset_outside",
                     [](std::string& i) {
                       testing::put_le64(i, 4096 + 40, 1 << 21);
                       testing::fix_mda_header_crc(i, 4096);
                     },
                     "metadata text offset 2097152 is outside the area", 1},
        DamagedImage{"text_offset_in_header",
                     [](std::string& i) {
                       testing::put_le64(i, 4096 + 40, 100);
                       testing::fix_mda_header_crc(i, 4096);
                     },
                     "metadata text offset 100 is outside the area", 1},
        DamagedImage{"text_size_too_big",
                     [](std::string& i) {
                       testing::put_le64(i, 4096 + 48, 1 << 20);
                       testing::fix_mda_header_crc(i, 4096);
                     },
                     "metadata text size 1048576 does not fit the area's 1043968-byte buffer", 1},
        DamagedImage{"text_offset_past_any_device",
                     [](std::string& i) {
                       testing::put_le64(i, 4096 + 32, ~0ULL);       // area size
                       testing::put_le64(i, 4096 + 40, ~0ULL - 99);  // text offset
                       testing::put_le64(i, 4096 + 48, 200);         // text size: wraps
                       testing::fix_mda_header_crc(i, 4096);
                     },
                     "metadata text offset 18446744073709551516 is past any device", 1},
        DamagedImage{"image_too_short", [](std::string& i) { i.resize(1000); },
                     "read 2048 bytes at 0 from scripted: the image has only 1000 bytes", 2}),
    [](const ::testing::TestParamInfo<DamagedImage>& param_info) { return param_info.param.name; });

TEST(PvReader, RefusesTextLargerThanAllowed) {
  PvImageSpec spec;
  spec.text = read_testdata("vg0.mda.txt");
  MemoryBlockReader reader(build_pv_image(spec));
  PvReadOptions options = no_sleep();
  options.max_text_bytes = 1000;
  Expected<PvMetadata> metadata = read_pv_metadata(reader, options);
  ASSERT_FALSE(metadata.ok());
  EXPECT_NE(metadata.error().message.find("larger than the 1000 bytes allowed"), std::string::npos)
      << metadata.error().message;
}

// LVM commits new metadata between our header read and our text read, and a second update
// overwrites the place the old header pointed to: the first attempt reads garbage for the old
// location, fails the checksum, and the retry reads the new version. (The text lies past the
// first 8 KiB, which are read with the header.)
TEST(PvReader, RetriesATornReadAndReturnsTheNewVersion) {
  PvImageSpec spec;
  spec.mda_size = 32768;
  spec.text = "vg { seqno = 1 }\n";
  spec.text_offset = 8192;
  ScriptedReader reader(build_pv_image(spec));
  reader.before_read = [&](int read, uint64_t, size_t, MemoryBlockReader& image) {
    if (read == 2) {  // the label and header, then this text read
      std::string changed = image.image();
      commit_metadata(changed, 4096, "vg { seqno = 3 }\n", 16384);
      std::memset(changed.data() + 4096 + 8192, 'x', 100);  // the old text's place, reused
      image.set_image(std::move(changed));
    }
  };
  Expected<PvMetadata> metadata = read_pv_metadata(reader, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  EXPECT_EQ(metadata->attempts, 2);
  EXPECT_EQ(metadata->text, "vg { seqno = 3 }\n");
  EXPECT_EQ(metadata->location->raw.offset, 16384u);
  EXPECT_EQ(reader.reads(), 4);
}

// The header sector itself read while being rewritten: its CRC fails, the retry sees it whole.
TEST(PvReader, RetriesATornHeader) {
  PvImageSpec spec;
  spec.text = "vg { seqno = 1 }\n";
  const std::string good = build_pv_image(spec);
  std::string torn = good;
  torn[4096 + 50] ^= 0x40;
  ScriptedReader reader(torn);
  reader.before_read = [&](int read, uint64_t, size_t, MemoryBlockReader& image) {
    if (read == 2) {  // the second attempt's read of the label and header
      image.set_image(good);
    }
  };
  Expected<PvMetadata> metadata = read_pv_metadata(reader, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  EXPECT_EQ(metadata->attempts, 2);
  EXPECT_EQ(metadata->text, spec.text);
}

// An area rewritten faster than we read never yields text: every attempt is torn.
TEST(PvReader, NeverReturnsTextThatFailedItsChecksum) {
  PvImageSpec spec;
  spec.text = "vg { seqno = 1 }\n";
  spec.text_offset = 8192;  // past the first 8 KiB: read apart from the header
  ScriptedReader reader(build_pv_image(spec));
  reader.before_read = [&](int, uint64_t offset, size_t, MemoryBlockReader& image) {
    if (offset == 4096 + 8192) {
      std::string changed = image.image();
      changed[offset + 12] = static_cast<char>(changed[offset + 12] + 1);  // seqno goes up
      image.set_image(std::move(changed));
    }
  };
  Expected<PvMetadata> metadata = read_pv_metadata(reader, no_sleep(4));
  ASSERT_FALSE(metadata.ok()) << metadata->text;
  EXPECT_NE(metadata.error().message.find("fails its checksum"), std::string::npos);
  EXPECT_NE(metadata.error().message.find("on each of 4 attempts"), std::string::npos)
      << metadata.error().message;
}

TEST(PvReader, SkipsTheTextWhenTheCallerHasIt) {
  PvImageSpec spec;
  spec.text = read_testdata("vg0.mda.txt");
  ScriptedReader reader(build_pv_image(spec));
  PvReadOptions options = no_sleep();
  std::optional<MetadataLocation> seen;
  options.skip_text = [&](const MetadataLocation& location) {
    seen = location;
    return true;
  };
  Expected<PvMetadata> metadata = read_pv_metadata(reader, options);
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  EXPECT_TRUE(metadata->text_skipped);
  EXPECT_TRUE(metadata->text.empty());
  EXPECT_EQ(reader.reads(), 1);  // the label and header, in one read
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->pv_uuid, "fk2kNV-sDQn-3cAE-7vGt-Ld2w-Qp9X-mB1rTa");
  EXPECT_EQ(*seen, *metadata->location);
}

// The first 8 KiB hold the label and, at lvm2's offset of 4 KiB, the first area's header: one
// read for both, and for a text that ends inside them too; whatever lies past them is read apart.
TEST(PvReader, ReadsTheLabelAndTheFirstHeaderInOneRead) {
  struct Case {
    std::string name;
    uint64_t mda_offset;
    uint64_t text_offset;
    size_t text_bytes;
    bool skip_text;
    int reads;
  };
  const std::vector<Case> cases = {
      {"unchanged text, skipped", 4096, 512, 100, true, 1},
      {"text inside the first 8 KiB", 4096, 512, 3000, false, 1},
      {"text ending exactly at 8 KiB", 4096, 512, 8192 - 4096 - 512 - 1, false, 1},
      {"text running past 8 KiB", 4096, 2048, 3000, false, 2},
      {"text past 8 KiB", 4096, 8192, 3000, false, 2},
      {"area past 8 KiB, text skipped", 65536, 512, 100, true, 2},
      {"area past 8 KiB", 65536, 512, 100, false, 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PvImageSpec spec;
    spec.mda_offset = c.mda_offset;
    spec.mda_size = 65536;
    spec.text_offset = c.text_offset;
    spec.text = "vg { }\n" + std::string(c.text_bytes - 7, '#');
    ScriptedReader reader(build_pv_image(spec));
    PvReadOptions options = no_sleep();
    if (c.skip_text) {
      options.skip_text = [](const MetadataLocation&) { return true; };
    }
    Expected<PvMetadata> metadata = read_pv_metadata(reader, options);
    ASSERT_TRUE(metadata.ok()) << metadata.error().message;
    EXPECT_EQ(metadata->text_skipped, c.skip_text);
    EXPECT_EQ(metadata->text, c.skip_text ? "" : spec.text);
    EXPECT_EQ(metadata->location->mda_start, c.mda_offset);
    EXPECT_EQ(reader.reads(), c.reads);
  }
}

TEST(FileBlockReader, ReadsARegularFile) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("thinpool_lvm_pv_" + std::to_string(::getpid()));
  PvImageSpec spec;
  spec.image_bytes = 64 * 1024ULL;
  spec.mda_size = 32 * 1024ULL;
  spec.text = "vg { }\n";
  const std::string image = build_pv_image(spec);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(image.data(), static_cast<std::streamsize>(image.size()));
  }
  Expected<std::unique_ptr<FileBlockReader>> reader = FileBlockReader::open(path.string());
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  Expected<PvMetadata> metadata = read_pv_metadata(**reader, no_sleep());
  ASSERT_TRUE(metadata.ok()) << metadata.error().message;
  EXPECT_EQ(metadata->text, spec.text);
  Expected<std::string> past_end = (*reader)->read_at(image.size() - 10, 20);
  ASSERT_FALSE(past_end.ok());
  EXPECT_NE(past_end.error().message.find("only 10 before the end"), std::string::npos)
      << past_end.error().message;
  std::filesystem::remove(path);
}

// A block device is read with O_DIRECT through an aligned buffer of at most 1 MiB: spans that
// start and end off the alignment, cross the buffer's size, end on the device's last byte or run
// past it. On a loop device over a file (skipped where none can be set up: no root, no loop).
TEST(FileBlockReader, ReadsABlockDeviceDirectlyInAlignedChunks) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("thinpool_lvm_loop_" + std::to_string(::getpid()));
  constexpr size_t kBytes = (3u << 20) + 512;  // a device size that is not a multiple of 4 KiB
  std::string image(kBytes, '\0');
  for (size_t i = 0; i < image.size(); ++i) {
    image[i] = static_cast<char>((i * 131 + i / 4096) & 0xff);
  }
  {
    std::ofstream out(path, std::ios::binary);
    out.write(image.data(), static_cast<std::streamsize>(image.size()));
  }
  std::string device;
  if (FILE* losetup =
          ::popen(("losetup --find --show " + path.string() + " 2>/dev/null").c_str(), "r")) {
    char line[256] = {};
    if (std::fgets(line, sizeof line, losetup) != nullptr) {
      device = std::string(line, std::strcspn(line, "\n"));
    }
    ::pclose(losetup);
  }
  if (device.empty()) {
    std::filesystem::remove(path);
    GTEST_SKIP() << "no loop device could be set up (needs root and the loop driver)";
  }
  struct Detach {
    std::string device;
    std::filesystem::path file;
    ~Detach() {
      (void)std::system(("losetup --detach " + device).c_str());
      std::filesystem::remove(file);
    }
  } detach{device, path};

  Expected<std::unique_ptr<FileBlockReader>> reader = FileBlockReader::open(device);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  const std::vector<std::pair<uint64_t, size_t>> spans = {
      {0, 512},                   // the label sectors
      {4096, 512},                // an mda header
      {4096 + 700, 100},          // inside one block, off the alignment
      {1000, (1u << 20) + 5000},  // across the first chunk's end
      {4095, (2u << 20) + 3},     // across two chunk ends
      {0, kBytes},                // the whole device, ending inside its last 4 KiB
      {kBytes - 300, 300},        // the last bytes
  };
  for (const auto& [offset, length] : spans) {
    Expected<std::string> read = (*reader)->read_at(offset, length);
    ASSERT_TRUE(read.ok()) << offset << "+" << length << ": " << read.error().message;
    ASSERT_EQ(read->size(), length) << offset << "+" << length;
    EXPECT_TRUE(*read == image.substr(offset, length)) << offset << "+" << length;
  }
  Expected<std::string> past_end = (*reader)->read_at(kBytes - 10, 20);
  ASSERT_FALSE(past_end.ok());
  EXPECT_NE(past_end.error().message.find("the device ends at " + std::to_string(kBytes)),
            std::string::npos)
      << past_end.error().message;
  Expected<std::string> beyond = (*reader)->read_at(kBytes + 10000, 100);
  ASSERT_FALSE(beyond.ok());
  EXPECT_NE(beyond.error().message.find("the device ends before it"), std::string::npos)
      << beyond.error().message;
}

TEST(FileBlockReader, ExplainsWhatItCannotOpen) {
  Expected<std::unique_ptr<FileBlockReader>> missing =
      FileBlockReader::open("/nonexistent/thinpool/pv");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().is(ErrorKind::kGone));
  EXPECT_EQ(missing.error().message, "open /nonexistent/thinpool/pv: No such file or directory");
  Expected<std::unique_ptr<FileBlockReader>> directory =
      FileBlockReader::open(std::filesystem::temp_directory_path().string());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message.find("neither a block device nor a regular file"),
            std::string::npos);
}

}  // namespace
}  // namespace thinpool::lvm
