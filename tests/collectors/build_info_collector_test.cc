#include "collectors/build_info_collector.h"

#include <gtest/gtest.h>

#include "dm/fake_device_mapper.h"
#include "tests/support/exposition_text.h"

namespace thinpool {
namespace {

TEST(BuildInfoCollector, CarriesVersionLabels) {
  FakeDeviceMapper fake;
  InventoryReader reader(fake);
  ScrapeContext context(reader, Clock::now() + std::chrono::seconds(10));
  std::string text;
  MetricWriter out(text);
  ASSERT_TRUE(
      BuildInfoCollector({"0.1.0", "abc123", "g++ 12.2.0", "1.02.185"}).collect(context, out).ok());
  auto families = testing_support::parse_exposition(text);
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].name, "thinpool_exporter_build_info");
  std::map<std::string, std::string> labels;
  for (const auto& label : families[0].metric.at(0).label) {
    labels[label.name] = label.value;
  }
  EXPECT_EQ(labels["version"], "0.1.0");
  EXPECT_EQ(labels["revision"], "abc123");
  EXPECT_EQ(labels["compiler"], "g++ 12.2.0");
  EXPECT_EQ(labels["libdevmapper"], "1.02.185");
  EXPECT_EQ(families[0].metric.at(0).gauge.value, 1);
}

}  // namespace
}  // namespace thinpool
