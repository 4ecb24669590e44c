// A new collector is its own file, which defines its CollectorDefinition (name, default, help,
// options, factory), and one line here. The list is explicit rather than filled by static
// registration in each file: objects of a static library that nothing references are dropped by
// the linker, and the order of static initialisation across files would set the order of the
// exposition.
#include "collectors/registry.h"

#include "collectors/build_info_collector.h"
#include "collectors/lvm_collector.h"
#include "collectors/process_collector.h"
#include "collectors/thin_pool_collector.h"
#include "collectors/thin_volume_collector.h"

namespace thinpool {

const std::vector<CollectorDefinition>& registered_collectors() {
  static const std::vector<CollectorDefinition> collectors = {
      thin_pool_collector_definition(),    // thinpool
      thin_volume_collector_definition(),  // thin
      lvm_collector_definition(),          // lvm
      build_info_collector_definition(),   // build_info
      process_collector_definition(),      // process
  };
  return collectors;
}

}  // namespace thinpool
