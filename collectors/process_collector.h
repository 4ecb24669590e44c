// The `process` collector: the standard process_* series every Prometheus exporter serves, read
// from /proc/self.
#pragma once

#include <string>

#include "collectors/collector.h"

namespace thinpool {

class ProcessCollector : public Collector {
 public:
  // `proc_self` is the /proc/<pid> directory to read and `proc_stat` the system's stat file;
  // tests point them elsewhere. A file that cannot be read leaves its series out.
  explicit ProcessCollector(std::string proc_self = "/proc/self",
                            const std::string& proc_stat = "/proc/stat");
  Status collect(ScrapeContext& context, MetricWriter& out) override;

 private:
  std::string proc_self_;
  double start_time_seconds_ = -1;  // read once: negative when it could not be
};

CollectorDefinition process_collector_definition();

}  // namespace thinpool
