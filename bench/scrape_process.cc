// One size per process, so that sizes do not pollute each other's peak resident memory:
// builds a synthetic host on the fake device-mapper, scrapes it (Scraper::scrape, optionally
// gzip) a number of times and prints one line of key=value:
//
//   first_us      the first scrape (cold thin-table cache: one table per volume more)
//   median_us     median of the following scrapes (wall clock), min_us and max_us
//   median_cpu_us median CPU time (user + system) of the same scrapes: less disturbed than the
//                 wall clock by other processes on a busy machine
//   median_faults median minor page faults of the same scrapes (memory touched for the first
//                 time, or again after glibc gave it back: about 10 µs each on the development VM)
//   body_bytes    exposition size (gzip size with --gzip)
//   rss_start_kib VmHWM at the start: the program and its libraries
//   rss_setup_kib VmRSS once the fake device-mapper is built and the memory of its temporaries is
//                 given back (malloc_trim), before any scrape; the difference is the fake's copy of
//                 the dmsetup state, which on a real host the kernel holds. The peak is then reset
//                 (/proc/self/clear_refs), so rss_peak_kib is the peak of the scrapes alone.
//   rss_peak_kib  VmHWM at the end (the process's peak resident set, fake included)
//   maxrss_kib    getrusage(RUSAGE_SELF).ru_maxrss; Linux keeps it across execve, so it also holds
//                 the peak of the process that forked this one (a shell, python): use rss_peak_kib
//
// Under callgrind the counters are zeroed after the cold first scrape and dumped (callgrind's
// "steady" part, <out file>.1) after the steady ones: the instructions of the steady scrapes in
// every thread (a pool's status calls run on a worker thread). See bench/report.py.
//
// --ioctl reads the same state through the kernel's ioctl ABI (LibDevmapperClient over
// KernelReplies: the exporter's real reply parsing and buffers) instead of the fake's text.
//
// --write-fixture DIR writes the synthetic state as dmsetup text instead, for
// `thinpool_exporter --devmapper.fixtures=DIR`.
#include <malloc.h>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(name)
#endif
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/kernel_replies.h"
#include "bench/synthetic_dm.h"
#include "collectors/scraper.h"
#include "dm/libdevmapper_client.h"
#include "exporter/gzip.h"
#include "exporter/http_server.h"

namespace thinpool::bench {
namespace {

// A "VmHWM:" or "VmRSS:" line of /proc/self/status, in KiB.
long proc_status_kib(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field)) {
      return std::strtol(line.c_str() + field.size(), nullptr, 10);
    }
  }
  return -1;
}

long vm_hwm_kib() {
  return proc_status_kib("VmHWM:");
}

// Gives freed heap back and restarts VmHWM from the current RSS (Linux 4.0+); returns VmRSS.
long reset_peak_kib() {
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
  return proc_status_kib("VmRSS:");
}

size_t render(const Scraper& scraper, bool gzip) {
  std::string body = scraper.scrape();
  if (gzip) {
    return gzip_compress(body)->size();
  }
  return body.size();
}

// Kept out of line, under their own names, so that callgrind can toggle collection on them: g++'s
// noipa also keeps it from cloning them; clang has no noipa (and would warn), noinline does there.
#if defined(__clang__)
#define THINPOOL_OUT_OF_LINE [[gnu::noinline]]
#else
#define THINPOOL_OUT_OF_LINE [[gnu::noipa]]
#endif
THINPOOL_OUT_OF_LINE size_t first_scrape(const Scraper& scraper, bool gzip) {
  return render(scraper, gzip);
}
THINPOOL_OUT_OF_LINE size_t one_scrape(const Scraper& scraper, bool gzip) {
  return render(scraper, gzip);
}

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

double cpu_micros() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--pools N] [--volumes-per-pool N] [--scrapes N] [--gzip] [--ioctl] "
               "[--write-fixture DIR]\n",
               argv0);
  return 2;
}

int run(int argc, char** argv) {
  SyntheticShape shape;
  int scrapes = 21;
  bool gzip = false;
  bool ioctl = false;
  std::string fixture_dir;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* value = nullptr;
    if (arg == "--gzip") {
      gzip = true;
    } else if (arg == "--ioctl") {
      ioctl = true;
    } else if (arg == "--pools" && (value = next())) {
      shape.pools = std::atoi(value);
    } else if (arg == "--volumes-per-pool" && (value = next())) {
      shape.volumes_per_pool = std::atoi(value);
    } else if (arg == "--scrapes" && (value = next())) {
      scrapes = std::max(1, std::atoi(value));
    } else if (arg == "--write-fixture" && (value = next())) {
      fixture_dir = value;
    } else {
      return usage(argv[0]);
    }
  }
  if (!fixture_dir.empty()) {
    std::string error = write_synthetic_fixture(shape, fixture_dir);
    if (!error.empty()) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    return 0;
  }

  const long rss_start = vm_hwm_kib();
  FakeDeviceMapper fake = synthetic_device_mapper(shape);
  std::unique_ptr<KernelReplies> replies;
  std::unique_ptr<LibDevmapperClient> client;
  if (ioctl) {
    replies = std::make_unique<KernelReplies>(fake);
    client = std::make_unique<LibDevmapperClient>(replies->control());
  }
  InventoryReader reader(ioctl ? static_cast<DeviceMapper&>(*client) : fake);
  const Scraper scraper(reader, device_mapper_collectors(reader));
  const long rss_setup = reset_peak_kib();

  using Clock = std::chrono::steady_clock;
  auto micros = [](Clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
  };
  auto start = Clock::now();
  size_t bytes = first_scrape(scraper, gzip);
  const double first_us = micros(Clock::now() - start);
  std::vector<double> times;
  std::vector<double> cpu_times;
  std::vector<long> faults;
  CALLGRIND_ZERO_STATS;
  for (int i = 1; i < scrapes; ++i) {
    const double cpu_start = cpu_micros();
    const long faults_start = minor_faults();
    start = Clock::now();
    bytes = one_scrape(scraper, gzip);
    times.push_back(micros(Clock::now() - start));
    cpu_times.push_back(cpu_micros() - cpu_start);
    faults.push_back(minor_faults() - faults_start);
  }
  CALLGRIND_DUMP_STATS_AT("steady");
  if (times.empty()) {
    times.push_back(first_us);
    cpu_times.push_back(first_us);
    faults.push_back(0);
  }
  std::sort(times.begin(), times.end());
  std::sort(cpu_times.begin(), cpu_times.end());
  std::sort(faults.begin(), faults.end());
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "pools=%d volumes=%d gzip=%d ioctl=%d scrapes=%d first_us=%.1f median_us=%.1f min_us=%.1f "
      "max_us=%.1f median_cpu_us=%.1f median_faults=%ld body_bytes=%zu rss_start_kib=%ld "
      "rss_setup_kib=%ld "
      "rss_peak_kib=%ld "
      "maxrss_kib=%ld\n",
      shape.pools, shape.pools * shape.volumes_per_pool, gzip ? 1 : 0, ioctl ? 1 : 0, scrapes,
      first_us, times[times.size() / 2], times.front(), times.back(),
      cpu_times[cpu_times.size() / 2], faults[faults.size() / 2], bytes, rss_start, rss_setup,
      vm_hwm_kib(), usage.ru_maxrss);
  return 0;
}

}  // namespace
}  // namespace thinpool::bench

int main(int argc, char** argv) {
  return thinpool::bench::run(argc, argv);
}
