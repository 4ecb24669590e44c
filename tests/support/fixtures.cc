#include "tests/support/fixtures.h"

#include <gtest/gtest.h>

#include "collectors/registry.h"
#include "collectors/scraper.h"
#include "dm/fake_device_mapper.h"

namespace thinpool::testing_support {

std::string fixture_dir(std::string_view name) {
  return std::string(THINPOOL_FIXTURES_DIR) + "/" + std::string(name);
}

CollectorDependencies fixture_dependencies(InventoryReader& inventory) {
  CollectorDependencies dependencies;
  dependencies.inventory = &inventory;
  dependencies.build = {"0.0.0-test", "test", "test", "test"};
  dependencies.scan_block_devices = false;  // never the host's disks
  dependencies.open_block_device =
      [](DeviceNumber dev) -> Expected<std::unique_ptr<lvm::BlockReader>> {
    return Error{"tests never open block device " + to_string(dev)};
  };
  return dependencies;
}

std::string scrape_fixture(std::string_view name, const std::set<std::string>& collectors,
                           const std::string& lvm_backup_dir) {
  auto fake = FakeDeviceMapper::from_directory(fixture_dir(name));
  EXPECT_TRUE(fake.ok()) << fake.error().message;
  if (!fake.ok()) {
    return "";
  }
  InventoryReader reader(*fake);
  Scraper scraper(reader,
                  make_collectors(registered_collectors(), collectors, fixture_dependencies(reader),
                                  {{"lvm.backup-dir", lvm_backup_dir}}));
  return scraper.scrape();
}

}  // namespace thinpool::testing_support
