// The PV scan: what is listed and read when, and the lvm collector on what it finds (a VG with
// nothing active, missing PVs, the smallest metadata area).
#include "collectors/pv_scan.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "collectors/lvm_collector.h"
#include "dm/fake_device_mapper.h"
#include "tests/lvm/pv_image.h"
#include "tests/support/exposition_text.h"

namespace thinpool {
namespace {

using testing_support::has_line;

class ListedDevices final : public BlockDeviceSource {
 public:
  std::string generation() override { return generation_value; }
  Expected<std::vector<BlockDevice>> list(bool scan_lvs,
                                          const std::vector<DeviceNumber>& known_lvm_lvs) override {
    ++lists;
    last_scan_lvs = scan_lvs;
    last_known = known_lvm_lvs;
    if (!error.empty()) {
      return Error{error};
    }
    return devices;
  }

  std::string generation_value = "1";
  std::vector<BlockDevice> devices;
  std::string error;
  int lists = 0;
  bool last_scan_lvs = false;
  std::vector<DeviceNumber> last_known;
};

BlockDevice device(DeviceNumber dev, const std::string& name) {
  return {dev, {"/dev/" + name, "/dev/disk/by-id/virtio-" + name}, to_string(dev) + " 2048"};
}

// Labels by device: a PV label for the devices in `pvs`, "not an LVM2 PV" for the others.
struct LabelBook {
  std::map<DeviceNumber, std::string> pvs;  // dev -> PV uuid
  std::map<DeviceNumber, int> reads;
  std::set<DeviceNumber> hanging;

  PvScanner::LabelReader reader() {
    return [this](const BlockDevice& device) -> std::optional<Expected<lvm::PvLabel>> {
      if (hanging.contains(device.dev)) {
        return std::nullopt;
      }
      ++reads[device.dev];
      auto pv = pvs.find(device.dev);
      if (pv == pvs.end()) {
        return Expected<lvm::PvLabel>(Error{"not an LVM2 PV"});
      }
      lvm::PvLabel label;
      label.pv_uuid = pv->second;
      return Expected<lvm::PvLabel>(label);
    };
  }
};

std::vector<std::string> uuids(const Expected<std::vector<ScannedDevice>>& scanned) {
  std::vector<std::string> found;
  for (const ScannedDevice& pv : *scanned) {
    found.push_back(pv.label->pv_uuid);
  }
  return found;
}

TEST(PvScanner, ListsAgainOnlyWhenTheDevicesChangeAndReadsEachLabelOnce) {
  auto source = std::make_unique<ListedDevices>();
  ListedDevices& devices = *source;
  devices.devices = {device({8, 0}, "sda"), device({8, 16}, "sdb")};
  PvScanner scanner(std::move(source), {});
  LabelBook book;
  book.pvs[{8, 16}] = "pv-b";
  for (int scrape = 0; scrape < 3; ++scrape) {
    auto scanned = scanner.scan(book.reader());
    ASSERT_TRUE(scanned.ok());
    EXPECT_EQ(uuids(scanned), std::vector<std::string>{"pv-b"});
  }
  EXPECT_EQ(devices.lists, 1);
  EXPECT_EQ(book.reads[(DeviceNumber{8, 0})], 1);  // not a PV: not read again
  EXPECT_EQ(book.reads[(DeviceNumber{8, 16})], 1);

  // A disk appears (the uevent sequence number moves): listed again, only the new one read.
  devices.devices.push_back(device({8, 32}, "sdc"));
  book.pvs[{8, 32}] = "pv-c";
  devices.generation_value = "2";
  auto scanned = scanner.scan(book.reader());
  ASSERT_TRUE(scanned.ok());
  EXPECT_EQ(uuids(scanned), (std::vector<std::string>{"pv-b", "pv-c"}));
  EXPECT_EQ(devices.lists, 2);
  EXPECT_EQ(book.reads[(DeviceNumber{8, 0})], 1);
  EXPECT_EQ(book.reads[(DeviceNumber{8, 16})], 1);
  EXPECT_EQ(book.reads[(DeviceNumber{8, 32})], 1);

  // sdb is replaced by another disk under the same number (another identity): read again.
  devices.devices[1].identity = "8:16 4096";
  book.pvs[{8, 16}] = "pv-b2";
  devices.generation_value = "3";
  scanned = scanner.scan(book.reader());
  ASSERT_TRUE(scanned.ok());
  EXPECT_EQ(uuids(scanned), (std::vector<std::string>{"pv-b2", "pv-c"}));
  EXPECT_EQ(book.reads[(DeviceNumber{8, 16})], 2);
}

TEST(PvScanner, AsksAgainForALabelThatDidNotAnswerAndKeepsTheLastListOnErrors) {
  auto source = std::make_unique<ListedDevices>();
  ListedDevices& devices = *source;
  devices.devices = {device({8, 0}, "sda")};
  PvScanner scanner(std::move(source), {});
  LabelBook book;
  book.pvs[{8, 0}] = "pv-a";
  book.hanging.insert({8, 0});
  auto scanned = scanner.scan(book.reader());
  ASSERT_TRUE(scanned.ok());
  EXPECT_TRUE(scanned->empty());
  book.hanging.clear();
  scanned = scanner.scan(book.reader());
  ASSERT_TRUE(scanned.ok());
  EXPECT_EQ(uuids(scanned), std::vector<std::string>{"pv-a"});

  devices.error = "list /sys/class/block: Permission denied";
  devices.generation_value = "2";
  scanned = scanner.scan(book.reader());
  ASSERT_FALSE(scanned.ok());
  EXPECT_EQ(scanned.error().message, "list /sys/class/block: Permission denied");
}

// The LVs the caller knows are asked for only when the devices are listed, and reach the list
// sorted; with scan_lvs nothing is left out, so they are not asked for.
TEST(PvScanner, HandsTheKnownLvsToTheListOnlyWhenItLists) {
  auto source = std::make_unique<ListedDevices>();
  ListedDevices& devices = *source;
  devices.devices = {device({8, 0}, "sda")};
  PvScanner scanner(std::move(source), {});
  LabelBook book;
  int asked = 0;
  const auto known = [&asked] {
    ++asked;
    return std::vector<DeviceNumber>{{253, 7}, {253, 2}, {253, 5}};
  };
  ASSERT_TRUE(scanner.scan(book.reader(), known).ok());
  ASSERT_TRUE(scanner.scan(book.reader(), known).ok());  // nothing changed: not listed
  EXPECT_EQ(devices.lists, 1);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(devices.last_known, (std::vector<DeviceNumber>{{253, 2}, {253, 5}, {253, 7}}));

  PvScanner::Options options;
  options.scan_lvs = true;
  scanner.set_options(options);
  ASSERT_TRUE(scanner.scan(book.reader(), known).ok());
  EXPECT_EQ(devices.lists, 2);
  EXPECT_EQ(asked, 1);
  EXPECT_TRUE(devices.last_known.empty());
}

// A block device in a sysfs-like tree: `attributes` are files below its folder ("dm/uuid").
void make_block_device(const std::filesystem::path& class_block, const std::string& name,
                       const std::map<std::string, std::string>& attributes) {
  for (const auto& [file, value] : attributes) {
    const std::filesystem::path path = class_block / name / file;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << value << "\n";
  }
}

// The sysfs list leaves out LVM's LVs: those the caller knows without reading their uuid (a known
// one whose uuid is not LVM's here stays out, which a read would have let in), the others by
// their uuid; other device-mapper devices and disks are candidates, and with scan_lvs every one.
TEST(SysfsBlockDevices, LeavesOutKnownLvsWithoutReadingThem) {
  const auto root = std::filesystem::path(::testing::TempDir()) /
                    fmt::format("sysfs-{}", ::getpid()) / "class" / "block";
  std::filesystem::remove_all(root.parent_path());
  auto dm = [&](int minor, const std::string& uuid) {
    make_block_device(root, fmt::format("dm-{}", minor),
                      {{"dev", fmt::format("253:{}", minor)},
                       {"size", "2048"},
                       {"uevent", fmt::format("DEVNAME=dm-{}", minor)},
                       {"dm/uuid", uuid},
                       {"dm/name", fmt::format("map{}", minor)},
                       {"dm/suspended", "0"}});
  };
  for (int minor = 0; minor < 40; ++minor) {
    // dm-0 .. dm-29: known LVs, their uuids written as if another tool's (a read would list them);
    // dm-30 .. dm-39: LVM's, read.
    dm(minor,
       minor < 30 ? fmt::format("CRYPT-known{}", minor) : fmt::format("LVM-unknown{}", minor));
  }
  dm(40, "CRYPT-luks");  // a dm-crypt mapping: a candidate
  make_block_device(root, "vdb", {{"dev", "254:16"}, {"size", "4096"}, {"uevent", "DEVNAME=vdb"}});
  std::vector<DeviceNumber> known;
  for (uint32_t minor = 0; minor < 30; ++minor) {
    known.push_back({253, minor});
  }
  auto source = sysfs_block_devices(root.string());
  auto listed = source->list(false, known);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  std::vector<std::string> names;
  for (const BlockDevice& device : *listed) {
    names.push_back(device.names.front());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"/dev/dm-40", "/dev/vdb"}));

  // Without what the caller knows, every uuid is read: the known ones, not LVM's here, are in.
  listed = source->list(false, {});
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(listed->size(), 32u);
  // scan_lvs: every device is a candidate.
  listed = source->list(true, known);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(listed->size(), 42u);
  std::filesystem::remove_all(root.parent_path().parent_path());
}

TEST(PvScanner, TheFiltersDecideOnNamesAndOnTheLabel) {
  auto source = std::make_unique<ListedDevices>();
  ListedDevices& devices = *source;
  devices.devices = {device({8, 0}, "sda"), device({8, 16}, "sdb"), device({8, 32}, "sdc")};
  LabelBook book;
  book.pvs = {{{8, 0}, "pv-a"}, {{8, 16}, "pv-b"}, {{8, 32}, "pv-c"}};
  PvScanner::Options options;
  options.scan_lvs = true;
  options.accept = [](const BlockDevice& device) { return device.names[0] != "/dev/sda"; };
  options.accept_pv = [](const BlockDevice&, const lvm::PvLabel& label) {
    return label.pv_uuid != "pv-c";
  };
  PvScanner scanner(std::move(source), options);
  auto scanned = scanner.scan(book.reader());
  ASSERT_TRUE(scanned.ok());
  EXPECT_EQ(uuids(scanned), std::vector<std::string>{"pv-b"});
  EXPECT_TRUE(devices.last_scan_lvs);
  EXPECT_EQ(book.reads.count(DeviceNumber{8, 0}), 0u);  // rejected by name: never opened

  // New options (lvm.conf changed): listed and filtered again.
  scanner.set_options({});
  scanned = scanner.scan(book.reader());
  ASSERT_TRUE(scanned.ok());
  EXPECT_EQ(uuids(scanned), (std::vector<std::string>{"pv-a", "pv-b", "pv-c"}));
  EXPECT_EQ(devices.lists, 2);
}

// --- the lvm collector on a scan ---

std::string read_testdata(const std::string& name) {
  std::ifstream in(std::string(THINPOOL_LVM_TESTDATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// vg0.backup's two PVs (pv0, pv1) as images; a VG whose pool the kernel does not have.
constexpr DeviceNumber kPv0{8, 16};
constexpr DeviceNumber kPv1{8, 32};
constexpr DeviceNumber kNotAPv{8, 48};

std::string scrape(LvmCollector& collector, InventoryReader& reader) {
  ScrapeContext context(reader, Clock::now() + std::chrono::seconds(10));
  std::string text;
  MetricWriter out(text);
  EXPECT_TRUE(collector.collect(context, out).ok());
  return text;
}

TEST(LvmCollector, FindsAVolumeGroupWithNothingActiveAndCountsItsMissingPvs) {
  const std::string text = read_testdata("vg0.backup");
  lvm::testing::PvImageSpec pv0;
  pv0.text = text;
  lvm::testing::PvImageSpec pv1;
  pv1.pv_uuid = "Zp7QwEr4TnYu2iO9pAs8DfG1hJk3LzXc";
  pv1.mda_size = 512ULL * 1024;  // the smaller area limits the VG
  pv1.text = text;
  std::map<DeviceNumber, std::string> images = {{kPv0, lvm::testing::build_pv_image(pv0)},
                                                {kPv1, lvm::testing::build_pv_image(pv1)},
                                                {kNotAPv, std::string(1 << 20, '\0')}};
  std::map<DeviceNumber, int> opened;
  BlockDeviceOpener opener = [&](DeviceNumber dev) -> Expected<std::unique_ptr<lvm::BlockReader>> {
    ++opened[dev];
    auto image = images.find(dev);
    if (image == images.end()) {
      return Error{"no such device"};
    }
    return std::unique_ptr<lvm::BlockReader>(
        std::make_unique<lvm::MemoryBlockReader>(image->second, to_string(dev)));
  };
  auto source = std::make_unique<ListedDevices>();
  ListedDevices& devices = *source;
  devices.devices = {device(kPv0, "sdb"), device(kNotAPv, "sdd")};
  auto scanner = std::make_unique<PvScanner>(std::move(source), PvScanner::Options{});
  // No pool in the kernel at all.
  FakeDeviceMapper empty;
  InventoryReader reader(empty);
  LvmCollector collector("", opener, std::make_shared<BlockingCallPool>(), true,
                         std::move(scanner));

  std::string scraped = scrape(collector, reader);
  EXPECT_TRUE(has_line(scraped, R"(thinpool_lvm_vg_read_success{vg="vg0"} 1)")) << scraped;
  EXPECT_TRUE(has_line(scraped, R"(thinpool_lvm_pool_active{pool="",vg="vg0",lv="pool"} 0)"))
      << scraped;
  EXPECT_TRUE(has_line(scraped, R"(thinpool_lvm_thin_volumes{pool="",vg="vg0",lv="pool"} 2)"))
      << scraped;
  EXPECT_TRUE(has_line(scraped, R"(thinpool_lvm_snapshots{pool="",vg="vg0",lv="pool"} 1)"))
      << scraped;
  // pv1 is on no device the scan found.
  EXPECT_TRUE(has_line(scraped, R"(thinpool_lvm_vg_missing_pvs{vg="vg0"} 1)")) << scraped;
  EXPECT_TRUE(has_line(scraped, R"(thinpool_lvm_metadata_area_size_bytes{vg="vg0"} 1044480)"))
      << scraped;
  EXPECT_TRUE(has_line(scraped, "thinpool_lvm_metadata_area_used_bytes{vg=\"vg0\"} " +
                                    std::to_string(text.size() + 1)))
      << scraped;
  // Not the kernel's: no series that needs the kernel's pool.
  EXPECT_EQ(scraped.find("thinpool_lvm_transaction_id"), std::string::npos) << scraped;

  // pv1 appears: nothing missing, and its smaller metadata area is the VG's limit.
  devices.devices.push_back(device(kPv1, "sdc"));
  devices.generation_value = "2";
  scraped = scrape(collector, reader);
  EXPECT_TRUE(has_line(scraped, R"(thinpool_lvm_vg_missing_pvs{vg="vg0"} 0)")) << scraped;
  EXPECT_TRUE(has_line(scraped, R"(thinpool_lvm_metadata_area_size_bytes{vg="vg0"} 524288)"))
      << scraped;
  scrape(collector, reader);
  // The device that holds no PV was opened once, for its label.
  EXPECT_EQ(opened[kNotAPv], 1);
  // One parse of the VG's text per PV area it was read from, then reused.
  EXPECT_LE(collector.cache_stats().parses, 2u);
}

TEST(LvmCollector, ScansWhatLvmConfFiltersAcceptAndKeepsTheLastGoodConfig) {
  lvm::testing::PvImageSpec pv0;
  pv0.text = read_testdata("vg0.backup");
  const std::string image = lvm::testing::build_pv_image(pv0);
  BlockDeviceOpener opener = [&](DeviceNumber dev) -> Expected<std::unique_ptr<lvm::BlockReader>> {
    if (dev != kPv0) {
      return Error{"no such device"};
    }
    return std::unique_ptr<lvm::BlockReader>(std::make_unique<lvm::MemoryBlockReader>(image));
  };
  const auto dir = std::filesystem::path(::testing::TempDir()) /
                   ("thinpool-lvm-conf-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write_conf = [&](const std::string& text) { std::ofstream(dir / "lvm.conf") << text; };
  // Every name of sdb matches the reject (lvm2 accepts a device when any of its names is
  // accepted: "a|.*|" after it would let the device in by its other names).
  write_conf("devices {\n  global_filter = [ \"r|sdb|\" ]\n}\n");
  auto source = std::make_unique<ListedDevices>();
  source->devices = {device(kPv0, "sdb")};
  FakeDeviceMapper empty;
  InventoryReader reader(empty);
  LvmCollector collector("", opener, std::make_shared<BlockingCallPool>(), true,
                         std::make_unique<PvScanner>(std::move(source), PvScanner::Options{}),
                         dir.string());
  std::string text = scrape(collector, reader);
  EXPECT_TRUE(has_line(text, "thinpool_lvm_config_read_success 1")) << text;
  EXPECT_EQ(text.find(R"(vg="vg0")"), std::string::npos) << text;

  write_conf("devices {\n  filter = [ \"a|^/dev/sd|\", \"r|.*|\" ]\n}\n");
  text = scrape(collector, reader);
  EXPECT_TRUE(has_line(text, R"(thinpool_lvm_vg_read_success{vg="vg0"} 1)")) << text;

  // A file lvm2 itself would refuse: reported, and the last good configuration stays.
  write_conf("devices {\n  filter = [ \"x|oops|\" ]\n}\n");
  text = scrape(collector, reader);
  EXPECT_TRUE(has_line(text, "thinpool_lvm_config_read_success 0")) << text;
  EXPECT_TRUE(has_line(text, R"(thinpool_lvm_vg_read_success{vg="vg0"} 1)")) << text;
  std::filesystem::remove_all(dir);
}

// The collector over vg0's PV with a config folder: what one scrape writes.
struct ConfiguredHost {
  explicit ConfiguredHost(const std::string& text)
      : dir(std::filesystem::path(::testing::TempDir()) /
            ("thinpool-lvm-autoextend-" + std::to_string(::getpid()))) {
    lvm::testing::PvImageSpec pv0;
    pv0.text = text;
    image = lvm::testing::build_pv_image(pv0);
    std::filesystem::create_directories(dir / "profile");
  }
  ~ConfiguredHost() { std::filesystem::remove_all(dir); }
  ConfiguredHost(const ConfiguredHost&) = delete;
  ConfiguredHost& operator=(const ConfiguredHost&) = delete;

  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
  }

  std::string scrape_once() {
    BlockDeviceOpener opener = [this](DeviceNumber) -> Expected<std::unique_ptr<lvm::BlockReader>> {
      return std::unique_ptr<lvm::BlockReader>(std::make_unique<lvm::MemoryBlockReader>(image));
    };
    auto source = std::make_unique<ListedDevices>();
    source->devices = {device(kPv0, "sdb")};
    FakeDeviceMapper empty;
    InventoryReader reader(empty);
    LvmCollector collector("", opener, std::make_shared<BlockingCallPool>(), false,
                           std::make_unique<PvScanner>(std::move(source), PvScanner::Options{}),
                           dir.string());
    return scrape(collector, reader);
  }

  std::filesystem::path dir;
  std::string image;
};

const std::string kVg0Pool = R"({pool="",vg="vg0",lv="pool"})";

TEST(LvmCollector, WritesTheAutoextendPolicyLvm2AppliesToEachPool) {
  ConfiguredHost host(read_testdata("vg0.backup"));
  // No lvm.conf: lvm2's defaults, threshold 100 = disabled.
  std::string text = host.scrape_once();
  EXPECT_TRUE(has_line(text, "thinpool_lvm_autoextend_threshold_ratio" + kVg0Pool + " 1")) << text;
  EXPECT_TRUE(has_line(text, "thinpool_lvm_autoextend_step_ratio" + kVg0Pool + " 0")) << text;
  EXPECT_TRUE(has_line(text, "thinpool_lvm_config_read_success 1")) << text;

  // A threshold below 50 is used as 50.
  host.write("lvm.conf",
             "activation {\n  thin_pool_autoextend_threshold = 40\n"
             "  thin_pool_autoextend_percent = 25\n}\n");
  text = host.scrape_once();
  EXPECT_TRUE(has_line(text, "thinpool_lvm_autoextend_threshold_ratio" + kVg0Pool + " 0.5"))
      << text;
  EXPECT_TRUE(has_line(text, "thinpool_lvm_autoextend_step_ratio" + kVg0Pool + " 0.25")) << text;

  // A percent of 0 disables it.
  host.write("lvm.conf",
             "activation {\n  thin_pool_autoextend_threshold = 70\n"
             "  thin_pool_autoextend_percent = 0\n}\n");
  text = host.scrape_once();
  EXPECT_TRUE(has_line(text, "thinpool_lvm_autoextend_threshold_ratio" + kVg0Pool + " 1")) << text;
  EXPECT_TRUE(has_line(text, "thinpool_lvm_autoextend_step_ratio" + kVg0Pool + " 0")) << text;
}

TEST(LvmCollector, APoolsProfileOverridesLvmConfAndAProfileThatDoesNotReadIsReported) {
  std::string text = read_testdata("vg0.backup");
  const std::string pool_id = "id = \"bA8cDe-Fg1H-iJ2k-Lm3N-oP4q-Rs5T-uV6wXy\"";
  const size_t at = text.find(pool_id);
  ASSERT_NE(at, std::string::npos);
  text.insert(at + pool_id.size(), "\n\t\t\tprofile = \"thin-fast\"");
  ConfiguredHost host(text);
  host.write("lvm.conf", "activation {\n  thin_pool_autoextend_threshold = 100\n}\n");
  // The profile is missing: lvm2 would refuse to use the pool's settings; no guess is written.
  std::string scraped = host.scrape_once();
  EXPECT_EQ(scraped.find("thinpool_lvm_autoextend_threshold_ratio"), std::string::npos) << scraped;
  EXPECT_TRUE(has_line(scraped, "thinpool_lvm_config_read_success 0")) << scraped;

  host.write("profile/thin-fast.profile",
             "activation {\n  thin_pool_autoextend_threshold = 70\n"
             "  thin_pool_autoextend_percent = 10\n}\n");
  scraped = host.scrape_once();
  EXPECT_TRUE(has_line(scraped, "thinpool_lvm_autoextend_threshold_ratio" + kVg0Pool + " 0.7"))
      << scraped;
  EXPECT_TRUE(has_line(scraped, "thinpool_lvm_autoextend_step_ratio" + kVg0Pool + " 0.1"))
      << scraped;
  EXPECT_TRUE(has_line(scraped, "thinpool_lvm_config_read_success 1")) << scraped;
}

}  // namespace
}  // namespace thinpool
