#include "collectors/process_collector.h"

#include <gtest/gtest.h>

#include <ctime>

#include "dm/fake_device_mapper.h"
#include "tests/support/exposition_text.h"

namespace thinpool {
namespace {

std::map<std::string, double> collect(ProcessCollector collector) {
  FakeDeviceMapper fake;
  InventoryReader reader(fake);
  ScrapeContext context(reader, Clock::now() + std::chrono::seconds(10));
  std::string text;
  MetricWriter out(text);
  EXPECT_TRUE(collector.collect(context, out).ok());
  return testing_support::single_values(text);
}

TEST(ProcessCollector, ReportsTheStandardSeriesForThisProcess) {
  auto got = collect(ProcessCollector());
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
  auto got = collect(ProcessCollector("/nonexistent", "/nonexistent"));
  EXPECT_TRUE(got.empty());
}

}  // namespace
}  // namespace thinpool
