#include "exporter/process_metrics.h"

#include <gtest/gtest.h>

#include <map>

namespace thinpool {
namespace {

std::map<std::string, double> values(const prometheus::Collectable& collectable) {
  std::map<std::string, double> out;
  for (const auto& family : collectable.Collect()) {
    for (const auto& metric : family.metric) {
      out[family.name] = family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                                        : metric.gauge.value;
    }
  }
  return out;
}

TEST(ProcessCollector, ReportsTheStandardSeriesForThisProcess) {
  auto got = values(ProcessCollector());
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_start_time_seconds",
                           "process_open_fds", "process_max_fds"}) {
    EXPECT_TRUE(got.contains(name)) << name;
  }
  EXPECT_GT(got["process_resident_memory_bytes"], 1 << 20);
  EXPECT_GE(got["process_open_fds"], 3);
  EXPECT_GT(got["process_start_time_seconds"], 1.6e9);
  EXPECT_LE(got["process_start_time_seconds"], static_cast<double>(time(nullptr)) + 1);
}

TEST(ProcessCollector, MissingProcFilesGiveNoSeriesRatherThanGarbage) {
  auto got = values(ProcessCollector("/nonexistent", "/nonexistent"));
  EXPECT_TRUE(got.empty());
}

TEST(BuildInfoCollector, CarriesVersionLabels) {
  auto families = BuildInfoCollector("1.02.185").Collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].name, "thinpool_exporter_build_info");
  std::map<std::string, std::string> labels;
  for (const auto& label : families[0].metric.at(0).label) {
    labels[label.name] = label.value;
  }
  EXPECT_FALSE(labels["version"].empty());
  EXPECT_FALSE(labels["revision"].empty());
  EXPECT_EQ(labels["libdevmapper"], "1.02.185");
  EXPECT_EQ(families[0].metric.at(0).gauge.value, 1);
}

}  // namespace
}  // namespace thinpool
