#include "collectors/collector.h"

namespace thinpool {

const Expected<InventoryRef>& ScrapeContext::inventory() {
  if (!inventory_) {
    inventory_.emplace(reader_.read(deadline_));
  }
  return *inventory_;
}

Expected<Collector::Writer> InventoryCollector::read(ScrapeContext& context) {
  if (const auto& inventory = context.inventory(); !inventory) {
    return inventory.error();
  }
  return Writer{};
}

}  // namespace thinpool
