// The standard process_* series every Prometheus exporter serves, read from /proc/self.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace thinpool {

class ProcessCollector : public prometheus::Collectable {
 public:
  // `proc_self` is the /proc/<pid> directory to read; tests point it at fixtures.
  explicit ProcessCollector(std::string proc_self = "/proc/self",
                            std::string proc_stat = "/proc/stat");
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string proc_self_;
  std::string proc_stat_;
};

// thinpool_exporter_build_info{version,revision,compiler,libdevmapper} 1.
class BuildInfoCollector : public prometheus::Collectable {
 public:
  explicit BuildInfoCollector(std::string libdevmapper_version);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string libdevmapper_version_;
};

}  // namespace thinpool
