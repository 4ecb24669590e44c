// Reads the VG metadata text that an LVM2 physical volume carries, straight from the device,
// read-only, without lvm2 and without its locks. The on-disk layout (lvm2 2.03, all
// little-endian; docs/lvm-metadata.md has the picture):
//
//   one of sectors 0..3  label_header: "LABELONE", its own sector number, CRC of bytes 20..511,
//                        offset of the pv_header (32), type "LVM2 001"
//                        pv_header: uuid (32 chars), device size, then two lists of
//                        {offset, size} byte ranges ended by a zero entry: data areas, then
//                        metadata areas (mda); then an extension (version, flags)
//   mda offset (4096)    mda_header (one 512-byte sector): CRC of bytes 4..511, magic,
//                        version 1, its own start, the area size, then raw locations
//                        {offset, size, checksum, flags}: slot 0 is the committed metadata
//   mda offset + 512 ..  a circular buffer of metadata texts; the committed one is at
//                        raw.offset (relative to the mda start) and may wrap around to
//                        mda offset + 512. raw.checksum covers raw.size bytes, NUL included.
//
// A torn read (a checksum that does not match because LVM was rewriting the area while we
// read) is retried from the label on, up to PvReadOptions::max_attempts; if every attempt is
// torn the result is an error, never a text that failed its checksum.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "lvm/block_reader.h"

namespace thinpool::lvm {

inline constexpr int kLabelScanSectors = 4;
inline constexpr size_t kMdaHeaderSize = 512;
inline constexpr uint32_t kRawLocationIgnored = 0x1;

// A byte range of the device. A data area's size of 0 means "to the end of the device".
struct DiskArea {
  uint64_t offset = 0;
  uint64_t size = 0;
  bool operator==(const DiskArea&) const = default;
};

struct PvLabel {
  uint64_t sector = 0;  // where LABELONE was found
  std::string pv_uuid;  // "fk2kNV-sDQn-..." as the metadata's pv id
  uint64_t device_size_bytes = 0;
  std::vector<DiskArea> data_areas;
  std::vector<DiskArea> metadata_areas;
  uint32_t extension_version = 0;  // 0: no extension (lvm2 before 2.02.116)
  uint32_t extension_flags = 0;
};

struct RawLocation {
  uint64_t offset = 0;  // bytes from the metadata area's start (its header is at 0)
  uint64_t size = 0;    // bytes of text, its terminating NUL included
  uint32_t checksum = 0;
  uint32_t flags = 0;

  bool ignored() const { return (flags & kRawLocationIgnored) != 0; }
  bool operator==(const RawLocation&) const = default;
};

struct MdaHeader {
  uint64_t start = 0;  // absolute byte offset of the header (= the area's offset)
  uint64_t size = 0;   // bytes in the whole area, header included
  // Slot 0: committed metadata; slot 1 (when present): metadata being committed. Empty when
  // the area holds no VG yet (a PV outside any VG).
  std::vector<RawLocation> raw_locations;
};

// Where a PV's current metadata text is. Two reads that find the same location read the same
// text: LVM writes every new version to a new place with a new checksum.
struct MetadataLocation {
  std::string pv_uuid;
  uint64_t mda_start = 0;
  RawLocation raw;
  bool operator==(const MetadataLocation&) const = default;
};

struct PvMetadata {
  PvLabel label;
  // Absent when the PV holds no usable copy; no_metadata_reason says why.
  std::optional<MetadataLocation> location;
  std::string no_metadata_reason;
  std::string text;           // the metadata text, up to its NUL; empty if skipped or absent
  bool text_skipped = false;  // PvReadOptions::skip_text returned true
  int attempts = 1;           // more than 1 when torn reads were retried
};

struct PvReadOptions {
  int max_attempts = 5;
  std::chrono::milliseconds retry_delay{50};
  // Waits between attempts; std::this_thread::sleep_for when empty. Tests pass a no-op.
  std::function<void(std::chrono::milliseconds)> sleep;
  // Texts larger than this are refused rather than read into memory (lvm2's default metadata
  // area holds about 500 KiB of text; the largest areas lvm2 makes are a few hundred MiB).
  uint64_t max_text_bytes = 64ULL << 20;
  // Asked once the location is known (header checksums verified); true = do not read the
  // text, the caller already has it. This is how the cache avoids re-reading unchanged text.
  std::function<bool(const MetadataLocation&)> skip_text;
};

// The label sector and PV header. Errors: no LABELONE in sectors 0..3 ("not an LVM2 PV"),
// a label whose CRC does not match, malformed area lists.
Expected<PvLabel> read_pv_label(BlockReader& reader);

// The PV's committed metadata text, checksum verified, with retries on torn reads. Uses the
// first metadata area whose committed copy is not marked ignored; if reading it fails, the
// next one (a PV made with --pvmetadatacopies 2 has a second area at its end).
Expected<PvMetadata> read_pv_metadata(BlockReader& reader, const PvReadOptions& options = {});

// 32 uuid characters as LVM prints them: 6-4-4-4-4-4-6 groups joined by '-'.
std::string format_lvm_uuid(std::string_view raw);

}  // namespace thinpool::lvm
