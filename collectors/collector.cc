#include "collectors/collector.h"

namespace thinpool {

const Expected<InventoryRef>& ScrapeContext::inventory() {
  if (!inventory_) {
    inventory_.emplace(reader_.read(deadline_));
  }
  return *inventory_;
}

}  // namespace thinpool
