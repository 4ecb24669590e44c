#include "tests/lvm/pv_image.h"

#include <cstring>
#include <stdexcept>

#include "lvm/lvm_crc.h"
#include "lvm/pv_reader.h"

namespace thinpool::lvm::testing {
namespace {

constexpr std::string_view kMagic =
    "\040\114\126\115\062\040\170\133\065\101\045\162\060\116\052\076";

void put(std::string& image, uint64_t at, std::string_view bytes) {
  if (at + bytes.size() > image.size()) {
    throw std::out_of_range("pv image write past the end");
  }
  std::memcpy(image.data() + at, bytes.data(), bytes.size());
}

uint64_t get_le64(const std::string& image, uint64_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | static_cast<uint8_t>(image[at + i]);
  }
  return v;
}

}  // namespace

void put_le32(std::string& image, uint64_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) {
    image.at(at + i) = static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

void put_le64(std::string& image, uint64_t at, uint64_t value) {
  for (int i = 0; i < 8; ++i) {
    image.at(at + i) = static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

void fix_label_crc(std::string& image, uint64_t label_sector) {
  const uint64_t at = label_sector * 512;
  put_le32(image, at + 16, lvm_crc(kLvmInitialCrc, std::string_view(image).substr(at + 20, 492)));
}

void fix_mda_header_crc(std::string& image, uint64_t area_offset) {
  put_le32(image, area_offset,
           lvm_crc(kLvmInitialCrc, std::string_view(image).substr(area_offset + 4, 508)));
}

void commit_metadata(std::string& image, uint64_t area_offset, std::string_view text,
                     uint64_t text_offset, uint32_t raw_flags) {
  const uint64_t area_size = get_le64(image, area_offset + 32);
  std::string bytes(text);
  bytes += '\0';
  const uint64_t end = text_offset + bytes.size();
  const uint64_t wrap = end > area_size ? end - area_size : 0;
  const uint64_t first = bytes.size() - wrap;
  put(image, area_offset + text_offset, std::string_view(bytes).substr(0, first));
  if (wrap > 0) {
    put(image, area_offset + 512, std::string_view(bytes).substr(first));
  }
  const uint32_t crc = lvm_crc(lvm_crc(kLvmInitialCrc, std::string_view(bytes).substr(0, first)),
                               std::string_view(bytes).substr(first));
  put_le64(image, area_offset + 40, text_offset);
  put_le64(image, area_offset + 48, bytes.size());
  put_le32(image, area_offset + 56, crc);
  put_le32(image, area_offset + 60, raw_flags);
  fix_mda_header_crc(image, area_offset);
}

std::string build_pv_image(const PvImageSpec& spec) {
  std::string image(spec.image_bytes, '\0');
  const uint64_t label = spec.label_sector * 512;
  put(image, label, "LABELONE");
  put_le64(image, label + 8, spec.label_sector);
  put_le32(image, label + 20, 32);  // offset of the PV header
  put(image, label + 24, "LVM2 001");
  uint64_t at = label + 32;
  put(image, at, spec.pv_uuid);
  at += 32;
  put_le64(image, at, spec.device_size_bytes);
  at += 8;
  put_le64(image, at, spec.data_offset);  // data area: from pe_start to the end (size 0)
  put_le64(image, at + 8, 0);
  at += 32;  // and the terminating zero entry
  const uint64_t second_offset = spec.image_bytes - spec.second_mda_size;
  if (spec.with_mda) {
    put_le64(image, at, spec.mda_offset);
    put_le64(image, at + 8, spec.mda_size);
    at += 16;
    if (spec.second_mda) {
      put_le64(image, at, second_offset);
      put_le64(image, at + 8, spec.second_mda_size);
      at += 16;
    }
  }
  at += 16;  // terminating zero entry
  put_le32(image, at, spec.extension_version);
  put_le32(image, at + 4, 1);  // PV_EXT_USED
  fix_label_crc(image, spec.label_sector);

  auto make_area = [&](uint64_t offset, uint64_t size) {
    put(image, offset + 4, kMagic);
    put_le32(image, offset + 20, 1);
    put_le64(image, offset + 24, offset);
    put_le64(image, offset + 32, size);
    if (spec.text.empty()) {
      fix_mda_header_crc(image, offset);
    } else {
      commit_metadata(image, offset, spec.text, spec.text_offset, spec.raw_flags);
    }
  };
  if (spec.with_mda) {
    make_area(spec.mda_offset, spec.mda_size);
    if (spec.second_mda) {
      make_area(second_offset, spec.second_mda_size);
    }
  }
  return image;
}

}  // namespace thinpool::lvm::testing
