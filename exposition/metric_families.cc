#include "exposition/metric_families.h"

namespace thinpool {

FamilyBuilder::FamilyBuilder(std::string name, std::string help, prometheus::MetricType type) {
  family_.name = std::move(name);
  family_.help = std::move(help);
  family_.type = type;
}

void FamilyBuilder::add(Labels labels, double value) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  switch (family_.type) {
    case prometheus::MetricType::Counter:
      metric.counter.value = value;
      break;
    case prometheus::MetricType::Untyped:
      metric.untyped.value = value;
      break;
    default:
      metric.gauge.value = value;
      break;
  }
  family_.metric.push_back(std::move(metric));
}

void FamilyBuilder::move_to(std::vector<prometheus::MetricFamily>& out) {
  if (!family_.metric.empty()) {
    out.push_back(std::move(family_));
  }
}

}  // namespace thinpool
