// The text path of a scrape (Scraper::CollectText, Collector::collect_text, FamilyTextWriter,
// render_metrics) writes exactly what the MetricFamily path serializes to: on every fixture, on
// a host with hundreds of volumes in every state, and when collectors fail or throw.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "collectors/collector.h"
#include "collectors/thin_volume_collector.h"
#include "dm/fake_device_mapper.h"
#include "exporter/http_server.h"
#include "exposition/exposition_writer.h"
#include "exposition/metric_families.h"

namespace thinpool {
namespace {

// Without what moves between two scrapes: durations, and parse errors (counted per read).
std::string without_durations(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("thinpool_scrape_collector_duration_seconds{") &&
        !line.starts_with("thinpool_parse_errors_total{")) {
      out += line + "\n";
    }
  }
  return out;
}

void expect_text_path_matches(FakeDeviceMapper& fake, const std::string& what) {
  InventoryReader reader(fake);
  Scraper scraper(reader, device_mapper_collectors(reader));
  std::string via_families;
  write_exposition(scraper.Collect(), via_families);
  std::string via_text;
  scraper.CollectText(via_text);
  EXPECT_EQ(without_durations(via_text), without_durations(via_families)) << what;
  EXPECT_NE(via_text.find("thinpool_scrape_collector_success"), std::string::npos) << what;
}

TEST(TextCollectTest, MatchesTheFamilyPathOnEveryFixture) {
  const std::filesystem::path fixtures = THINPOOL_FIXTURES_DIR;
  int seen = 0;
  for (const auto& dir : {fixtures, fixtures / "captured"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (!std::filesystem::exists(entry.path() / "status")) {
        continue;
      }
      auto fake = FakeDeviceMapper::from_directory(entry.path().string());
      ASSERT_TRUE(fake.ok()) << fake.error().message;
      expect_text_path_matches(*fake, entry.path().string());
      ++seen;
    }
  }
  EXPECT_GE(seen, 4);
}

TEST(TextCollectTest, MatchesTheFamilyPathWithHundredsOfVolumesInEveryState) {
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
  expect_text_path_matches(fake, "300 volumes");
}

TEST(TextCollectTest, FamilyTextWriterWritesWhatWriteExpositionWrites) {
  for (auto type : {prometheus::MetricType::Gauge, prometheus::MetricType::Counter,
                    prometheus::MetricType::Untyped}) {
    std::string text;
    FamilyTextWriter writer(text, "test_value", "Help \"as is\"\n.", type);
    writer.add({{"a", "plain"}, {"b", "q\"b\\c\nd"}, {"c", ""}}, 1.5);
    writer.add({}, -0.0);
    writer.add({{"a", "x"}}, 1e300);

    FamilyBuilder builder("test_value", "Help \"as is\"\n.", type);
    builder.add({{"a", "plain"}, {"b", "q\"b\\c\nd"}, {"c", ""}}, 1.5);
    builder.add({}, -0.0);
    builder.add({{"a", "x"}}, 1e300);
    std::vector<prometheus::MetricFamily> families;
    builder.move_to(families);
    std::string expected;
    write_exposition(families, expected);
    EXPECT_EQ(text, expected);
  }
  std::string empty;
  FamilyTextWriter unused(empty, "no_samples", "Nothing.");
  EXPECT_EQ(empty, "");
}

// Writes a line, then fails or throws: the scrape must keep none of it.
class BrokenCollector : public Collector {
 public:
  explicit BrokenCollector(bool throws) : throws_(throws) {}
  Status collect(ScrapeContext& /*context*/, std::vector<prometheus::MetricFamily>& out) override {
    FamilyBuilder family("broken_value", "Half written.");
    family.add({}, 1);
    family.move_to(out);
    if (throws_) {
      throw std::runtime_error("exploded");
    }
    return Error{"broken on purpose"};
  }
  Status collect_text(ScrapeContext& /*context*/, std::string& out) override {
    FamilyTextWriter family(out, "broken_value", "Half written.");
    family.add({}, 1);
    if (throws_) {
      throw std::runtime_error("exploded");
    }
    return Error{"broken on purpose"};
  }

 private:
  bool throws_;
};

TEST(TextCollectTest, AFailingCollectorLeavesNoText) {
  auto fake = FakeDeviceMapper::from_directory(std::string(THINPOOL_FIXTURES_DIR) + "/lvm-healthy");
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  auto collectors = device_mapper_collectors(reader);
  collectors.push_back({"fails", std::make_unique<BrokenCollector>(false)});
  collectors.push_back({"throws", std::make_unique<BrokenCollector>(true)});
  Scraper scraper(reader, std::move(collectors));
  std::string text;
  scraper.CollectText(text);
  EXPECT_EQ(text.find("broken_value"), std::string::npos);
  EXPECT_NE(text.find("thinpool_scrape_collector_success{collector=\"fails\"} 0"),
            std::string::npos);
  EXPECT_NE(text.find("thinpool_scrape_collector_success{collector=\"throws\"} 0"),
            std::string::npos);
  EXPECT_NE(text.find("thinpool_scrape_collector_success{collector=\"thin\"} 1"),
            std::string::npos);
  std::string via_families;
  write_exposition(scraper.Collect(), via_families);
  EXPECT_EQ(without_durations(text), without_durations(via_families));
}

class FamiliesOnly : public prometheus::Collectable {
 public:
  explicit FamiliesOnly(std::string name) : name_(std::move(name)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    FamilyBuilder family(name_, "A value.");
    family.add({{"k", "v"}}, 2);
    family.move_to(out);
    return out;
  }

 private:
  std::string name_;
};

class ThrowingText : public prometheus::Collectable, public TextCollectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override { return {}; }
  void CollectText(std::string& out) const override {
    out += "half a line";
    throw std::runtime_error("text exploded");
  }
};

TEST(TextCollectTest, RenderMetricsKeepsTheOrderOfCollectablesAndDropsOneThatThrows) {
  auto fake = FakeDeviceMapper::from_directory(std::string(THINPOOL_FIXTURES_DIR) + "/faults");
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  auto scraper = std::make_shared<Scraper>(reader, device_mapper_collectors(reader));
  auto before = std::make_shared<FamiliesOnly>("first_value");
  auto after = std::make_shared<FamiliesOnly>("last_value");
  std::string rendered = render_metrics({before, scraper, std::make_shared<ThrowingText>(), after});

  std::string expected;
  write_exposition(before->Collect(), expected);
  write_exposition(scraper->Collect(), expected);
  write_exposition(after->Collect(), expected);
  EXPECT_EQ(without_durations(rendered), without_durations(expected));
  EXPECT_EQ(rendered.find("half a line"), std::string::npos);
}

std::string gunzip(const std::string& data, size_t size) {
  z_stream stream{};
  inflateInit2(&stream, 15 + 16);
  std::string out(size + 1, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return out;
}

TEST(TextCollectTest, GzipRoundTripsBigSmallEmptyAndIncompressibleBodies) {
  // The compressor first tries an output a quarter of the input's size, then the worst-case
  // bound: a big exposition-like body, a small one, an empty one, and random bytes (which do not
  // fit the first try).
  std::string big;
  uint64_t x = 88172645463325252ull;
  while (big.size() < 3'000'000) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    big += "thinpool_volume_size_bytes{volume=\"v" + std::to_string(x % 100000) + "\"} " +
           std::to_string(x) + "\n";
  }
  std::string random;
  while (random.size() < 300'000) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    random.append(reinterpret_cast<const char*>(&x), sizeof x);
  }
  for (const std::string& body : {big, std::string("small\n"), std::string(), random}) {
    auto compressed = gzip_compress(body);
    ASSERT_TRUE(compressed.ok()) << compressed.error().message;
    EXPECT_EQ(gunzip(*compressed, body.size()), body);
  }
}

}  // namespace
}  // namespace thinpool
