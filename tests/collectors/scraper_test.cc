// The scrape: one failing or throwing collector costs only its own series; the inventory is read
// once per scrape; nothing stale survives a removed device; and the whole exposition is what
// prometheus-cpp's TextSerializer writes for the same samples, on every fixture and on hundreds
// of volumes in every state.
#include "collectors/scraper.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "collectors/registry.h"
#include "collectors/thin_pool_collector.h"
#include "dm/fake_device_mapper.h"
#include "tests/support/exposition_text.h"
#include "tests/support/fixtures.h"

namespace thinpool {
namespace {

using testing_support::fixture_dependencies;
using testing_support::has_line;
using testing_support::kDeviceMapperCollectors;

std::vector<Scraper::NamedCollector> device_mapper_collectors(InventoryReader& reader) {
  return make_collectors(registered_collectors(), kDeviceMapperCollectors,
                         fixture_dependencies(reader), {});
}

constexpr Family kBrokenValue{"broken_value", "Half written.", MetricType::Gauge, {}};

// Writes a sample, then fails or throws: the scrape must keep none of it.
class BrokenCollector : public Collector {
 public:
  explicit BrokenCollector(bool throws) : throws_(throws) {}
  Status collect(ScrapeContext& /*context*/, MetricWriter& out) override {
    out.family(kBrokenValue).add({}, 1);
    if (throws_) {
      throw std::runtime_error("exploded");
    }
    return Error{"broken on purpose"};
  }

 private:
  bool throws_;
};

TEST(Scraper, AFailingCollectorDoesNotFailTheScrapeAndLeavesNoText) {
  auto fake = FakeDeviceMapper::from_directory(testing_support::fixture_dir("lvm-healthy"));
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  std::vector<Scraper::NamedCollector> collectors;
  collectors.push_back({"throwing", std::make_unique<BrokenCollector>(true)});
  collectors.push_back({"failing", std::make_unique<BrokenCollector>(false)});
  collectors.push_back({"thinpool", std::make_unique<ThinPoolCollector>()});
  Scraper scraper(reader, std::move(collectors));
  std::string text = scraper.scrape();
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="throwing"} 0)"));
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="failing"} 0)"));
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="thinpool"} 1)"));
  EXPECT_NE(text.find("thinpool_data_used_bytes{"), std::string::npos);
  EXPECT_EQ(text.find("broken_value"), std::string::npos);
}

TEST(Scraper, NoDeviceMapperMeansSuccessZeroAndNoSeries) {
  FakeDeviceMapper fake;
  fake.set_list_error(Error{"dm list: the kernel has no device-mapper", ErrorKind::kUnavailable});
  InventoryReader reader(fake);
  Scraper scraper(reader, device_mapper_collectors(reader));
  std::string text = scraper.scrape();
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="thinpool"} 0)"));
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="thin"} 0)"));
  EXPECT_EQ(text.find("thinpool_data_used_bytes"), std::string::npos);
  // The inventory is read once per scrape, however many collectors use it.
  EXPECT_EQ(fake.calls().list, 1);
}

TEST(Scraper, RemovedVolumesLeaveNoStaleSeries) {
  auto fake = FakeDeviceMapper::from_directory(testing_support::fixture_dir("lvm-healthy"));
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  Scraper scraper(reader, device_mapper_collectors(reader));
  const std::string volume = "cinder--volumes-volume--c0ffee00--1111--2222--3333--444455556666";
  EXPECT_NE(scraper.scrape().find(volume), std::string::npos);
  fake->remove_device(volume);
  EXPECT_EQ(scraper.scrape().find(volume), std::string::npos);
}

// The scrape read back into prometheus-cpp's families and written again by its TextSerializer:
// the same bytes.
void expect_text_serializer_agrees(FakeDeviceMapper& fake, const std::string& what) {
  InventoryReader reader(fake);
  Scraper scraper(reader, device_mapper_collectors(reader));
  const std::string text = scraper.scrape();
  EXPECT_EQ(testing_support::serialize(testing_support::parse_exposition(text)), text) << what;
  EXPECT_NE(text.find("thinpool_scrape_collector_success"), std::string::npos) << what;
}

TEST(Scraper, WritesWhatTextSerializerWritesOnEveryFixture) {
  const std::filesystem::path fixtures = testing_support::fixture_dir("");
  int seen = 0;
  for (const auto& dir : {fixtures, fixtures / "captured"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (!std::filesystem::exists(entry.path() / "status")) {
        continue;
      }
      auto fake = FakeDeviceMapper::from_directory(entry.path().string());
      ASSERT_TRUE(fake.ok()) << fake.error().message;
      expect_text_serializer_agrees(*fake, entry.path().string());
      ++seen;
    }
  }
  EXPECT_GE(seen, 14);
}

TEST(Scraper, WritesWhatTextSerializerWritesWithHundredsOfVolumesInEveryState) {
  FakeDeviceMapper fake;
  fake.add_device("vg0-pool-tpool", {254, 2},
                  "LVM-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-tpool",
                  "0 2097152 thin-pool 254:0 254:1 128 0 0",
                  std::string_view("0 2097152 thin-pool 1 10/1024 5/16384 - rw discard_passdown "
                                   "queue_if_no_space - 256 "));
  const char* statuses[] = {"1228800 1228799", "0 -", "-", "Fail", "Error"};
  for (uint32_t i = 0; i < 300; ++i) {
    std::string name = "vg0-volume--" + std::to_string(i) + (i % 7 == 0 ? "we\"ird\\na\nme" : "");
    std::string uuid = i % 3 == 0 ? "" : "LVM-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + std::to_string(i);
    std::string table =
        "0 2097152 thin " + std::string(i % 11 == 0 ? "7:99 " : "254:2 ") + std::to_string(i);
    fake.add_device(name, {254, 10 + i}, uuid, table,
                    "0 2097152 thin " + std::string(statuses[i % 5]));
  }
  expect_text_serializer_agrees(fake, "300 volumes");
}

}  // namespace
}  // namespace thinpool
