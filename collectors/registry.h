// Every collector the exporter knows, in the order a scrape runs them.
#pragma once

#include <vector>

#include "collectors/collector.h"

namespace thinpool {

const std::vector<CollectorDefinition>& registered_collectors();

}  // namespace thinpool
