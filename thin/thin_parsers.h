// Parsers for the dm-thin targets' status and table lines.
//
// Pure functions from the `params` text that the kernel returns (the same text `dmsetup status`
// and `dmsetup table` print after the target type) to a value, or an Error that quotes the input.
// They accept every form the kernel has emitted since 3.2; see docs in thin_parsers.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/device_number.h"
#include "base/result.h"

namespace thinpool {

enum class PoolMode { kReadWrite, kReadOnly, kOutOfDataSpace, kFail, kError };
inline constexpr PoolMode kAllPoolModes[] = {PoolMode::kReadWrite, PoolMode::kReadOnly,
                                             PoolMode::kOutOfDataSpace, PoolMode::kFail,
                                             PoolMode::kError};
// The label value of thinpool_mode{mode}: rw, ro, out_of_data_space, fail, error.
std::string_view to_string(PoolMode mode);

// What the pool's status line reports in its normal (not Fail/Error) form.
struct ThinPoolUsage {
  uint64_t transaction_id = 0;
  uint64_t used_metadata_blocks = 0;  // 4096-byte blocks, including the kernel's reserve
  uint64_t total_metadata_blocks = 0;
  uint64_t used_data_blocks = 0;  // blocks of the table's data block size
  uint64_t total_data_blocks = 0;
  bool metadata_snapshot_held = false;
  // Absent before 3.6: "discard_passdown", "no_discard_passdown" or "ignore_discard".
  std::optional<std::string> discards;
  // Absent before 3.14.
  std::optional<bool> error_if_no_space;
  bool needs_check = false;
  // In metadata blocks; absent before 4.19.
  std::optional<uint64_t> metadata_low_watermark_blocks;
};

struct ThinPoolStatus {
  // Before 3.6 the kernel did not report a mode; such pools are taken as rw.
  PoolMode mode = PoolMode::kReadWrite;
  // Set unless mode is kFail or kError (those lines carry no numbers).
  std::optional<ThinPoolUsage> usage;
};

struct ThinPoolTable {
  DeviceNumber metadata_dev;
  DeviceNumber data_dev;
  uint64_t data_block_size_sectors = 0;
  uint64_t low_water_mark_blocks = 0;
  bool skip_block_zeroing = false;
  bool ignore_discard = false;
  bool no_discard_passdown = false;
  bool read_only = false;
  bool error_if_no_space = false;
};

struct ThinStatus {
  enum class State { kActive, kInactive, kFail, kError };
  State state = State::kActive;
  uint64_t mapped_sectors = 0;
};

struct ThinTable {
  // The kernel writes "Fail" instead of the table once the volume's pool has failed; then
  // nothing below is known.
  bool pool_failed = false;
  DeviceNumber pool_dev;
  uint64_t device_id = 0;
};

inline constexpr uint64_t kSectorBytes = 512;
inline constexpr uint64_t kMetadataBlockBytes = 4096;

Expected<ThinPoolStatus> parse_thin_pool_status(std::string_view params);
Expected<ThinPoolTable> parse_thin_pool_table(std::string_view params);
Expected<ThinStatus> parse_thin_status(std::string_view params);
Expected<ThinTable> parse_thin_table(std::string_view params);

}  // namespace thinpool
