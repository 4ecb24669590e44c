#include "collectors/thin_pool_collector.h"

#include <optional>
#include <string>

namespace thinpool {
namespace {

// A per-pool series with the pool labels: its family and its value, or none (the pool's status
// does not say: a Fail or Error line carries no numbers).
struct PoolSeries {
  Family family;
  std::optional<double> (*value)(const ThinPool& pool);
};

constexpr auto kInfoLabelNames = label_names_with(kPoolLabelNames, "uuid", "discards",
                                                  "block_zeroing", "metadata_dev", "data_dev");
constexpr Family kInfo{"thinpool_info",
                       "Constant 1 per thin pool; labels carry its uuid, discard mode, zeroing and "
                       "backing devices (dm table and status).",
                       MetricType::Gauge, kInfoLabelNames};
constexpr auto kModeLabelNames = label_names_with(kPoolLabelNames, "mode");
constexpr Family kMode{"thinpool_mode",
                       "Pool mode from the dm thin-pool status; one series per mode, the current "
                       "one is 1. ro also covers out-of-metadata-space.",
                       MetricType::Gauge, kModeLabelNames};

double data_block_bytes(const ThinPool& pool) {
  return static_cast<double>(pool.table.data_block_size_sectors * kSectorBytes);
}

std::optional<double> blocks_in_bytes(uint64_t blocks, double block_bytes) {
  return static_cast<double>(blocks) * block_bytes;
}

// Before the mode (thinpool_info comes first).
constexpr PoolSeries kUsageSeries[] = {
    {{"thinpool_data_used_bytes",
      "Data space allocated in the pool (dm thin-pool status used data blocks times the data block "
      "size).",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> {
       if (!pool.status.usage) {
         return std::nullopt;
       }
       return blocks_in_bytes(pool.status.usage->used_data_blocks, data_block_bytes(pool));
     }},
    {{"thinpool_data_size_bytes",
      "Data space of the pool (dm thin-pool status total data blocks times the data block size).",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> {
       if (!pool.status.usage) {
         return std::nullopt;
       }
       return blocks_in_bytes(pool.status.usage->total_data_blocks, data_block_bytes(pool));
     }},
    {{"thinpool_data_block_size_bytes", "Data block (chunk) size of the pool, from its dm table.",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> { return data_block_bytes(pool); }},
    {{"thinpool_data_low_watermark_bytes",
      "Free data space below which the kernel raises a dm event (dm table low water mark).",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> {
       return blocks_in_bytes(pool.table.low_water_mark_blocks, data_block_bytes(pool));
     }},
    {{"thinpool_metadata_used_bytes",
      "Metadata space in use, in 4096-byte blocks from the dm thin-pool status; includes the "
      "kernel's reserve on 4.19+.",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> {
       if (!pool.status.usage) {
         return std::nullopt;
       }
       return blocks_in_bytes(pool.status.usage->used_metadata_blocks, kMetadataBlockBytes);
     }},
    {{"thinpool_metadata_size_bytes", "Size of the pool's metadata device (dm thin-pool status).",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> {
       if (!pool.status.usage) {
         return std::nullopt;
       }
       return blocks_in_bytes(pool.status.usage->total_metadata_blocks, kMetadataBlockBytes);
     }},
    {{"thinpool_metadata_low_watermark_bytes",
      "Free metadata space below which the kernel raises a dm event (dm status, kernel 4.19+).",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> {
       if (!pool.status.usage || !pool.status.usage->metadata_low_watermark_blocks) {
         return std::nullopt;
       }
       return blocks_in_bytes(*pool.status.usage->metadata_low_watermark_blocks,
                              kMetadataBlockBytes);
     }},
    {{"thinpool_transaction_id",
      "The pool's transaction id in the kernel; LVM expects it to match its own metadata.",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> {
       if (!pool.status.usage) {
         return std::nullopt;
       }
       return static_cast<double>(pool.status.usage->transaction_id);
     }},
};

// After the mode.
constexpr PoolSeries kFlagSeries[] = {
    {{"thinpool_needs_check", "1 if the kernel flagged the pool metadata for thin_check/repair.",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> {
       if (!pool.status.usage) {
         return std::nullopt;
       }
       return pool.status.usage->needs_check ? 1 : 0;
     }},
    {{"thinpool_metadata_snapshot_held",
      "1 if a metadata snapshot is held (reserve_metadata_snap); it pins metadata blocks.",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> {
       if (!pool.status.usage) {
         return std::nullopt;
       }
       return pool.status.usage->metadata_snapshot_held ? 1 : 0;
     }},
    {{"thinpool_error_if_no_space",
      "1 if writes fail at once when the pool is out of data space, 0 if they queue (dm status, "
      "or table on kernels before 3.14).",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> {
       const auto& usage = pool.status.usage;
       if (usage && usage->error_if_no_space) {
         return *usage->error_if_no_space ? 1 : 0;
       }
       return pool.table.error_if_no_space ? 1 : 0;
     }},
    {{"thinpool_thin_volumes", "Active thin volumes (dm thin targets) in the pool.",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> {
       return static_cast<double>(pool.thin_volume_count);
     }},
    {{"thinpool_provisioned_bytes",
      "Sum of the sizes of the pool's active thin volumes (dm thin targets).", MetricType::Gauge,
      kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> {
       return static_cast<double>(pool.provisioned_sectors * kSectorBytes);
     }},
    {{"thinpool_status_blocked",
      "1 while the pool's status is not read because its status call blocked: the devices under "
      "the pool stopped answering (the exporter asks again once that call returned and no device "
      "under the pool is suspended); its mode and usage are absent meanwhile.",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> { return pool.status_blocked ? 1 : 0; }},
    {{"thinpool_stack_suspended",
      "1 while the pool's device or a device-mapper device below it (_tmeta, _tdata, what they "
      "stand on) is suspended (DM_DEV_STATUS): LVM is changing it, or it was left suspended and "
      "I/O to the pool waits.",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> {
       return pool.suspended_devices.empty() ? 0 : 1;
     }},
    {{"thinpool_table_read_only",
      "1 if the pool's dm table has the read_only feature: it was made read-only on purpose (a "
      "read-only activation). thinpool_mode ro with this 0 means the kernel switched the pool to "
      "read-only itself (metadata out of space or failing).",
      MetricType::Gauge, kPoolLabelNames},
     [](const ThinPool& pool) -> std::optional<double> { return pool.table.read_only ? 1 : 0; }},
};

// The discard setting as the kernel reports it; older kernels only have it in the table.
std::string_view discards(const ThinPool& pool) {
  if (pool.status.usage && pool.status.usage->discards) {
    return *pool.status.usage->discards;
  }
  if (pool.table.ignore_discard) {
    return "ignore_discard";
  }
  return pool.table.no_discard_passdown ? "no_discard_passdown" : "discard_passdown";
}

void write(const PoolSeries& series, const std::vector<ThinPool>& pools, MetricWriter& out) {
  FamilySamples samples = out.family(series.family);
  for (const ThinPool& pool : pools) {
    if (std::optional<double> value = series.value(pool)) {
      samples.add(pool.names.pool_label_values(), *value);
    }
  }
}

}  // namespace

void write_pool_series(const std::vector<ThinPool>& pools, MetricWriter& out) {
  FamilySamples info = out.family(kInfo);
  for (const ThinPool& pool : pools) {
    const std::string metadata_dev = to_string(pool.table.metadata_dev);
    const std::string data_dev = to_string(pool.table.data_dev);
    info.add({pool.names.dm_name, pool.names.vg, pool.names.lv, pool.uuid, discards(pool),
              pool.table.skip_block_zeroing ? "false" : "true", metadata_dev, data_dev},
             1);
  }
  for (const PoolSeries& series : kUsageSeries) {
    write(series, pools, out);
  }
  FamilySamples mode = out.family(kMode);
  for (const ThinPool& pool : pools) {
    if (pool.status_blocked) {
      continue;  // not read: unknown
    }
    for (PoolMode each : kAllPoolModes) {
      mode.add({pool.names.dm_name, pool.names.vg, pool.names.lv, to_string(each)},
               each == pool.status.mode ? 1 : 0);
    }
  }
  for (const PoolSeries& series : kFlagSeries) {
    write(series, pools, out);
  }
}

Status ThinPoolCollector::collect(ScrapeContext& context, MetricWriter& out) {
  const auto& inventory = context.inventory();
  if (!inventory) {
    return inventory.error();
  }
  write_pool_series((*inventory)->pools, out);
  return {};
}

CollectorDefinition thin_pool_collector_definition() {
  return {"thinpool",
          true,
          "thin pools: usage, transaction id, mode and flags (dm thin-pool target)",
          {},
          [](const CollectorDependencies&) { return std::make_unique<ThinPoolCollector>(); }};
}

}  // namespace thinpool
