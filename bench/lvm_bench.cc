// The lvm collector at 1,000 and 10,000 thin LVs in one pool: parsing the VG's metadata text (what
// a scrape pays once after LVM commits a change) and writing the series of an unchanged VG (what
// every scrape pays) and of a changed one (the first scrape after a commit also renders the per-LV
// lines), with the per-LV series (--collector.lvm.volume-series) on and off. The text is what
// lvm2 2.03 writes for such a VG, generated here.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <memory>
#include <string>

#include "collectors/lvm_collector.h"
#include "lvm/vg_model.h"

namespace thinpool::bench {
namespace {

// A linear LV section: `extents` on pv0 from `first`.
std::string linear_lv(const std::string& name, uint64_t first, uint64_t extents) {
  return fmt::format(
      "\t\t{} {{\n\t\t\tid = \"{:0>6}-0000-0000-0000-0000-0000-000000\"\n"
      "\t\t\tstatus = [\"READ\", \"WRITE\"]\n\t\t\tflags = []\n"
      "\t\t\tcreation_time = 1764000000\n\t\t\tcreation_host = \"host\"\n"
      "\t\t\tsegment_count = 1\n\n\t\t\tsegment1 {{\n\t\t\t\tstart_extent = 0\n"
      "\t\t\t\textent_count = {}\n\n\t\t\t\ttype = \"striped\"\n\t\t\t\tstripe_count = 1\n\n"
      "\t\t\t\tstripes = [\n\t\t\t\t\t\"pv0\", {}\n\t\t\t\t]\n\t\t\t}}\n\t\t}}\n",
      name, first, extents, first);
}

// One VG: pv0, a pool (pool_tmeta, pool_tdata) and `volumes` thin LVs of 1 GiB, every tenth a
// thin snapshot of the one before.
std::string vg_text(int volumes) {
  std::string text =
      "contents = \"Text Format Volume Group\"\nversion = 1\n\n"
      "description = \"\"\n\ncreation_host = \"host\"\ncreation_time = 1764000000\n\n"
      "vgbench {\n\tid = \"Xq3dGk-mF2o-Lr8b-Vx0Q-p1Zc-Hw4T-yN7s2E\"\n\tseqno = 20001\n"
      "\tformat = \"lvm2\"\n\tstatus = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\n\tflags = []\n"
      "\textent_size = 8192\n\tmax_lv = 0\n\tmax_pv = 0\n\tmetadata_copies = 0\n\n"
      "\tphysical_volumes {\n\n\t\tpv0 {\n\t\t\tid = \"fk2kNV-sDQn-3cAE-7vGt-Ld2w-Qp9X-mB1rTa\"\n"
      "\t\t\tdevice = \"/dev/vdb\"\n\n\t\t\tstatus = [\"ALLOCATABLE\"]\n\t\t\tflags = []\n"
      "\t\t\tdev_size = 2147483648\n\t\t\tpe_start = 2048\n\t\t\tpe_count = 262143\n\t\t}\n\t}\n\n"
      "\tlogical_volumes {\n\n"
      "\t\tpool {\n\t\t\tid = \"bA8cDe-Fg1H-iJ2k-Lm3N-oP4q-Rs5T-uV6wXy\"\n"
      "\t\t\tstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\n\t\t\tflags = []\n"
      "\t\t\tcreation_time = 1764000000\n\t\t\tcreation_host = \"host\"\n"
      "\t\t\tsegment_count = 1\n\n\t\t\tsegment1 {\n\t\t\t\tstart_extent = 0\n"
      "\t\t\t\textent_count = 25600\n\n\t\t\t\ttype = \"thin-pool\"\n"
      "\t\t\t\tmetadata = \"pool_tmeta\"\n\t\t\t\tpool = \"pool_tdata\"\n";
  text += fmt::format("\t\t\t\ttransaction_id = {}\n", volumes);
  text +=
      "\t\t\t\tchunk_size = 128\n\t\t\t\tdiscards = \"passdown\"\n"
      "\t\t\t\tzero_new_blocks = 1\n\t\t\t}\n\t\t}\n";
  for (int i = 0; i < volumes; ++i) {
    const bool snapshot = i % 10 == 9;
    text += fmt::format(
        "\t\tvolume-{:08d} {{\n\t\t\tid = \"{:0>6}-1111-1111-1111-1111-1111-111111\"\n"
        "\t\t\tstatus = [\"READ\", \"WRITE\", \"VISIBLE\"{}]\n\t\t\tflags = []\n"
        "\t\t\tcreation_time = {}\n\t\t\tcreation_host = \"host\"\n"
        "\t\t\tsegment_count = 1\n\n\t\t\tsegment1 {{\n\t\t\t\tstart_extent = 0\n"
        "\t\t\t\textent_count = 256\n\n\t\t\t\ttype = \"thin\"\n\t\t\t\tthin_pool = \"pool\"\n"
        "\t\t\t\ttransaction_id = {}\n\t\t\t\tdevice_id = {}\n{}\t\t\t}}\n\t\t}}\n",
        i, i, snapshot ? ", \"ACTIVATION_SKIP\"" : "", 1764000000 + i, i, i + 1,
        snapshot ? fmt::format("\t\t\t\torigin = \"volume-{:08d}\"\n", i - 1) : "");
  }
  text += linear_lv("pool_tmeta", 0, 256);
  text += linear_lv("pool_tdata", 256, 25600);
  text += "\t}\n}\n";
  return text;
}

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
