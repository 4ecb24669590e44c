#include "collectors/build_info_collector.h"

namespace thinpool {
namespace {

constexpr std::string_view kBuildInfoLabelNames[] = {"version", "revision", "compiler",
                                                     "libdevmapper"};
constexpr Family kBuildInfo{"thinpool_exporter_build_info",
                            "A metric with a constant '1' value labeled by version, revision, "
                            "compiler and libdevmapper version from which thinpool_exporter was "
                            "built.",
                            MetricType::Gauge, kBuildInfoLabelNames};

}  // namespace

Status BuildInfoCollector::collect(ScrapeContext& /*context*/, MetricWriter& out) {
  out.family(kBuildInfo)
      .add({build_.version, build_.revision, build_.compiler, build_.libdevmapper}, 1);
  return {};
}

CollectorDefinition build_info_collector_definition() {
  return {
      "build_info",
      true,
      "the exporter's version, revision, compiler and libdevmapper (thinpool_exporter_build_info)",
      {},
      [](const CollectorDependencies& dependencies) {
        return std::make_unique<BuildInfoCollector>(dependencies.build);
      }};
}

}  // namespace thinpool
