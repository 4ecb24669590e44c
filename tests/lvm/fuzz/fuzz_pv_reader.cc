// libFuzzer target: the raw PV reader on arbitrary images. The first input byte chooses which
// checksums to make right before reading (bit 0: label, 1: metadata area header, 2: text), so
// the fuzzer gets past the CRCs to the structures behind them instead of stopping at the first.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lvm/block_reader.h"
#include "lvm/lvm_crc.h"
#include "lvm/metadata_cache.h"
#include "lvm/pv_reader.h"
#include "lvm/vg_model.h"

namespace {

using thinpool::lvm::kLvmInitialCrc;
using thinpool::lvm::lvm_crc;

uint64_t le64(const std::string& b, uint64_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  }
  return v;
}

void put_le32(std::string& b, uint64_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
}

bool has(const std::string& b, uint64_t at, uint64_t length) {
  return at <= b.size() && length <= b.size() - at;
}

void fix_text_checksum(std::string& image, uint64_t mda) {
  const uint64_t area_size = le64(image, mda + 32);
  const uint64_t offset = le64(image, mda + 40);
  const uint64_t size = le64(image, mda + 48);
  if (area_size <= 512 || offset < 512 || offset >= area_size || size == 0 ||
      size > area_size - 512) {
    return;
  }
  const uint64_t room = area_size - offset;
  const uint64_t wrap = size > room ? size - room : 0;
  if (offset > UINT64_MAX - mda || !has(image, mda + offset, size - wrap) ||
      !has(image, mda + 512, wrap)) {
    return;
  }
  uint32_t crc = lvm_crc(kLvmInitialCrc, std::string_view(image).substr(mda + offset, size - wrap));
  crc = lvm_crc(crc, std::string_view(image).substr(mda + 512, wrap));
  put_le32(image, mda + 56, crc);
}

void fix_checksums(std::string& image, uint8_t flags) {
  if (flags & 1) {
    for (uint64_t s = 0; s < 4 && has(image, s * 512, 512); ++s) {
      if (image.compare(s * 512, 8, "LABELONE") == 0) {
        put_le32(image, s * 512 + 16,
                 lvm_crc(kLvmInitialCrc, std::string_view(image).substr(s * 512 + 20, 492)));
      }
    }
  }
  thinpool::lvm::MemoryBlockReader reader(image);
  thinpool::Expected<thinpool::lvm::PvLabel> label = thinpool::lvm::read_pv_label(reader);
  if (!label.ok()) {
    return;
  }
  for (const thinpool::lvm::DiskArea& area : label->metadata_areas) {
    if (!has(image, area.offset, 512)) {
      continue;
    }
    if (flags & 4) {
      fix_text_checksum(image, area.offset);
    }
    if (flags & 2) {
      put_le32(image, area.offset,
               lvm_crc(kLvmInitialCrc, std::string_view(image).substr(area.offset + 4, 508)));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  std::string image(reinterpret_cast<const char*>(data) + 1, size - 1);
  fix_checksums(image, data[0]);

  thinpool::lvm::PvReadOptions options;
  options.max_attempts = 2;
  options.sleep = [](std::chrono::milliseconds) {};
  options.max_text_bytes = 1 << 20;

  thinpool::lvm::MemoryBlockReader reader(image, "fuzz");
  thinpool::Expected<thinpool::lvm::PvMetadata> metadata =
      thinpool::lvm::read_pv_metadata(reader, options);
  if (metadata.ok() && !metadata->text.empty()) {
    (void)thinpool::lvm::parse_volume_group(metadata->text);
  }
  // The cache path: a second load must be answered without re-parsing the same text.
  thinpool::lvm::VolumeGroupCache cache(options);
  thinpool::Expected<thinpool::lvm::LoadedVolumeGroup> first = cache.load_from_pv(reader);
  thinpool::Expected<thinpool::lvm::LoadedVolumeGroup> second = cache.load_from_pv(reader);
  if (first.ok() != second.ok() || cache.stats().parses > 1) {
    __builtin_trap();
  }
  return 0;
}
