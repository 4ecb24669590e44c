// The scrape: one failing or throwing collector costs only its own series; the inventory is read
// once per scrape; nothing stale survives a removed device; and the whole exposition is what
// prometheus-cpp's TextSerializer writes for the same samples, on every fixture and on hundreds
// of volumes in every state.
#include "collectors/scraper.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdio>
#include <filesystem>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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

constexpr Family kFirstValue{"first_value", "Written in the second phase.", MetricType::Gauge, {}};
constexpr Family kSecondValue{
    "second_value", "Written in the second phase.", MetricType::Gauge, {}};

// Logs its phases into `log`: what it read (first phase) and what it wrote (second), by `name`;
// writes one sample of `family`: 1 from its writer, 2 from collect(). With `defer`, read() returns
// no writer and collect() does the work; with `fail_read` or `throw_read`, read() fails.
class PhasedCollector : public Collector {
 public:
  struct Behaviour {
    bool defer = false;
    bool fail_read = false;
    bool throw_read = false;
  };
  PhasedCollector(std::string name, const Family& family, std::vector<std::string>& log,
                  Behaviour behaviour)
      : name_(std::move(name)), family_(family), log_(log), behaviour_(behaviour) {}

  Expected<Writer> read(ScrapeContext& /*context*/) override {
    log_.push_back("read " + name_);
    if (behaviour_.throw_read) {
      throw std::runtime_error("read exploded");
    }
    if (behaviour_.fail_read) {
      return Error{"cannot read on purpose"};
    }
    if (behaviour_.defer) {
      return Writer{};
    }
    return Writer{[this](MetricWriter& out) {
      log_.push_back("write " + name_);
      out.family(family_).add({}, 1);
      return Status{};
    }};
  }
  Status collect(ScrapeContext& /*context*/, MetricWriter& out) override {
    log_.push_back("collect " + name_);
    out.family(family_).add({}, 2);
    return {};
  }

 private:
  std::string name_;
  const Family& family_;
  std::vector<std::string>& log_;
  Behaviour behaviour_;
};

Scraper::NamedCollector phased(const std::string& name, const Family& family,
                               std::vector<std::string>& log,
                               PhasedCollector::Behaviour behaviour = {}) {
  return {name, std::make_unique<PhasedCollector>(name, family, log, behaviour)};
}

// Writes `samples` samples of its own family, then fails.
class LongBrokenCollector : public Collector {
 public:
  explicit LongBrokenCollector(int samples) : samples_(samples) {}
  Status collect(ScrapeContext& /*context*/, MetricWriter& out) override {
    FamilySamples family = out.family(kBrokenValue);
    for (int i = 0; i < samples_; ++i) {
      family.add({}, i);
    }
    return Error{"broken on purpose"};
  }

 private:
  int samples_;
};

// The text without the collectors' durations, which differ from one scrape to the next.
std::string without_durations(const std::string& text) {
  return std::regex_replace(
      text, std::regex("thinpool_scrape_collector_duration_seconds\\{[^\n]*\n"), "");
}

TEST(Scraper, TextInPiecesIsTheWholeText) {
  auto fake = FakeDeviceMapper::from_directory(testing_support::fixture_dir("lvm-healthy"));
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  Scraper scraper(reader, device_mapper_collectors(reader));
  const std::string whole = scraper.scrape();
  ASSERT_GT(whole.size(), 2000u);
  for (size_t piece_size : {size_t{1}, size_t{512}, whole.size() / 2, SIZE_MAX}) {
    std::vector<std::string> pieces;
    const bool complete = scraper.scrape(Clock::now() + std::chrono::seconds(10), piece_size,
                                         [&](std::string& piece) { pieces.push_back(piece); });
    EXPECT_TRUE(complete);
    std::string joined;
    for (const std::string& piece : pieces) {
      joined += piece;
    }
    EXPECT_EQ(without_durations(joined), without_durations(whole)) << piece_size;
    EXPECT_EQ(pieces.size() == 1, piece_size >= whole.size()) << piece_size;
  }
}

// A collector's duration is its own: not the time the sink took for the pieces (the HTTP layer
// gzips them and waits for a slow client there).
TEST(Scraper, DurationsLeaveOutTheTimeInTheSink) {
  auto fake = FakeDeviceMapper::from_directory(testing_support::fixture_dir("lvm-healthy"));
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  Scraper scraper(reader, device_mapper_collectors(reader));
  std::string text;
  int pieces = 0;
  ASSERT_TRUE(scraper.scrape(Clock::now() + std::chrono::seconds(10), 256, [&](std::string& piece) {
    text += piece;
    if (text.find("thinpool_scrape_collector_success") == std::string::npos) {
      ++pieces;  // a collector's piece
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }));
  ASSERT_GE(pieces, 8);  // 400 ms and more asleep in the sink
  double total = 0;
  const std::regex duration(R"(thinpool_scrape_collector_duration_seconds\{[^}]*\} (\S+))");
  for (std::sregex_iterator it(text.begin(), text.end(), duration), end; it != end; ++it) {
    total += std::stod((*it)[1]);
  }
  EXPECT_GT(total, 0);
  EXPECT_LT(total, 0.2) << text;
}

TEST(Scraper, ACollectorThatFailsAfterItsTextWentOutEndsTheScrapeIncomplete) {
  auto fake = FakeDeviceMapper::from_directory(testing_support::fixture_dir("lvm-healthy"));
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  std::vector<Scraper::NamedCollector> collectors;
  collectors.push_back({"thinpool", std::make_unique<ThinPoolCollector>()});
  collectors.push_back({"long", std::make_unique<LongBrokenCollector>(1000)});
  Scraper scraper(reader, std::move(collectors));
  // Pieces bigger than its text: rolled back as ever, the scrape whole.
  std::string text;
  EXPECT_TRUE(scraper.scrape(Clock::now() + std::chrono::seconds(10), size_t{1} << 20,
                             [&](std::string& piece) { text += piece; }));
  EXPECT_EQ(text.find("broken_value"), std::string::npos);
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="long"} 0)"));
  // Pieces of 1 KiB: part of its samples went out before it failed, which cannot be taken back.
  text.clear();
  EXPECT_FALSE(scraper.scrape(Clock::now() + std::chrono::seconds(10), 1024,
                              [&](std::string& piece) { text += piece; }));
  EXPECT_NE(text.find("broken_value"), std::string::npos);
  EXPECT_EQ(text.find("thinpool_scrape_collector_success"), std::string::npos);  // ends there
}

TEST(Scraper, EveryCollectorReadsBeforeAnyWrites) {
  FakeDeviceMapper fake;
  InventoryReader reader(fake);
  std::vector<std::string> log;
  std::vector<Scraper::NamedCollector> collectors;
  collectors.push_back(phased("deferred", kFirstValue, log, {.defer = true}));
  collectors.push_back(phased("phased", kSecondValue, log));
  Scraper scraper(reader, std::move(collectors));
  const std::string text = scraper.scrape();
  EXPECT_EQ(log, (std::vector<std::string>{"read deferred", "read phased", "collect deferred",
                                           "write phased"}));
  // Each writes in registry order: the deferred one's sample (from collect()) before the other's
  // (from its writer).
  EXPECT_NE(text.find("first_value 2\n# HELP second_value Written in the second phase.\n"
                      "# TYPE second_value gauge\nsecond_value 1\n"),
            std::string::npos)
      << text;
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="deferred"} 1)"));
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="phased"} 1)"));
}

TEST(Scraper, AReadThatFailsOrThrowsFailsOnlyItsCollectorAndWritesNothingOfIt) {
  FakeDeviceMapper fake;
  InventoryReader reader(fake);
  std::vector<std::string> log;
  std::vector<Scraper::NamedCollector> collectors;
  collectors.push_back(phased("failing", kFirstValue, log, {.fail_read = true}));
  collectors.push_back(phased("throwing", kFirstValue, log, {.throw_read = true}));
  collectors.push_back(phased("working", kSecondValue, log));
  Scraper scraper(reader, std::move(collectors));
  const std::string text = scraper.scrape();
  EXPECT_EQ(log, (std::vector<std::string>{"read failing", "read throwing", "read working",
                                           "write working"}));
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="failing"} 0)"));
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="throwing"} 0)"));
  EXPECT_TRUE(has_line(text, R"(thinpool_scrape_collector_success{collector="working"} 1)"));
  EXPECT_TRUE(has_line(text, "second_value 1"));
  EXPECT_EQ(text.find("first_value"), std::string::npos);
  // A second scrape reads and writes again: nothing of the first phase is kept between scrapes.
  log.clear();
  scraper.scrape();
  EXPECT_EQ(log.size(), 4U);
}

// The value of the sample `series` (the whole series, labels included) in `text`, or -1.
double sample_value(const std::string& text, const std::string& series) {
  const std::string start = series + " ";
  for (size_t at = text.find(start); at != std::string::npos; at = text.find(start, at + 1)) {
    if (at == 0 || text[at - 1] == '\n') {
      return std::stod(text.substr(at + start.size()));
    }
  }
  return -1;
}

TEST(Scraper, TheDeviceMapperReadsCountForTheFirstCollectorThatUsesThem) {
  auto fake = FakeDeviceMapper::from_directory(testing_support::fixture_dir("lvm-healthy"));
  ASSERT_TRUE(fake.ok());
  // One pool's status call takes a second: the inventory read takes a second or more, far more
  // than the other collectors take on this fixture however loaded the machine is.
  constexpr double kDelay = 1.0;
  fake->set_before_status("vg0-pool", [] { std::this_thread::sleep_for(std::chrono::seconds(1)); });
  InventoryReader reader(*fake);
  Scraper scraper(reader, make_collectors(registered_collectors(), {"thinpool", "thin", "lvm"},
                                          fixture_dependencies(reader), {}));
  const std::string text = scraper.scrape();
  const auto seconds = [&](const std::string& collector) {
    return sample_value(
        text, "thinpool_scrape_collector_duration_seconds{collector=\"" + collector + "\"}");
  };
  // thinpool, first in the registry, reads the inventory in the first phase; thin and lvm, after
  // it, use what it read.
  EXPECT_GE(seconds("thinpool"), kDelay);
  EXPECT_GE(seconds("thin"), 0);
  EXPECT_LT(seconds("thin"), kDelay);
  EXPECT_GE(seconds("lvm"), 0);
  EXPECT_LT(seconds("lvm"), kDelay);
}

TEST(ExpectedTextSize, IsTheLastSizeScaledByTheDevicesWhenThereAreMore) {
  EXPECT_EQ(expected_text_size(0, 0, 10000), 10244096u);  // the first scrape: 1 KiB per device
  EXPECT_EQ(expected_text_size(0, 0, 0), 4096u);
  EXPECT_EQ(expected_text_size(80000, 100, 100), 94096u);      // as many devices: the last size
  EXPECT_EQ(expected_text_size(80000, 100, 50), 94096u);       // fewer: never less room
  EXPECT_EQ(expected_text_size(80000, 100, 10000), 9004096u);  // 100 times as many: 100 times
  EXPECT_EQ(expected_text_size(80000, 0, 10000), 94096u);      // none read last time: the last size
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

// Bytes the allocator has handed out and not got back, over every arena (the scrape's calls run on
// several threads): the system bytes of malloc_info's totals less its free chunks.
std::optional<int64_t> heap_in_use() {
  char* buffer = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&buffer, &size);
  if (out == nullptr || malloc_info(0, out) != 0) {
    return std::nullopt;
  }
  std::fclose(out);
  std::string xml(buffer, size);
  std::free(buffer);
  // The totals over all arenas follow the last </heap>.
  const std::string totals = xml.substr(xml.rfind("</heap>") + 1);
  auto total = [&](const std::string& pattern) -> std::optional<int64_t> {
    std::smatch m;
    if (!std::regex_search(totals, m, std::regex(pattern))) {
      return std::nullopt;
    }
    return std::stoll(m[1]);
  };
  auto fast = total(R"re(<total type="fast" count="\d+" size="(\d+)")re");
  auto rest = total(R"re(<total type="rest" count="\d+" size="(\d+)")re");
  auto current = total(R"re(<system type="current" size="(\d+)")re");
  if (!fast || !rest || !current) {
    return std::nullopt;
  }
  return *current - *fast - *rest;
}

TEST(Scraper, MemoryStaysFlatWhileVolumesComeAndGo) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "the sanitizer's allocator does not report through malloc_info";
#endif
  // A pool whose thin volumes are created and removed between scrapes, as Cinder and the soak do:
  // 20 alive at a time, each new one under a new name and device number. Whatever is kept per
  // device must go with the device.
  FakeDeviceMapper fake;
  fake.add_device("vg0-pool-tpool", {254, 2}, "LVM-vgid-poolid-tpool",
                  "0 2097152 thin-pool 254:0 254:1 128 0 0",
                  "0 2097152 thin-pool 1 200/1024 300/16384 - rw discard_passdown "
                  "queue_if_no_space - 256");
  InventoryReader reader(fake);
  Scraper scraper(reader, device_mapper_collectors(reader));
  auto churn = [&](int round) {
    const std::string name = "vg0-volume--" + std::to_string(round);
    fake.add_device(
        name, {254, static_cast<uint32_t>(100 + round)}, "LVM-vgid-volume" + std::to_string(round),
        "0 2097152 thin 254:2 " + std::to_string(round + 1), "0 2097152 thin 2048 2047");
    if (round >= 20) {
      fake.remove_device("vg0-volume--" + std::to_string(round - 20));
    }
    return scraper.scrape(Clock::now() + std::chrono::seconds(10));
  };
  for (int round = 0; round < 500; ++round) {
    churn(round);
  }
  const auto before = heap_in_use();
  ASSERT_TRUE(before.has_value()) << "malloc_info gave no totals";
  std::string text;
  for (int round = 500; round < 3000; ++round) {
    text = churn(round);
  }
  const auto after = heap_in_use();
  ASSERT_TRUE(after.has_value());
  EXPECT_NE(text.find("vg0-volume--2999"), std::string::npos);
  EXPECT_EQ(text.find("vg0-volume--2979\""), std::string::npos);
  // 2,500 volumes later: a leak of even 100 bytes per volume would show as 250 kB.
  EXPECT_LT(*after - *before, 64 * 1024) << "in use: " << *before << " then " << *after;
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
