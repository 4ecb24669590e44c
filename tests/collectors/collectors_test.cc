// Per-collector tests: fixtures in, whole exposition text out, compared with golden files.
// Rewrite the golden files with THINPOOL_UPDATE_GOLDEN=1 after an intended change.
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "collectors/collector.h"
#include "collectors/thin_pool_collector.h"
#include "collectors/thin_volume_collector.h"
#include "dm/fake_device_mapper.h"

namespace thinpool {
namespace {

const std::string kFixtures = THINPOOL_FIXTURES_DIR;

// The exposition without the duration family, whose values change from run to run.
std::string scrape(const Scraper& scraper) {
  auto families = scraper.Collect();
  std::erase_if(families, [](const prometheus::MetricFamily& family) {
    return family.name == "thinpool_scrape_collector_duration_seconds";
  });
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class GoldenTest : public testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, MatchesGoldenExposition) {
  const std::string dir = kFixtures + "/" + GetParam();
  auto fake = FakeDeviceMapper::from_directory(dir);
  ASSERT_TRUE(fake.ok()) << fake.error().message;
  InventoryReader reader(*fake);
  Scraper scraper(reader, device_mapper_collectors(reader));
  std::string text = scrape(scraper);
  const std::string golden_path = dir + "/metrics.prom";
  if (std::getenv("THINPOOL_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(golden_path) << text;
  }
  EXPECT_EQ(text, read_file(golden_path))
      << "golden " << golden_path << " differs; rerun with THINPOOL_UPDATE_GOLDEN=1 if intended";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenTest,
                         testing::Values("lvm-healthy", "seed-incident", "faults", "empty",
                                         // Captured on a real 6.1 kernel by tests/vm.
                                         "captured/lvm-cinder-volumes", "captured/lvm-fresh-pool",
                                         "captured/dmsetup-pool", "captured/out-of-data-space",
                                         "captured/error-if-no-space", "captured/read-only",
                                         "captured/metadata-exhausted", "captured/metadata-grown",
                                         "captured/needs-check", "captured/fail"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::erase_if(name, [](char c) { return c == '-' || c == '/'; });
                           return name;
                         });

std::string scrape_fixture(const std::string& name) {
  auto fake = FakeDeviceMapper::from_directory(kFixtures + "/" + name);
  EXPECT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  Scraper scraper(reader, device_mapper_collectors(reader));
  return scrape(scraper);
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(ThinPoolCollector, SeedIncidentShowsFullMetadataWithLittleData) {
  std::string text = scrape_fixture("seed-incident");
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
  std::string text = scrape_fixture("faults");
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
  std::string text = scrape_fixture("faults");
  EXPECT_TRUE(has_line(
      text,
      "thinpool_data_size_bytes{pool=\"we\\\"ird\\\\p\xc3\xb6ol\",vg=\"\",lv=\"\"} 268435456"))
      << text;
}

TEST(ThinVolumeCollector, ExportsSizeAndMappedBytesOnlyWhenKnown) {
  std::string text = scrape_fixture("faults");
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

TEST(Scraper, AFailingCollectorDoesNotFailTheScrape) {
  class Throwing : public Collector {
   public:
    Status collect(ScrapeContext&, std::vector<prometheus::MetricFamily>&) override {
      throw std::runtime_error("boom");
    }
  };
  class Failing : public Collector {
   public:
    Status collect(ScrapeContext&, std::vector<prometheus::MetricFamily>&) override {
      return Error{"cannot read"};
    }
  };
  auto fake = FakeDeviceMapper::from_directory(kFixtures + "/lvm-healthy");
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  std::vector<Scraper::NamedCollector> collectors;
  collectors.push_back({"throwing", std::make_unique<Throwing>()});
  collectors.push_back({"failing", std::make_unique<Failing>()});
  collectors.push_back({"thinpool", std::make_unique<ThinPoolCollector>()});
  Scraper scraper(reader, std::move(collectors));
  std::string text = scrape(scraper);
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="throwing"} 0)"));
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="failing"} 0)"));
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="thinpool"} 1)"));
  EXPECT_NE(text.find("thinpool_data_used_bytes{"), std::string::npos);
}

TEST(Scraper, NoDeviceMapperMeansSuccessZeroAndNoSeries) {
  FakeDeviceMapper fake;
  fake.set_list_error(Error{"dm list: the kernel has no device-mapper", 19});
  InventoryReader reader(fake);
  Scraper scraper(reader, device_mapper_collectors(reader));
  std::string text = scrape(scraper);
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="thinpool"} 0)"));
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="thin"} 0)"));
  EXPECT_EQ(text.find("thinpool_data_used_bytes"), std::string::npos);
  // The inventory is read once per scrape, however many collectors use it.
  EXPECT_EQ(fake.calls().list, 1);
}

TEST(Scraper, RemovedVolumesLeaveNoStaleSeries) {
  auto fake = FakeDeviceMapper::from_directory(kFixtures + "/lvm-healthy");
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  Scraper scraper(reader, device_mapper_collectors(reader));
  const std::string volume = "cinder--volumes-volume--c0ffee00--1111--2222--3333--444455556666";
  EXPECT_NE(scrape(scraper).find(volume), std::string::npos);
  fake->remove_device(volume);
  EXPECT_EQ(scrape(scraper).find(volume), std::string::npos);
}

}  // namespace
}  // namespace thinpool
