// The thin collector on captured fixtures: size always, mapped bytes only while the kernel says.
#include "collectors/thin_volume_collector.h"

#include <gtest/gtest.h>

#include "tests/support/exposition_text.h"
#include "tests/support/fixtures.h"

namespace thinpool {
namespace {

using testing_support::has_line;

TEST(ThinVolumeCollector, ExportsSizeAndMappedBytesOnlyWhenKnown) {
  std::string text = testing_support::scrape_fixture("faults", {"thin"});
  EXPECT_TRUE(has_line(
      text,
      R"(thinpool_volume_size_bytes{volume="thin-inactive",pool="oods",vg="",lv="",device_id="1"} 536870912)"));
  EXPECT_EQ(text.find(R"(thinpool_volume_mapped_bytes{volume="thin-inactive")"), std::string::npos);
  EXPECT_EQ(text.find(R"(thinpool_volume_mapped_bytes{volume="thin-fail")"), std::string::npos);
  EXPECT_TRUE(has_line(
      text,
      R"(thinpool_volume_mapped_bytes{volume="thin-orphan",pool="253:99",vg="",lv="",device_id="7"} 1048576)"));
  EXPECT_EQ(text.find(R"(volume="thin-bad")"), std::string::npos);
}

}  // namespace
}  // namespace thinpool
