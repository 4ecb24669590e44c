// What one parse of a VG's metadata text costs in memory, one size per process (peak resident
// memory is per process): the text lvm_bench.cc parses, with N thin LVs (lvm_vg_text.h).
//
//   thinpool_lvm_parse_memory 10000 [--cinder-names]
//
// prints the resident memory before the parse (the text generated, the peak reset through
// /proc/self/clear_refs), the peak during it (VmHWM), what stays resident while the parsed VG
// is held, what malloc_trim(0) gives back and how long it takes, and the heap bytes the VG holds
// (mallinfo2). Then what the lvm collector keeps of the VG between scrapes once its LVs are let
// go (LvmSeriesCache's entry: the pools' summaries and the per-LV series), its heap bytes and the
// time to make it. Everything in KiB but the times. --cinder-names: the LVs named as OpenStack
// Cinder names them (43 bytes, as in the VM benchmark) instead of "volume-00000042".
#include <fmt/format.h>
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "bench/lvm_vg_text.h"
#include "collectors/lvm_series.h"
#include "lvm/vg_model.h"

namespace {

// A "VmRSS:   1234 kB" line of /proc/self/status, in KiB.
long status_kib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return -1;
}

// Resets VmHWM to the current resident size (Linux 4.0 and later).
bool reset_peak() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  return static_cast<bool>(clear_refs.flush());
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int volumes = argc > 1 ? std::atoi(argv[1]) : 10000;
  const bool cinder_names = argc > 2 && std::string(argv[2]) == "--cinder-names";
  const std::string text = thinpool::bench::vg_text(volumes, cinder_names);
  malloc_trim(0);
  if (!reset_peak()) {
    std::fputs("cannot reset VmHWM through /proc/self/clear_refs\n", stderr);
    return 1;
  }
  const long before_kib = status_kib("VmRSS");
  const size_t heap_before = mallinfo2().uordblks;
  const auto start = std::chrono::steady_clock::now();
  std::optional<thinpool::Expected<thinpool::lvm::VolumeGroup>> vg;
  vg.emplace(thinpool::lvm::parse_volume_group(text));
  const double parse_seconds = seconds_since(start);
  if (!vg->ok()) {
    std::fprintf(stderr, "parse failed: %s\n", vg->error().message.c_str());
    return 1;
  }
  const long peak_kib = status_kib("VmHWM");
  const long held_kib = status_kib("VmRSS");
  const size_t heap_held = mallinfo2().uordblks - heap_before;
  const auto trim_start = std::chrono::steady_clock::now();
  malloc_trim(0);
  const double trim_seconds = seconds_since(trim_start);
  const long trimmed_kib = status_kib("VmRSS");
  fmt::print(
      "thin_lvs {} text_kib {} rss_before_kib {} peak_kib {} (+{}) held_kib {} (+{}) "
      "after_trim_kib {} (+{}) vg_heap_kib {} parse_ms {:.1f} trim_ms {:.2f}\n",
      volumes, text.size() / 1024, before_kib, peak_kib, peak_kib - before_kib, held_kib,
      held_kib - before_kib, trimmed_kib, trimmed_kib - before_kib, heap_held / 1024,
      parse_seconds * 1000, trim_seconds * 1000);

  // What the lvm collector keeps between scrapes: the cache's entry, made from the VG, which is
  // then let go.
  thinpool::LoadedVolumeGroups groups;
  thinpool::lvm::LoadedVolumeGroup loaded;
  loaded.vg = std::make_shared<const thinpool::lvm::VolumeGroup>(std::move(**vg));
  vg.reset();
  groups.emplace("vgbench", std::move(loaded));
  const size_t heap_with_vg = mallinfo2().uordblks;
  thinpool::LvmSeriesCache cache;
  const auto series_start = std::chrono::steady_clock::now();
  std::vector<thinpool::LvmSeriesCache::Entry> entries = cache.entries(groups, true);
  const double series_seconds = seconds_since(series_start);
  const size_t heap_series = mallinfo2().uordblks - heap_with_vg;
  fmt::print("series_heap_kib {} series_ms {:.1f}\n", heap_series / 1024, series_seconds * 1000);
  return 0;
}
