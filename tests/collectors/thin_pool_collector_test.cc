// The thinpool collector on captured fixtures: the seed incident, every status form and fault,
// names that need escaping, operator-made and kernel-made read-only pools.
#include "collectors/thin_pool_collector.h"

#include <gtest/gtest.h>

#include "tests/support/exposition_text.h"
#include "tests/support/fixtures.h"

namespace thinpool {
namespace {

using testing_support::has_line;

std::string scrape_pools(std::string_view fixture) {
  return testing_support::scrape_fixture(fixture, {"thinpool"});
}

TEST(ThinPoolCollector, SeedIncidentShowsFullMetadataWithLittleData) {
  std::string text = scrape_pools("seed-incident");
  const std::string labels =
      R"(pool="cinder--volumes-cinder--volumes--pool-tpool",vg="cinder-volumes",lv="cinder-volumes-pool")";
  EXPECT_TRUE(has_line(text, "thinpool_metadata_used_bytes{" + labels + "} 4194304")) << text;
  EXPECT_TRUE(has_line(text, "thinpool_metadata_size_bytes{" + labels + "} 4194304")) << text;
  // 2918 of 16384 64 KiB blocks: 17.81%.
  EXPECT_TRUE(has_line(text, "thinpool_data_used_bytes{" + labels + "} 191234048")) << text;
  EXPECT_TRUE(has_line(text, "thinpool_data_size_bytes{" + labels + "} 1073741824")) << text;
  EXPECT_TRUE(has_line(text, "thinpool_transaction_id{" + labels + "} 91")) << text;
  EXPECT_TRUE(has_line(text, "thinpool_mode{" + labels + R"(,mode="ro"} 1)")) << text;
  EXPECT_TRUE(has_line(text, "thinpool_mode{" + labels + R"(,mode="rw"} 0)")) << text;
}

TEST(ThinPoolCollector, FailedPoolsKeepTheirModeAndInventNoNumbers) {
  std::string text = scrape_pools("faults");
  EXPECT_TRUE(has_line(text, R"(thinpool_mode{pool="failed",vg="",lv="",mode="fail"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(thinpool_mode{pool="errored",vg="",lv="",mode="error"} 1)"));
  EXPECT_TRUE(
      has_line(text, R"(thinpool_mode{pool="oods",vg="",lv="",mode="out_of_data_space"} 1)"));
  EXPECT_TRUE(has_line(text, R"(thinpool_needs_check{pool="ro--pool",vg="",lv=""} 1)"));
  EXPECT_TRUE(has_line(text, R"(thinpool_error_if_no_space{pool="errpool",vg="",lv=""} 1)"));
  EXPECT_TRUE(has_line(text, R"(thinpool_metadata_snapshot_held{pool="held",vg="",lv=""} 1)"));
  EXPECT_EQ(text.find(R"(thinpool_data_used_bytes{pool="failed")"), std::string::npos);
  EXPECT_EQ(text.find(R"(thinpool_transaction_id{pool="errored")"), std::string::npos);
  // A pool whose kernel does not report a mode (3.2) is rw; the 3.14 line has no watermark.
  EXPECT_TRUE(has_line(text, R"(thinpool_mode{pool="old-3.2",vg="",lv="",mode="rw"} 1)"));
  EXPECT_EQ(text.find(R"(thinpool_metadata_low_watermark_bytes{pool="old-3.14")"),
            std::string::npos);
  // Malformed and vanished devices are skipped, and counted when malformed.
  EXPECT_EQ(text.find(R"(pool="bad-status")"), std::string::npos);
  EXPECT_EQ(text.find(R"(pool="bad-table")"), std::string::npos);
  EXPECT_EQ(text.find(R"(pool="vanished")"), std::string::npos);
  EXPECT_TRUE(has_line(text, R"(thinpool_parse_errors_total{target="thin-pool"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(thinpool_parse_errors_total{target="thin"} 1)")) << text;
}

TEST(ThinPoolCollector, EscapesAnyNameInLabelValues) {
  std::string text = scrape_pools("faults");
  EXPECT_TRUE(has_line(
      text,
      "thinpool_data_size_bytes{pool=\"we\\\"ird\\\\p\xc3\xb6ol\",vg=\"\",lv=\"\"} 268435456"))
      << text;
}

TEST(ThinPoolCollector, TellsAReadOnlyTableFromAPoolTheKernelMadeReadOnly) {
  // Loaded with the read_only feature (captured on a real kernel): ro, and on purpose.
  std::string text = scrape_pools("captured/read-only");
  EXPECT_TRUE(has_line(text, R"(thinpool_mode{pool="ro-pool",vg="",lv="",mode="ro"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(thinpool_table_read_only{pool="ro-pool",vg="",lv=""} 1)")) << text;
  // The seed incident: ro because the metadata ran out, not by its table.
  text = scrape_pools("seed-incident");
  EXPECT_NE(text.find(R"(mode="ro"} 1)"), std::string::npos) << text;
  EXPECT_TRUE(has_line(
      text,
      R"(thinpool_table_read_only{pool="cinder--volumes-cinder--volumes--pool-tpool",vg="cinder-volumes",lv="cinder-volumes-pool"} 0)"))
      << text;
}

}  // namespace
}  // namespace thinpool
