#include "thin/thin_parsers.h"

#include <fmt/format.h>

#include <charconv>
#include <span>

#include "base/text.h"

namespace thinpool {
namespace {

Error parse_error(std::string_view what, std::string_view params, std::string_view why) {
  return Error::parse(fmt::format("{} \"{}\": {}", what, params, why));
}

struct UsedTotal {
  uint64_t used;
  uint64_t total;
};

std::optional<UsedTotal> parse_used_total(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  auto used = parse_u64(text.substr(0, slash));
  auto total = parse_u64(text.substr(slash + 1));
  if (!used || !total || *used > *total) {
    return std::nullopt;
  }
  return UsedTotal{*used, *total};
}

// The tokens after the held metadata root, matched by value (see parse_thin_pool_status), into
// `mode` and `usage`; the reason when they contradict themselves.
std::optional<std::string> parse_pool_flags(std::span<const std::string_view> flags, PoolMode& mode,
                                            ThinPoolUsage& usage) {
  bool mode_seen = false;
  for (std::string_view field : flags) {
    std::optional<PoolMode> field_mode;
    if (field == "rw") {
      field_mode = PoolMode::kReadWrite;
    } else if (field == "ro") {
      field_mode = PoolMode::kReadOnly;
    } else if (field == "out_of_data_space") {
      field_mode = PoolMode::kOutOfDataSpace;
    }
    if (field_mode) {
      if (mode_seen) {
        return fmt::format("second mode \"{}\"", field);
      }
      mode_seen = true;
      mode = *field_mode;
    } else if (field == "discard_passdown" || field == "no_discard_passdown" ||
               field == "ignore_discard") {
      usage.discards = std::string(field);
    } else if (field == "error_if_no_space") {
      usage.error_if_no_space = true;
    } else if (field == "queue_if_no_space") {
      usage.error_if_no_space = false;
    } else if (field == "needs_check") {
      usage.needs_check = true;
    } else if (field == "-") {
      // The needs_check slot when the flag is clear.
    } else if (auto watermark = parse_u64(field)) {
      if (usage.metadata_low_watermark_blocks) {
        return fmt::format("second number \"{}\" after the flags", field);
      }
      usage.metadata_low_watermark_blocks = *watermark;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(PoolMode mode) {
  switch (mode) {
    case PoolMode::kReadWrite:
      return "rw";
    case PoolMode::kReadOnly:
      return "ro";
    case PoolMode::kOutOfDataSpace:
      return "out_of_data_space";
    case PoolMode::kFail:
      return "fail";
    case PoolMode::kError:
      return "error";
  }
  return "error";
}

// The kernel (drivers/md/dm-thin.c, pool_status) writes one of
//   Fail
//   Error
//   <transaction id> <used meta>/<total meta> <used data>/<total data> <held root|->
//       [<rw|ro|out_of_data_space> <discard_passdown|no_discard_passdown|ignore_discard>]  3.6+
//       [<error_if_no_space|queue_if_no_space>]                                         3.14+
//       [<needs_check|->]                                                                4.x+
//       [<metadata low watermark>]                                                       4.19+
// The optional tokens are matched by value, so their order does not matter; an unknown word is
// ignored so that a newer kernel's extra flag does not hide the pool.
Expected<ThinPoolStatus> parse_thin_pool_status(std::string_view params) {
  constexpr std::string_view kWhat = "thin-pool status";
  auto fields = split_fields(params);
  if (fields.size() == 1 && fields[0] == "Fail") {
    return ThinPoolStatus{PoolMode::kFail, std::nullopt};
  }
  if (fields.size() == 1 && fields[0] == "Error") {
    return ThinPoolStatus{PoolMode::kError, std::nullopt};
  }
  if (fields.size() < 4) {
    return parse_error(kWhat, params, fmt::format("{} fields, expected at least 4", fields.size()));
  }
  ThinPoolUsage usage;
  auto transaction_id = parse_u64(fields[0]);
  if (!transaction_id) {
    return parse_error(kWhat, params,
                       fmt::format("transaction id \"{}\" is not a number", fields[0]));
  }
  usage.transaction_id = *transaction_id;
  auto metadata = parse_used_total(fields[1]);
  if (!metadata) {
    return parse_error(kWhat, params,
                       fmt::format("metadata \"{}\" is not <used>/<total>", fields[1]));
  }
  usage.used_metadata_blocks = metadata->used;
  usage.total_metadata_blocks = metadata->total;
  auto data = parse_used_total(fields[2]);
  if (!data) {
    return parse_error(kWhat, params, fmt::format("data \"{}\" is not <used>/<total>", fields[2]));
  }
  usage.used_data_blocks = data->used;
  usage.total_data_blocks = data->total;
  if (fields[3] != "-") {
    if (!parse_u64(fields[3])) {
      return parse_error(
          kWhat, params,
          fmt::format("held metadata root \"{}\" is neither - nor a block", fields[3]));
    }
    usage.metadata_snapshot_held = true;
  }

  ThinPoolStatus status;
  if (auto why = parse_pool_flags(fields.all().subspan(4), status.mode, usage)) {
    return parse_error(kWhat, params, *why);
  }
  status.usage = usage;
  return status;
}

// <metadata dev> <data dev> <data block size> <low water mark> <#feature args> [<arg>...]
Expected<ThinPoolTable> parse_thin_pool_table(std::string_view params) {
  constexpr std::string_view kWhat = "thin-pool table";
  auto fields = split_fields(params);
  if (fields.size() < 4) {
    return parse_error(kWhat, params, fmt::format("{} fields, expected at least 4", fields.size()));
  }
  ThinPoolTable table;
  auto metadata_dev = parse_device_number(fields[0]);
  if (!metadata_dev) {
    return parse_error(kWhat, params, "metadata device " + metadata_dev.error().message);
  }
  table.metadata_dev = *metadata_dev;
  auto data_dev = parse_device_number(fields[1]);
  if (!data_dev) {
    return parse_error(kWhat, params, "data device " + data_dev.error().message);
  }
  table.data_dev = *data_dev;
  auto block_size = parse_u64(fields[2]);
  if (!block_size || *block_size == 0) {
    return parse_error(kWhat, params,
                       fmt::format("data block size \"{}\" is not a positive number", fields[2]));
  }
  table.data_block_size_sectors = *block_size;
  auto low_water_mark = parse_u64(fields[3]);
  if (!low_water_mark) {
    return parse_error(kWhat, params,
                       fmt::format("low water mark \"{}\" is not a number", fields[3]));
  }
  table.low_water_mark_blocks = *low_water_mark;
  if (fields.size() == 4) {
    return table;  // no feature count at all: no features
  }
  auto feature_count = parse_u64(fields[4]);
  if (!feature_count || *feature_count != fields.size() - 5) {
    return parse_error(kWhat, params,
                       fmt::format("feature count \"{}\" does not match the {} feature arguments",
                                   fields[4], fields.size() - 5));
  }
  for (size_t i = 5; i < fields.size(); ++i) {
    std::string_view feature = fields[i];
    if (feature == "skip_block_zeroing") {
      table.skip_block_zeroing = true;
    } else if (feature == "ignore_discard") {
      table.ignore_discard = true;
    } else if (feature == "no_discard_passdown") {
      table.no_discard_passdown = true;
    } else if (feature == "read_only") {
      table.read_only = true;
    } else if (feature == "error_if_no_space") {
      table.error_if_no_space = true;
    }
  }
  return table;
}

// <mapped sectors> <highest mapped sector>, "0 -" when nothing is mapped, "-" when the device
// is not open, "Fail" when its pool failed, "Error" when a metadata lookup failed.
namespace {

// The line as the kernel writes it (thin_status(): "%llu %llu" or "%llu -", one space): read
// without splitting. Anything else is left to the general path, which gives the same result and
// the errors.
std::optional<ThinStatus> parse_thin_status_fast(std::string_view params) {
  const char* const end = params.data() + params.size();
  uint64_t mapped = 0;
  auto [after_mapped, ec] = std::from_chars(params.data(), end, mapped);
  if (ec != std::errc() || after_mapped == params.data() || end - after_mapped < 2 ||
      *after_mapped != ' ') {
    return std::nullopt;
  }
  const char* highest = after_mapped + 1;
  if (!(end - highest == 1 && *highest == '-')) {
    uint64_t ignored = 0;
    auto [after_highest, ec2] = std::from_chars(highest, end, ignored);
    if (ec2 != std::errc() || after_highest != end) {
      return std::nullopt;
    }
  }
  ThinStatus status;
  status.mapped_sectors = mapped;
  return status;
}

}  // namespace

Expected<ThinStatus> parse_thin_status(std::string_view params) {
  constexpr std::string_view kWhat = "thin status";
  if (auto fast = parse_thin_status_fast(params)) {
    return *fast;
  }
  auto fields = split_fields(params);
  ThinStatus status;
  if (fields.size() == 1) {
    if (fields[0] == "-") {
      status.state = ThinStatus::State::kInactive;
      return status;
    }
    if (fields[0] == "Fail") {
      status.state = ThinStatus::State::kFail;
      return status;
    }
    if (fields[0] == "Error") {
      status.state = ThinStatus::State::kError;
      return status;
    }
  }
  if (fields.size() != 2) {
    return parse_error(kWhat, params, fmt::format("{} fields, expected 2", fields.size()));
  }
  auto mapped = parse_u64(fields[0]);
  if (!mapped) {
    return parse_error(kWhat, params,
                       fmt::format("mapped sectors \"{}\" is not a number", fields[0]));
  }
  status.mapped_sectors = *mapped;
  if (fields[1] == "-") {
    return status;
  }
  // The highest mapped sector: checked, not kept (nothing exports it).
  if (!parse_u64(fields[1])) {
    return parse_error(
        kWhat, params,
        fmt::format("highest mapped sector \"{}\" is neither - nor a number", fields[1]));
  }
  return status;
}

// <pool dev> <device id> [<external origin dev>], or "Fail" when the pool has failed (thin_status
// checks the pool mode before the status type, so the table line says Fail too).
Expected<ThinTable> parse_thin_table(std::string_view params) {
  constexpr std::string_view kWhat = "thin table";
  auto fields = split_fields(params);
  if (fields.size() == 1 && fields[0] == "Fail") {
    ThinTable table;
    table.pool_failed = true;
    return table;
  }
  if (fields.size() != 2 && fields.size() != 3) {
    return parse_error(kWhat, params, fmt::format("{} fields, expected 2 or 3", fields.size()));
  }
  ThinTable table;
  auto pool_dev = parse_device_number(fields[0]);
  if (!pool_dev) {
    return parse_error(kWhat, params, "pool device " + pool_dev.error().message);
  }
  table.pool_dev = *pool_dev;
  auto device_id = parse_u64(fields[1]);
  if (!device_id || *device_id >= (uint64_t{1} << 24)) {
    return parse_error(kWhat, params,
                       fmt::format("device id \"{}\" is not a number below 2^24", fields[1]));
  }
  table.device_id = *device_id;
  // An external origin: checked, not kept (nothing exports it).
  if (fields.size() == 3) {
    if (auto origin = parse_device_number(fields[2]); !origin) {
      return parse_error(kWhat, params, "external origin " + origin.error().message);
    }
  }
  return table;
}

}  // namespace thinpool
