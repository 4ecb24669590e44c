// ns per line for the dm-thin parsers, on lines captured from real kernels
// (see /work/shared/facts/dm-thin.md). One iteration parses one line.
#include <benchmark/benchmark.h>

#include <string_view>

#include "lvm/dm_names.h"
#include "thin/thin_parsers.h"

namespace thinpool {
namespace {

// Params as the ioctl returns them (after "<start> <length> <type> "), trailing blank included.
constexpr std::string_view kPoolStatus =
    "19 8886/552960 629535/838960 - rw no_discard_passdown queue_if_no_space - 1024 ";
constexpr std::string_view kPoolStatusFail = "Fail";
constexpr std::string_view kPoolTable = "254:0 254:1 3072 0 1 skip_block_zeroing";
constexpr std::string_view kThinStatus = "255510528 268459007";
constexpr std::string_view kThinStatusUnmapped = "0 -";
constexpr std::string_view kThinTable = "254:2 17";
constexpr std::string_view kLvmName =
    "cinder--volumes-volume--5f0c1c2e--9b8a--4c57--a3a4--1d2b3c4d5e6f";

template <typename Parse>
void run(benchmark::State& state, Parse parse, std::string_view line) {
  for (auto _ : state) {
    auto parsed = parse(line);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(line.size()));
}

void BM_ParseThinPoolStatus(benchmark::State& state, std::string_view line) {
  run(state, parse_thin_pool_status, line);
}
void BM_ParseThinPoolTable(benchmark::State& state, std::string_view line) {
  run(state, parse_thin_pool_table, line);
}
void BM_ParseThinStatus(benchmark::State& state, std::string_view line) {
  run(state, parse_thin_status, line);
}
void BM_ParseThinTable(benchmark::State& state, std::string_view line) {
  run(state, parse_thin_table, line);
}
void BM_SplitLvmName(benchmark::State& state, std::string_view line) {
  run(state, lvm::split_lvm_name, line);
}

BENCHMARK_CAPTURE(BM_ParseThinPoolStatus, normal, kPoolStatus);
BENCHMARK_CAPTURE(BM_ParseThinPoolStatus, fail, kPoolStatusFail);
BENCHMARK_CAPTURE(BM_ParseThinPoolTable, skip_block_zeroing, kPoolTable);
BENCHMARK_CAPTURE(BM_ParseThinStatus, mapped, kThinStatus);
BENCHMARK_CAPTURE(BM_ParseThinStatus, unmapped, kThinStatusUnmapped);
BENCHMARK_CAPTURE(BM_ParseThinTable, normal, kThinTable);
BENCHMARK_CAPTURE(BM_SplitLvmName, cinder_volume, kLvmName);

}  // namespace
}  // namespace thinpool

BENCHMARK_MAIN();
