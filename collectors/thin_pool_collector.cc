#include "collectors/thin_pool_collector.h"

#include "exposition/metric_families.h"

namespace thinpool {
namespace {

Labels pool_labels(const ThinPool& pool) {
  return {{"pool", pool.names.dm_name}, {"vg", pool.names.vg}, {"lv", pool.names.lv}};
}

// The discard setting as the kernel reports it; older kernels only have it in the table.
std::string discards(const ThinPool& pool) {
  if (pool.status.usage && pool.status.usage->discards) {
    return *pool.status.usage->discards;
  }
  if (pool.table.ignore_discard) {
    return "ignore_discard";
  }
  return pool.table.no_discard_passdown ? "no_discard_passdown" : "discard_passdown";
}

}  // namespace

void append_pool_families(const std::vector<ThinPool>& pools,
                          std::vector<prometheus::MetricFamily>& out) {
  FamilyBuilder info("thinpool_info",
                     "Constant 1 per thin pool; labels carry its uuid, discard mode, zeroing and "
                     "backing devices (dm table and status).");
  FamilyBuilder block_size("thinpool_data_block_size_bytes",
                           "Data block (chunk) size of the pool, from its dm table.");
  FamilyBuilder data_low_watermark(
      "thinpool_data_low_watermark_bytes",
      "Free data space below which the kernel raises a dm event (dm table low water mark).");
  FamilyBuilder mode("thinpool_mode",
                     "Pool mode from the dm thin-pool status; one series per mode, the current one "
                     "is 1. ro also covers out-of-metadata-space.");
  FamilyBuilder volumes("thinpool_thin_volumes",
                        "Active thin volumes (dm thin targets) in the pool.");
  FamilyBuilder provisioned(
      "thinpool_provisioned_bytes",
      "Sum of the sizes of the pool's active thin volumes (dm thin targets).");
  FamilyBuilder error_if_no_space(
      "thinpool_error_if_no_space",
      "1 if writes fail at once when the pool is out of data space, 0 if they queue "
      "(dm status, or table on kernels before 3.14).");
  FamilyBuilder data_used("thinpool_data_used_bytes",
                          "Data space allocated in the pool (dm thin-pool status used data blocks "
                          "times the data block size).");
  FamilyBuilder data_size("thinpool_data_size_bytes",
                          "Data space of the pool (dm thin-pool status total data blocks times the "
                          "data block size).");
  FamilyBuilder metadata_used(
      "thinpool_metadata_used_bytes",
      "Metadata space in use, in 4096-byte blocks from the dm thin-pool status; includes the "
      "kernel's reserve on 4.19+.");
  FamilyBuilder metadata_size("thinpool_metadata_size_bytes",
                              "Size of the pool's metadata device (dm thin-pool status).");
  FamilyBuilder metadata_low_watermark(
      "thinpool_metadata_low_watermark_bytes",
      "Free metadata space below which the kernel raises a dm event (dm status, kernel 4.19+).");
  FamilyBuilder transaction_id(
      "thinpool_transaction_id",
      "The pool's transaction id in the kernel; LVM expects it to match its own metadata.");
  FamilyBuilder needs_check("thinpool_needs_check",
                            "1 if the kernel flagged the pool metadata for thin_check/repair.");
  FamilyBuilder snapshot_held(
      "thinpool_metadata_snapshot_held",
      "1 if a metadata snapshot is held (reserve_metadata_snap); it pins metadata blocks.");

  for (const ThinPool& pool : pools) {
    Labels labels = pool_labels(pool);
    const uint64_t block_bytes = pool.table.data_block_size_sectors * kSectorBytes;

    Labels info_labels = labels;
    info_labels.push_back({"uuid", pool.uuid});
    info_labels.push_back({"discards", discards(pool)});
    info_labels.push_back({"block_zeroing", pool.table.skip_block_zeroing ? "false" : "true"});
    info_labels.push_back({"metadata_dev", to_string(pool.table.metadata_dev)});
    info_labels.push_back({"data_dev", to_string(pool.table.data_dev)});
    info.add(std::move(info_labels), 1);

    block_size.add(labels, static_cast<double>(block_bytes));
    data_low_watermark.add(labels,
                           static_cast<double>(pool.table.low_water_mark_blocks * block_bytes));
    for (PoolMode each : kAllPoolModes) {
      Labels mode_labels = labels;
      mode_labels.push_back({"mode", std::string(to_string(each))});
      mode.add(std::move(mode_labels), each == pool.status.mode ? 1 : 0);
    }
    volumes.add(labels, static_cast<double>(pool.thin_volume_count));
    provisioned.add(labels, static_cast<double>(pool.provisioned_sectors * kSectorBytes));

    const auto& usage = pool.status.usage;
    bool error_mode = pool.table.error_if_no_space;
    if (usage && usage->error_if_no_space) {
      error_mode = *usage->error_if_no_space;
    }
    error_if_no_space.add(labels, error_mode ? 1 : 0);
    if (!usage) {
      continue;  // Fail and Error lines carry no numbers; report none.
    }
    data_used.add(labels, static_cast<double>(usage->used_data_blocks * block_bytes));
    data_size.add(labels, static_cast<double>(usage->total_data_blocks * block_bytes));
    metadata_used.add(labels,
                      static_cast<double>(usage->used_metadata_blocks * kMetadataBlockBytes));
    metadata_size.add(labels,
                      static_cast<double>(usage->total_metadata_blocks * kMetadataBlockBytes));
    if (usage->metadata_low_watermark_blocks) {
      metadata_low_watermark.add(
          labels, static_cast<double>(*usage->metadata_low_watermark_blocks * kMetadataBlockBytes));
    }
    transaction_id.add(labels, static_cast<double>(usage->transaction_id));
    needs_check.add(labels, usage->needs_check ? 1 : 0);
    snapshot_held.add(labels, usage->metadata_snapshot_held ? 1 : 0);
  }

  for (FamilyBuilder* family :
       {&info, &data_used, &data_size, &block_size, &data_low_watermark, &metadata_used,
        &metadata_size, &metadata_low_watermark, &transaction_id, &mode, &needs_check,
        &snapshot_held, &error_if_no_space, &volumes, &provisioned}) {
    family->move_to(out);
  }
}

Status ThinPoolCollector::collect(ScrapeContext& context,
                                  std::vector<prometheus::MetricFamily>& out) {
  const auto& inventory = context.inventory();
  if (!inventory) {
    return inventory.error();
  }
  append_pool_families(inventory->pools, out);
  return {};
}

}  // namespace thinpool
