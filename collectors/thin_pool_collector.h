// The `thinpool` collector: one set of series per dm thin-pool target, from the inventory.
#pragma once

#include <vector>

#include "collectors/collector.h"

namespace thinpool {

class ThinPoolCollector : public InventoryCollector {
 public:
  Status collect(ScrapeContext& context, MetricWriter& out) override;
};

// The series of `pools` (split out for tests and benchmarks).
void write_pool_series(const std::vector<ThinPool>& pools, MetricWriter& out);

CollectorDefinition thin_pool_collector_definition();

}  // namespace thinpool
