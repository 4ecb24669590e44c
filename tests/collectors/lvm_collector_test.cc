#include "collectors/lvm_collector.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>
#include <thread>
#include <tuple>

#include "dm/dmeventd_client.h"
#include "dm/fake_device_mapper.h"
#include "tests/support/exposition_text.h"

namespace thinpool {
namespace {

const std::string kCaptured = std::string(THINPOOL_FIXTURES_DIR) + "/captured";
// The PV of the capture: /dev/vda in the VM, 253:0.
constexpr DeviceNumber kPv{253, 0};

std::string gunzip_file(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  std::string out;
  char buffer[65536];
  for (int n; file != nullptr && (n = gzread(file, buffer, sizeof(buffer))) > 0;) {
    out.append(buffer, static_cast<size_t>(n));
  }
  if (file != nullptr) {
    gzclose(file);
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

BlockDeviceOpener image_opener(const std::string& image) {
  return [image](DeviceNumber dev) -> Expected<std::unique_ptr<lvm::BlockReader>> {
    if (dev != kPv) {
      return Error{"no such device " + to_string(dev)};
    }
    return std::unique_ptr<lvm::BlockReader>(
        std::make_unique<lvm::MemoryBlockReader>(image, "vda"));
  };
}

BlockDeviceOpener failing_opener() {
  return [](DeviceNumber dev) -> Expected<std::unique_ptr<lvm::BlockReader>> {
    return Error{"open /dev/vda: Permission denied (" + to_string(dev) + ")"};
  };
}

std::string scrape(LvmCollector& collector, InventoryReader& reader) {
  ScrapeContext context(reader, Clock::now() + std::chrono::seconds(10));
  std::string text;
  MetricWriter out(text);
  Status status = collector.collect(context, out);
  EXPECT_TRUE(status.ok());
  return text;
}

using testing_support::has_line;

const std::string kPoolLabels =
    R"(pool="cinder--volumes-cinder--volumes--pool-tpool",vg="cinder-volumes",lv="cinder-volumes-pool")";

TEST(LvmCollector, ReadsTheVgFromThePvTheKernelTablesPointAt) {
  auto fake = FakeDeviceMapper::from_directory(kCaptured + "/lvm-cinder-volumes");
  ASSERT_TRUE(fake.ok()) << fake.error().message;
  InventoryReader reader(*fake);
  LvmCollector collector("",
                         image_opener(gunzip_file(kCaptured + "/lvm/pv-vda-first-1MiB.bin.gz")));
  std::string text = scrape(collector, reader);
  // The same moment's `vgs`: vg_size 801112064B, vg_free 255852544B, seqno 14; the kernel's
  // transaction id in the captured status is 5, LVM's in the metadata too.
  EXPECT_TRUE(has_line(text, R"(thinpool_lvm_vg_read_success{vg="cinder-volumes"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(thinpool_lvm_vg_size_bytes{vg="cinder-volumes"} 801112064)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(thinpool_lvm_vg_free_bytes{vg="cinder-volumes"} 255852544)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(thinpool_lvm_metadata_seqno{vg="cinder-volumes"} 14)")) << text;
  EXPECT_TRUE(has_line(text, "thinpool_lvm_transaction_id{" + kPoolLabels + "} 5")) << text;
  EXPECT_TRUE(has_line(text, "thinpool_lvm_metadata_lv_size_bytes{" + kPoolLabels + "} 4194304"))
      << text;
  EXPECT_NE(text.find(R"(source="pv",origin="vda")"), std::string::npos) << text;
  // The same moment's `pvs -o pv_mda_size`: 1044480B (lvm2's default 1020 KiB area); the text
  // committed in it (raw location size, NUL included) is 3940 bytes.
  EXPECT_TRUE(
      has_line(text, R"(thinpool_lvm_metadata_area_size_bytes{vg="cinder-volumes"} 1044480)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(thinpool_lvm_metadata_area_used_bytes{vg="cinder-volumes"} 3940)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(thinpool_lvm_vg_missing_pvs{vg="cinder-volumes"} 0)")) << text;
}

TEST(LvmCollector, WritesEveryThinLvWithItsCreationTimeAndOriginUnlessSwitchedOff) {
  auto fake = FakeDeviceMapper::from_directory(kCaptured + "/lvm-cinder-volumes");
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  const std::string image = gunzip_file(kCaptured + "/lvm/pv-vda-first-1MiB.bin.gz");
  LvmCollector collector("", image_opener(image));
  std::string text = scrape(collector, reader);
  // The capture's `lvs`: five thin LVs in cinder-volumes-pool, one of them a snapshot of
  // volume-5b7a...
  const std::string snapshot =
      R"(pool="cinder-volumes-pool",vg="cinder-volumes",lv="_snapshot-4f1e2d3c-5b6a-4789-9abc-def012345678")";
  EXPECT_TRUE(has_line(text, "thinpool_lvm_volume_info{" + snapshot +
                                 R"(,origin="volume-5b7a7d0c-3f43-4c5e-9f8e-2f3c1a0b9d11"} 1)"))
      << text;
  EXPECT_TRUE(has_line(
      text,
      R"(thinpool_lvm_volume_info{pool="cinder-volumes-pool",vg="cinder-volumes",lv="volume-5b7a7d0c-3f43-4c5e-9f8e-2f3c1a0b9d11",origin=""} 1)"))
      << text;
  size_t infos = 0;
  size_t created = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    infos += line.starts_with("thinpool_lvm_volume_info{") ? 1 : 0;
    created += line.starts_with("thinpool_lvm_volume_creation_timestamp_seconds{") ? 1 : 0;
  }
  EXPECT_EQ(infos, 5u);
  EXPECT_EQ(created, 5u);
  // Written by lvm2 when the capture was made (after 2026-01-01, before 2030).
  EXPECT_NE(text.find("thinpool_lvm_volume_creation_timestamp_seconds{" + snapshot + "} 17"),
            std::string::npos)
      << text;

  LvmCollector quiet("", image_opener(image), std::make_shared<BlockingCallPool>(), false);
  text = scrape(quiet, reader);
  EXPECT_EQ(text.find("thinpool_lvm_volume_"), std::string::npos) << text;
  EXPECT_TRUE(has_line(text, "thinpool_lvm_thin_volumes{" + kPoolLabels + "} 5")) << text;
}

TEST(LvmCollector, SaysWhetherDmeventdMonitorsEachActivePoolOnlyWhenAskedTo) {
  auto fake = FakeDeviceMapper::from_directory(kCaptured + "/lvm-cinder-volumes");
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  const std::string uuid = (*inventory)->pools.at(0).uuid;
  ASSERT_TRUE(uuid.ends_with("-tpool")) << uuid;
  const std::string image = gunzip_file(kCaptured + "/lvm/pv-vda-first-1MiB.bin.gz");

  LvmCollector unasked("", image_opener(image));
  std::string text = scrape(unasked, reader);
  EXPECT_EQ(text.find("thinpool_lvm_monitored"), std::string::npos) << text;
  EXPECT_EQ(text.find("thinpool_lvm_dmeventd_up"), std::string::npos) << text;

  for (const auto& [running, state, up, monitored] :
       {std::tuple{true, MonitorState::kMonitored, "1", "1"},
        std::tuple{true, MonitorState::kNotMonitored, "1", "0"},
        std::tuple{true, MonitorState::kPending, "1", "0"},
        std::tuple{false, MonitorState::kMonitored, "0", "0"}}) {
    auto dmeventd = std::make_unique<FakeDmeventdMonitor>();
    dmeventd->set_running(running);
    dmeventd->set_answer(uuid, state);
    FakeDmeventdMonitor& asked = *dmeventd;
    LvmCollector collector("", image_opener(image));
    collector.set_dmeventd(std::move(dmeventd));
    text = scrape(collector, reader);
    const std::string what =
        std::string(monitor_state_name(state)) + (running ? "" : ", not running");
    EXPECT_TRUE(has_line(text, std::string("thinpool_lvm_dmeventd_up ") + up)) << what << text;
    EXPECT_TRUE(has_line(text, "thinpool_lvm_monitored{" + kPoolLabels + "} " + monitored))
        << what << text;
    // A dmeventd that does not run is not asked about any pool.
    EXPECT_EQ(asked.asked().size(), running ? 1U : 0U) << what;
  }
}

TEST(LvmCollector, ParsesTheMetadataOnlyWhenLvmCommittedANewVersion) {
  auto fake = FakeDeviceMapper::from_directory(kCaptured + "/lvm-cinder-volumes");
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  LvmCollector collector("",
                         image_opener(gunzip_file(kCaptured + "/lvm/pv-vda-first-1MiB.bin.gz")));
  const std::string first = scrape(collector, reader);
  scrape(collector, reader);
  // The later scrapes write from what the first derived from the VG, byte for byte the same.
  EXPECT_EQ(scrape(collector, reader), first);
  EXPECT_EQ(collector.cache_stats().parses, 1u);
  EXPECT_EQ(collector.cache_stats().reuses, 2u);
}

// The scrape's first phase reads and parses; the writer it returns writes what was read, the
// same series collect() writes, and reads nothing more.
TEST(LvmCollector, ReadsInTheFirstPhaseAndWritesWhatItReadInTheSecond) {
  auto fake = FakeDeviceMapper::from_directory(kCaptured + "/lvm-cinder-volumes");
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  const std::string image = gunzip_file(kCaptured + "/lvm/pv-vda-first-1MiB.bin.gz");
  LvmCollector collector("", image_opener(image));
  ScrapeContext context(reader, Clock::now() + std::chrono::seconds(10));
  Expected<Collector::Writer> writer = collector.read(context);
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  ASSERT_TRUE(*writer);
  EXPECT_EQ(collector.cache_stats().parses, 1u);
  EXPECT_NE(context.inventory_if_read(), nullptr);  // read, once, for the pools' VGs
  std::string text;
  MetricWriter out(text);
  ASSERT_TRUE((*writer)(out).ok());
  EXPECT_TRUE(has_line(text, "thinpool_lvm_transaction_id{" + kPoolLabels + "} 5")) << text;
  EXPECT_EQ(collector.cache_stats().parses, 1u);  // the writer reads nothing
  LvmCollector fresh("", image_opener(image));
  EXPECT_EQ(scrape(fresh, reader), text);
}

TEST(LvmCollector, FallsBackToTheBackupAndSeesATransactionIdMismatch) {
  auto fake = FakeDeviceMapper::from_directory(kCaptured + "/lvm-cinder-volumes");
  ASSERT_TRUE(fake.ok());
  // The incident's state: LVM recorded one transaction more than the kernel has.
  std::string backup = read_file(kCaptured + "/lvm/cinder-volumes.vgcfg");
  std::string bumped =
      std::regex_replace(backup, std::regex("transaction_id = 5\n"), "transaction_id = 6\n",
                         std::regex_constants::format_first_only);
  ASSERT_NE(bumped, backup);
  auto dir =
      std::filesystem::temp_directory_path() / ("thinpool-lvm-backup-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "cinder-volumes") << bumped;

  InventoryReader reader(*fake);
  LvmCollector collector(dir.string(), failing_opener());
  std::string text = scrape(collector, reader);
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(has_line(text, "thinpool_lvm_transaction_id{" + kPoolLabels + "} 6")) << text;
  EXPECT_NE(text.find(R"(source="backup")"), std::string::npos) << text;
  // The kernel still says 5.
  auto inventory = reader.read();
  ASSERT_TRUE(inventory.ok());
  EXPECT_EQ((*inventory)->pools[0].status.usage->transaction_id, 5u);
}

TEST(LvmCollector, UnreadableMetadataIsAPerVgFailureNotACollectorFailure) {
  auto fake = FakeDeviceMapper::from_directory(kCaptured + "/lvm-cinder-volumes");
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  LvmCollector collector("/nonexistent-backups", failing_opener());
  std::string text = scrape(collector, reader);
  EXPECT_TRUE(has_line(text, R"(thinpool_lvm_vg_read_success{vg="cinder-volumes"} 0)")) << text;
  EXPECT_EQ(text.find("thinpool_lvm_transaction_id"), std::string::npos);
}

TEST(LvmCollector, NonLvmPoolsAreNotLookedAt) {
  auto fake = FakeDeviceMapper::from_directory(kCaptured + "/dmsetup-pool");
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  int opened = 0;
  LvmCollector collector("", [&](DeviceNumber) -> Expected<std::unique_ptr<lvm::BlockReader>> {
    ++opened;
    return Error{"unexpected"};
  });
  std::string text = scrape(collector, reader);
  EXPECT_EQ(opened, 0);
  EXPECT_EQ(text, "");
}

// A PV that stops answering: every read blocks until the test opens the gate.
class HangingReader : public lvm::BlockReader {
 public:
  HangingReader(std::shared_ptr<std::promise<void>> opened, std::shared_future<void> gate,
                std::string image)
      : opened_(std::move(opened)), gate_(std::move(gate)), image_(std::move(image), "vda") {}
  Expected<std::string> read_at(uint64_t offset, size_t length) override {
    gate_.wait();
    return image_.read_at(offset, length);
  }
  std::string name() const override { return "vda"; }

 private:
  std::shared_ptr<std::promise<void>> opened_;
  std::shared_future<void> gate_;
  lvm::MemoryBlockReader image_;
};

std::string scrape_until(LvmCollector& collector, InventoryReader& reader,
                         std::chrono::milliseconds budget) {
  ScrapeContext context(reader, Clock::now() + budget);
  std::string text;
  MetricWriter out(text);
  EXPECT_TRUE(collector.collect(context, out).ok());
  return text;
}

TEST(LvmCollector, APvThatStopsAnsweringIsReportedNotWaitedForAndReadOnceItAnswers) {
  auto fake = FakeDeviceMapper::from_directory(kCaptured + "/lvm-cinder-volumes");
  ASSERT_TRUE(fake.ok());
  InventoryReader reader(*fake);
  const std::string image = gunzip_file(kCaptured + "/lvm/pv-vda-first-1MiB.bin.gz");
  std::promise<void> gate;
  std::shared_future<void> gate_open = gate.get_future().share();
  std::atomic<int> opened{0};
  LvmCollector collector("", [&](DeviceNumber dev) -> Expected<std::unique_ptr<lvm::BlockReader>> {
    EXPECT_EQ(dev, kPv);
    ++opened;
    return std::unique_ptr<lvm::BlockReader>(
        std::make_unique<HangingReader>(nullptr, gate_open, image));
  });

  const auto start = Clock::now();
  std::string text = scrape_until(collector, reader, std::chrono::milliseconds(500));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(has_line(text, R"(thinpool_lvm_vg_read_success{vg="cinder-volumes"} 0)")) << text;
  EXPECT_NE(text.find(R"(thinpool_lvm_pv_read_stuck_seconds{vg="cinder-volumes",device=")"),
            std::string::npos)
      << text;
  // Later scrapes do not start a second read of it: one blocked read, however many scrapes.
  for (int i = 0; i < 5; ++i) {
    const auto again = Clock::now();
    text = scrape_until(collector, reader, std::chrono::seconds(10));
    EXPECT_LT(Clock::now() - again, std::chrono::seconds(5));
    EXPECT_NE(text.find("thinpool_lvm_pv_read_stuck_seconds{"), std::string::npos);
  }
  EXPECT_EQ(opened.load(), 1);
  ASSERT_EQ(collector.stuck_reads().size(), 1u);
  EXPECT_EQ(collector.stuck_reads()[0].vg, "cinder-volumes");

  // It answers: the blocked read returns, and the next scrape reads the PV normally.
  gate.set_value();
  for (int i = 0; i < 200 && !collector.stuck_reads().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(collector.stuck_reads().empty());
  text = scrape_until(collector, reader, std::chrono::seconds(10));
  EXPECT_TRUE(has_line(text, R"(thinpool_lvm_vg_read_success{vg="cinder-volumes"} 1)")) << text;
  EXPECT_EQ(text.find("thinpool_lvm_pv_read_stuck_seconds{"), std::string::npos) << text;
}

TEST(OpenBlockDevice, ExplainsAMissingNode) {
  auto reader = open_block_device(DeviceNumber{4095, 1048575});
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.error().message.find("no device node for 4095:1048575"), std::string::npos)
      << reader.error().message;
}

}  // namespace
}  // namespace thinpool
