#include "collectors/collector.h"

namespace thinpool {

const Expected<ThinInventory>& ScrapeContext::inventory() {
  if (!inventory_) {
    inventory_.emplace(reader_.read());
  }
  return *inventory_;
}

}  // namespace thinpool
