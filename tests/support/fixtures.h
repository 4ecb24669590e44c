// Scrapes of the captured fixtures (tests/fixtures) in tests.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "collectors/collector.h"

namespace thinpool::testing_support {

// tests/fixtures/<name>.
std::string fixture_dir(std::string_view name);

// What every collector may use on fixtures, as the binary's --devmapper.fixtures runs have it:
// block devices are never opened.
CollectorDependencies fixture_dependencies(InventoryReader& inventory);

// The exposition of one scrape of fixture `name` by the registered collectors in `collectors`
// (the lvm collector reading LVM backups from `lvm_backup_dir`, none when empty).
std::string scrape_fixture(std::string_view name, const std::set<std::string>& collectors,
                           const std::string& lvm_backup_dir = "");

// The collectors that read only the device-mapper inventory.
inline const std::set<std::string> kDeviceMapperCollectors = {"thinpool", "thin"};

}  // namespace thinpool::testing_support
