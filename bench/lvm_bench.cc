// The lvm collector at 1,000 and 10,000 thin LVs in one pool: parsing the VG's metadata text (what
// a scrape pays once after LVM commits a change) and writing the series of an unchanged VG (what
// every scrape pays) and of a changed one (the first scrape after a commit also renders the per-LV
// lines), with the per-LV series (--collector.lvm.volume-series) on and off. The text is what
// lvm2 2.03 writes for such a VG (lvm_vg_text.h).
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <memory>
#include <string>

#include "bench/lvm_vg_text.h"
#include "collectors/lvm_collector.h"
#include "lvm/vg_model.h"

namespace thinpool::bench {
namespace {

void BM_ParseVolumeGroup(benchmark::State& state) {
  const std::string text = vg_text(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto vg = lvm::parse_volume_group(text);
    if (!vg) {
      state.SkipWithError(vg.error().message.c_str());
      return;
    }
    benchmark::DoNotOptimize(vg);
  }
  state.counters["text_bytes"] = static_cast<double>(text.size());
}

// One loaded VG of `thin_lvs` thin LVs, as the collector hands it to write_lvm_series.
LoadedVolumeGroups loaded_groups(benchmark::State& state, int thin_lvs) {
  LoadedVolumeGroups groups;
  auto vg = lvm::parse_volume_group(vg_text(thin_lvs));
  if (!vg) {
    state.SkipWithError(vg.error().message.c_str());
    return groups;
  }
  lvm::LoadedVolumeGroup loaded;
  loaded.vg = std::make_shared<const lvm::VolumeGroup>(std::move(*vg));
  loaded.origin = "/dev/vdb";
  loaded.smallest_metadata_area_bytes = 1044480;
  groups.emplace("vgbench", std::move(loaded));
  return groups;
}

// Every scrape while LVM commits nothing: the VG's cache entry was made by an earlier scrape.
void BM_WriteLvmSeries(benchmark::State& state) {
  const LoadedVolumeGroups groups = loaded_groups(state, static_cast<int>(state.range(0)));
  if (groups.empty()) {
    return;
  }
  const ThinInventory inventory;
  const LvmSeriesOptions options{state.range(1) != 0, nullptr, nullptr, nullptr, std::nullopt};
  LvmSeriesCache cache;
  std::string text;
  {
    MetricWriter out(text);
    write_lvm_series(groups, inventory, {}, options, cache, out);  // the scrape after the commit
  }
  for (auto _ : state) {
    text.clear();
    MetricWriter out(text);
    write_lvm_series(groups, inventory, {}, options, cache, out);
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(text.size());
}

// The first scrape after LVM committed a new version: the VG's cache entry is made.
void BM_WriteLvmSeriesAfterCommit(benchmark::State& state) {
  const LoadedVolumeGroups groups = loaded_groups(state, static_cast<int>(state.range(0)));
  if (groups.empty()) {
    return;
  }
  const ThinInventory inventory;
  const LvmSeriesOptions options{state.range(1) != 0, nullptr, nullptr, nullptr, std::nullopt};
  std::string text;
  for (auto _ : state) {
    LvmSeriesCache cache;
    text.clear();
    MetricWriter out(text);
    write_lvm_series(groups, inventory, {}, options, cache, out);
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(text.size());
}

BENCHMARK(BM_ParseVolumeGroup)
    ->ArgName("thin_lvs")
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WriteLvmSeries)
    ->ArgNames({"thin_lvs", "volume_series"})
    ->ArgsProduct({{1000, 10000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WriteLvmSeriesAfterCommit)
    ->ArgNames({"thin_lvs", "volume_series"})
    ->ArgsProduct({{1000, 10000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace thinpool::bench

BENCHMARK_MAIN();
