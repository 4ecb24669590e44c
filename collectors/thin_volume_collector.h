// The `thin` collector: one set of series per dm thin target (thin volume), from the inventory.
#pragma once

#include <vector>

#include "collectors/collector.h"

namespace thinpool {

class ThinVolumeCollector : public InventoryCollector {
 public:
  Status collect(ScrapeContext& context, MetricWriter& out) override;
};

// The series of `volumes` (split out for tests and benchmarks).
void write_volume_series(const std::vector<ThinVolume>& volumes, MetricWriter& out);

CollectorDefinition thin_volume_collector_definition();

}  // namespace thinpool
