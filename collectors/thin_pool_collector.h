// The `thinpool` collector: one set of series per dm thin-pool target.
#pragma once

#include "collectors/collector.h"

namespace thinpool {

class ThinPoolCollector : public Collector {
 public:
  Status collect(ScrapeContext& context, std::vector<prometheus::MetricFamily>& out) override;
};

// The families for `pools`, appended to `out` (split out for tests and benchmarks).
void append_pool_families(const std::vector<ThinPool>& pools,
                          std::vector<prometheus::MetricFamily>& out);

}  // namespace thinpool
