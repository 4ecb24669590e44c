// Building fresh prometheus-cpp metric families on every scrape.
#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <string>
#include <utility>
#include <vector>

namespace thinpool {

using Labels = std::vector<prometheus::ClientMetric::Label>;

// Collects the samples of one family. Families are built anew on every scrape, so a device
// that disappears leaves no stale series behind.
class FamilyBuilder {
 public:
  FamilyBuilder(std::string name, std::string help,
                prometheus::MetricType type = prometheus::MetricType::Gauge);

  void add(Labels labels, double value);
  bool empty() const { return family_.metric.empty(); }

  // Appends the family to `out` unless it has no samples.
  void move_to(std::vector<prometheus::MetricFamily>& out);

 private:
  prometheus::MetricFamily family_;
};

}  // namespace thinpool
