// The `build_info` collector: thinpool_exporter_build_info{version,revision,compiler,
// libdevmapper} 1.
#pragma once

#include "collectors/collector.h"

namespace thinpool {

class BuildInfoCollector : public Collector {
 public:
  explicit BuildInfoCollector(BuildInfo build) : build_(std::move(build)) {}
  Status collect(ScrapeContext& context, MetricWriter& out) override;

 private:
  BuildInfo build_;
};

CollectorDefinition build_info_collector_definition();

}  // namespace thinpool
