// Builds LVM2 PV images in memory, byte for byte as lvm2 2.03 lays them out (label sector,
// PV header, metadata area header, circular text buffer), for the reader's tests and fuzz seeds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace thinpool::lvm::testing {

struct PvImageSpec {
  std::string pv_uuid = "fk2kNVsDQn3cAE7vGtLd2wQp9XmB1rTa";  // 32 characters, no dashes
  uint64_t image_bytes = 1 << 20;                            // size of the returned image
  uint64_t device_size_bytes = 1 << 30;                      // what the PV header claims
  uint64_t label_sector = 1;                                 // lvm2 writes the label to sector 1
  uint64_t data_offset = 1 << 20;                            // pe_start in bytes
  uint64_t mda_offset = 4096;
  uint64_t mda_size = (1 << 20) - 4096;
  bool with_mda = true;
  bool second_mda = false;  // a second area at the end of the image
  uint64_t second_mda_size = 64 * 1024;
  uint32_t extension_version = 2;
  // The metadata text (a NUL is appended, as lvm2 writes it) and where it starts, relative to
  // the metadata area. Empty text: the area holds no VG (an unused PV).
  std::string text;
  uint64_t text_offset = 512;
  uint32_t raw_flags = 0;  // 1 = ignored
};

std::string build_pv_image(const PvImageSpec& spec);

// Writes `text` (+ NUL) into the metadata area at `area_offset` of `image` at `text_offset`
// (wrapping around the circular buffer if needed) and commits it: raw location slot 0 and the
// header checksum updated. Like one lvm2 metadata update.
void commit_metadata(std::string& image, uint64_t area_offset, std::string_view text,
                     uint64_t text_offset, uint32_t raw_flags = 0);

// Little-endian stores, for tests that damage images on purpose.
void put_le32(std::string& image, uint64_t at, uint32_t value);
void put_le64(std::string& image, uint64_t at, uint64_t value);
// Recomputes the label sector's CRC (after a test changed the label).
void fix_label_crc(std::string& image, uint64_t label_sector);
// Recomputes the metadata area header's CRC.
void fix_mda_header_crc(std::string& image, uint64_t area_offset);

}  // namespace thinpool::lvm::testing
