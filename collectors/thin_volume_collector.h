// The `thin` collector: one set of series per dm thin target (thin volume).
#pragma once

#include "collectors/collector.h"

namespace thinpool {

class ThinVolumeCollector : public Collector {
 public:
  Status collect(ScrapeContext& context, std::vector<prometheus::MetricFamily>& out) override;
};

void append_volume_families(const std::vector<ThinVolume>& volumes,
                            std::vector<prometheus::MetricFamily>& out);

}  // namespace thinpool
