#include "lvm/pv_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <thread>
#include <utility>
#include <variant>

#include "lvm/lvm_crc.h"

namespace thinpool::lvm {
namespace {

constexpr size_t kSector = 512;
constexpr std::string_view kLabelId = "LABELONE";
constexpr std::string_view kLabelType = "LVM2 001";
constexpr std::string_view kMdaMagic =
    "\040\114\126\115\062\040\170\133\065\101\045\162\060\116\052\076";
constexpr uint32_t kMdaVersion = 1;
constexpr size_t kUuidLength = 32;
constexpr size_t kDiskLocnSize = 16;
constexpr size_t kRawLocnSize = 24;
constexpr size_t kRawLocnsOffset = 40;

uint32_t le32(std::string_view bytes, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) {
    v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
  }
  return v;
}

uint64_t le64(std::string_view bytes, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
  }
  return v;
}

// A failed step, and whether a retry might succeed (a checksum mismatch: LVM may have been
// writing what we read) or not (no label, bad magic, an I/O error).
struct StepError {
  Error error;
  bool torn = false;
};

template <typename T>
using Step = std::variant<T, StepError>;

template <typename T>
bool failed(const Step<T>& step) {
  return std::holds_alternative<StepError>(step);
}

Step<PvLabel> parse_label_sector(std::string_view sector, uint64_t index, const std::string& name) {
  const uint64_t claimed = le64(sector, 8);
  if (claimed != index) {
    return StepError{Error::parse(fmt::format(
        "{}: LVM2 label in sector {} says it belongs in sector {}", name, index, claimed))};
  }
  const uint32_t stored_crc = le32(sector, 16);
  const uint32_t computed_crc = lvm_crc(kLvmInitialCrc, sector.substr(20));
  if (stored_crc != computed_crc) {
    return StepError{
        Error::parse(fmt::format("{}: LVM2 label in sector {} fails its checksum (stored "
                                 "{:#010x}, computed {:#010x})",
                                 name, index, stored_crc, computed_crc)),
        /*torn=*/true};
  }
  if (sector.substr(24, 8) != kLabelType) {
    return StepError{Error::parse(fmt::format("{}: label in sector {} has type \"{}\", not \"{}\"",
                                              name, index, sector.substr(24, 8), kLabelType))};
  }
  const uint32_t header_offset = le32(sector, 20);
  if (header_offset < 32 || header_offset > kSector - kUuidLength - 8) {
    return StepError{
        Error::parse(fmt::format("{}: label in sector {} puts the PV header at byte {}, "
                                 "outside the sector",
                                 name, index, header_offset))};
  }
  PvLabel label;
  label.sector = index;
  const std::string_view uuid = sector.substr(header_offset, kUuidLength);
  for (const char c : uuid) {
    if (c <= ' ' || c > '~') {
      return StepError{Error::parse(fmt::format("{}: PV header uuid is not text", name))};
    }
  }
  label.pv_uuid = format_lvm_uuid(uuid);
  label.device_size_bytes = le64(sector, header_offset + kUuidLength);

  // Two lists of {offset, size}, each ended by an entry with offset 0: data areas, then
  // metadata areas. Both must end inside the sector.
  size_t at = header_offset + kUuidLength + 8;
  for (std::vector<DiskArea>* list : {&label.data_areas, &label.metadata_areas}) {
    while (true) {
      if (at + kDiskLocnSize > kSector) {
        return StepError{
            Error::parse(fmt::format("{}: PV header area lists run past the label sector", name))};
      }
      const DiskArea area{le64(sector, at), le64(sector, at + 8)};
      at += kDiskLocnSize;
      if (area.offset == 0) {
        break;
      }
      list->push_back(area);
    }
  }
  if (at + 8 <= kSector) {
    label.extension_version = le32(sector, at);
    label.extension_flags = le32(sector, at + 4);
  }
  return label;
}

Step<PvLabel> read_label_step(BlockReader& reader) {
  Expected<std::string> sectors = reader.read_at(0, kLabelScanSectors * kSector);
  if (!sectors.ok()) {
    return StepError{sectors.error()};
  }
  std::optional<StepError> first_error;
  for (uint64_t i = 0; i < kLabelScanSectors; ++i) {
    const std::string_view sector = std::string_view(*sectors).substr(i * kSector, kSector);
    if (sector.substr(0, kLabelId.size()) != kLabelId) {
      continue;
    }
    Step<PvLabel> label = parse_label_sector(sector, i, reader.name());
    if (!failed(label)) {
      return label;
    }
    if (!first_error) {
      first_error = std::get<StepError>(std::move(label));
    }
  }
  if (first_error) {
    return *std::move(first_error);
  }
  return StepError{
      Error::parse(fmt::format("{}: no LVM2 label (LABELONE) in the first {} sectors: not "
                               "an LVM2 physical volume",
                               reader.name(), kLabelScanSectors))};
}

Step<MdaHeader> read_mda_header_step(BlockReader& reader, const DiskArea& area) {
  Expected<std::string> sector = reader.read_at(area.offset, kMdaHeaderSize);
  if (!sector.ok()) {
    return StepError{sector.error()};
  }
  const std::string_view bytes = *sector;
  const std::string where = fmt::format("{}: metadata area at byte {}", reader.name(), area.offset);
  if (bytes.substr(4, kMdaMagic.size()) != kMdaMagic) {
    return StepError{
        Error::parse(fmt::format("{}: no metadata area header there (wrong magic)", where))};
  }
  const uint32_t stored_crc = le32(bytes, 0);
  const uint32_t computed_crc = lvm_crc(kLvmInitialCrc, bytes.substr(4));
  if (stored_crc != computed_crc) {
    return StepError{
        Error::parse(fmt::format("{}: header fails its checksum (stored {:#010x}, computed "
                                 "{:#010x})",
                                 where, stored_crc, computed_crc)),
        /*torn=*/true};
  }
  const uint32_t version = le32(bytes, 20);
  if (version != kMdaVersion) {
    return StepError{Error::parse(
        fmt::format("{}: header version {} (only {} is known)", where, version, kMdaVersion))};
  }
  MdaHeader header;
  header.start = le64(bytes, 24);
  header.size = le64(bytes, 32);
  if (header.start != area.offset) {
    return StepError{
        Error::parse(fmt::format("{}: header says it starts at byte {}", where, header.start))};
  }
  if (header.size <= kMdaHeaderSize) {
    return StepError{Error::parse(
        fmt::format("{}: header gives the area a size of {} bytes", where, header.size))};
  }
  for (size_t at = kRawLocnsOffset; at + kRawLocnSize <= kMdaHeaderSize; at += kRawLocnSize) {
    RawLocation raw{le64(bytes, at), le64(bytes, at + 8), le32(bytes, at + 16),
                    le32(bytes, at + 20)};
    if (raw.offset == 0) {
      break;
    }
    header.raw_locations.push_back(raw);
  }
  return header;
}

Step<std::string> read_text_step(BlockReader& reader, const MdaHeader& header,
                                 const RawLocation& raw, const PvReadOptions& options) {
  const std::string where =
      fmt::format("{}: metadata area at byte {}", reader.name(), header.start);
  const uint64_t buffer_size = header.size - kMdaHeaderSize;
  if (raw.offset < kMdaHeaderSize || raw.offset >= header.size) {
    return StepError{
        Error::parse(fmt::format("{}: metadata text offset {} is outside the area ({} "
                                 "bytes)",
                                 where, raw.offset, header.size))};
  }
  if (raw.size == 0 || raw.size > buffer_size) {
    return StepError{
        Error::parse(fmt::format("{}: metadata text size {} does not fit the area's {}-byte "
                                 "buffer",
                                 where, raw.size, buffer_size))};
  }
  if (raw.size > options.max_text_bytes) {
    return StepError{
        Error::parse(fmt::format("{}: metadata text of {} bytes is larger than the {} bytes "
                                 "allowed",
                                 where, raw.size, options.max_text_bytes))};
  }
  // The buffer is circular: text running past the end of the area continues right after the
  // header. (raw.size <= buffer_size keeps the two parts from overlapping.) Computed without
  // sums that could overflow on a damaged header.
  const uint64_t room = header.size - raw.offset;
  const uint64_t wrap = raw.size > room ? raw.size - room : 0;
  if (raw.offset > std::numeric_limits<uint64_t>::max() - header.start) {
    return StepError{Error::parse(
        fmt::format("{}: metadata text offset {} is past any device", where, raw.offset))};
  }
  Expected<std::string> first = reader.read_at(header.start + raw.offset, raw.size - wrap);
  if (!first.ok()) {
    return StepError{first.error()};
  }
  std::string text = std::move(*first);
  uint32_t crc = lvm_crc(kLvmInitialCrc, text);
  if (wrap > 0) {
    Expected<std::string> second = reader.read_at(header.start + kMdaHeaderSize, wrap);
    if (!second.ok()) {
      return StepError{second.error()};
    }
    crc = lvm_crc(crc, *second);
    text.reserve(raw.size);  // not twice the first part, as the append alone would
    text += *second;
  }
  if (crc != raw.checksum) {
    return StepError{Error::parse(fmt::format(
                         "{}: metadata text ({} bytes at offset {}{}) fails its "
                         "checksum (stored {:#010x}, computed {:#010x})",
                         where, raw.size, raw.offset,
                         wrap > 0 ? fmt::format(", {} wrapped", wrap) : "", raw.checksum, crc)),
                     /*torn=*/true};
  }
  const size_t nul = text.find('\0');
  if (nul != std::string::npos) {
    text.resize(nul);
  }
  return text;
}

// The start of the device, read once per attempt: the label (sectors 0..3) and, where lvm2 puts
// the first metadata area (at 4 KiB, whatever the data alignment), that area's header. On a scrape
// where LVM committed nothing this is the only read of the PV. Reads inside it are served from it,
// all others go to the device; a device too short for it is read as before, piece by piece.
class HeadReader final : public BlockReader {
 public:
  HeadReader(BlockReader& device, size_t head_bytes) : device_(device) {
    if (Expected<std::string> head = device.read_at(0, head_bytes); head.ok()) {
      head_ = std::move(*head);
    }
  }

  Expected<std::string> read_at(uint64_t offset, size_t length) override {
    if (offset <= head_.size() && length <= head_.size() - offset) {
      return head_.substr(offset, length);
    }
    return device_.read_at(offset, length);
  }
  std::string name() const override { return device_.name(); }

 private:
  BlockReader& device_;
  std::string head_;
};

constexpr size_t kHeadBytes = 8192;

// One attempt at the whole read, from the label on.
Step<PvMetadata> read_once(BlockReader& device, const PvReadOptions& options) {
  HeadReader reader(device, kHeadBytes);
  Step<PvLabel> label = read_label_step(reader);
  if (failed(label)) {
    return std::get<StepError>(std::move(label));
  }
  PvMetadata result;
  result.label = std::get<PvLabel>(std::move(label));
  if (result.label.metadata_areas.empty()) {
    result.no_metadata_reason = "the PV has no metadata area (made with --metadatacopies 0)";
    return result;
  }
  std::vector<StepError> errors;
  bool saw_empty = false;
  bool saw_ignored = false;
  for (const DiskArea& area : result.label.metadata_areas) {
    Step<MdaHeader> header = read_mda_header_step(reader, area);
    if (failed(header)) {
      errors.push_back(std::get<StepError>(std::move(header)));
      continue;
    }
    const MdaHeader& mda = std::get<MdaHeader>(header);
    if (mda.raw_locations.empty() || mda.raw_locations[0].size == 0) {
      saw_empty = true;
      continue;
    }
    const RawLocation& committed = mda.raw_locations[0];
    if (committed.ignored()) {
      saw_ignored = true;  // pvchange --metadataignore: the copy there is not kept current
      continue;
    }
    MetadataLocation location{result.label.pv_uuid, mda.start, committed};
    if (options.skip_text && options.skip_text(location)) {
      result.location = std::move(location);
      result.text_skipped = true;
      return result;
    }
    Step<std::string> text = read_text_step(reader, mda, committed, options);
    if (failed(text)) {
      errors.push_back(std::get<StepError>(std::move(text)));
      continue;
    }
    result.location = std::move(location);
    result.text = std::get<std::string>(std::move(text));
    return result;
  }
  if (errors.empty()) {
    result.no_metadata_reason = saw_empty && !saw_ignored
                                    ? "the metadata area holds no volume group (an unused PV)"
                                    : "every metadata area of the PV is marked ignored";
    return result;
  }
  StepError combined = std::move(errors.front());
  for (size_t i = 1; i < errors.size(); ++i) {
    combined.error.message += "; " + errors[i].error.message;
    combined.torn = combined.torn || errors[i].torn;
  }
  return combined;
}

}  // namespace

std::string format_lvm_uuid(std::string_view raw) {
  static constexpr size_t kGroups[] = {6, 4, 4, 4, 4, 4, 6};
  std::string out;
  size_t at = 0;
  for (const size_t group : kGroups) {
    if (at >= raw.size()) {
      break;
    }
    if (!out.empty()) {
      out += '-';
    }
    out += raw.substr(at, group);
    at += group;
  }
  return out;
}

Expected<PvLabel> read_pv_label(BlockReader& reader) {
  Step<PvLabel> label = read_label_step(reader);
  if (failed(label)) {
    return std::get<StepError>(std::move(label)).error;
  }
  return std::get<PvLabel>(std::move(label));
}

Expected<PvMetadata> read_pv_metadata(BlockReader& reader, const PvReadOptions& options) {
  const int attempts = std::max(1, options.max_attempts);
  for (int attempt = 1;; ++attempt) {
    Step<PvMetadata> result = read_once(reader, options);
    if (!failed(result)) {
      PvMetadata metadata = std::get<PvMetadata>(std::move(result));
      metadata.attempts = attempt;
      return metadata;
    }
    StepError& error = std::get<StepError>(result);
    if (!error.torn) {
      return std::move(error.error);
    }
    if (attempt >= attempts) {
      error.error.message += fmt::format(
          " (on each of {} attempts: LVM may be rewriting its metadata continuously, or the "
          "area is damaged)",
          attempts);
      return std::move(error.error);
    }
    if (options.sleep) {
      options.sleep(options.retry_delay);
    } else {
      std::this_thread::sleep_for(options.retry_delay);
    }
  }
}

}  // namespace thinpool::lvm
