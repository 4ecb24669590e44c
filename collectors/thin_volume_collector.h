// The `thin` collector: one set of series per dm thin target (thin volume).
#pragma once

#include "collectors/collector.h"

namespace thinpool {

class ThinVolumeCollector : public Collector {
 public:
  Status collect(ScrapeContext& context, std::vector<prometheus::MetricFamily>& out) override;
  // Thousands of volumes are most of a scrape: their series go straight into the text.
  Status collect_text(ScrapeContext& context, std::string& out) override;
};

void append_volume_families(const std::vector<ThinVolume>& volumes,
                            std::vector<prometheus::MetricFamily>& out);

// The same series as exposition text (what write_exposition() makes of the families).
void write_volume_text(const std::vector<ThinVolume>& volumes, std::string& out);

}  // namespace thinpool
