// One full scrape on the fake device-mapper (Scraper::scrape, gzip on and off), and each stage of
// it alone, for 1 pool with 10 / 1,000 / 10,000 thin volumes and for
// 100 pools with 10 volumes each. One iteration is one scrape (or one stage of one scrape).
//
// Steady state, as in a running exporter: the InventoryReader is kept between iterations, so its
// thin-table cache is warm and each scrape costs one list + one status per device + one table
// per pool. BM_ScrapeCold is the first scrape after start (one table per volume more).
#include <benchmark/benchmark.h>

#include <map>
#include <memory>

#include "bench/kernel_replies.h"
#include "bench/synthetic_dm.h"
#include "collectors/scraper.h"
#include "collectors/thin_pool_collector.h"
#include "collectors/thin_volume_collector.h"
#include "dm/libdevmapper_client.h"
#include "exporter/gzip.h"
#include "exporter/http_server.h"

namespace thinpool::bench {
namespace {

// One synthetic host, built once per shape and kept for every benchmark that uses it.
struct Host {
  explicit Host(const SyntheticShape& shape)
      : fake(synthetic_device_mapper(shape)),
        reader(fake),
        scraper(reader, device_mapper_collectors(reader)),
        volumes(static_cast<int64_t>(shape.pools) * shape.volumes_per_pool) {
    scraper.scrape();  // warm the thin-table cache
  }
  FakeDeviceMapper fake;
  InventoryReader reader;
  Scraper scraper;
  int64_t volumes;
};

Host& host(const benchmark::State& state) {
  static std::map<std::pair<int64_t, int64_t>, std::unique_ptr<Host>> hosts;
  auto key = std::pair{state.range(0), state.range(1)};
  auto& slot = hosts[key];
  if (!slot) {
    slot = std::make_unique<Host>(
        SyntheticShape{static_cast<int>(key.first), static_cast<int>(key.second)});
  }
  return *slot;
}

// The same host read through the kernel's ioctl ABI: the exporter's own reply parsing and buffers
// (LibDevmapperClient, DmIoctl) over replies copied as the kernel copies them.
struct IoctlHost {
  explicit IoctlHost(Host& h)
      : replies(h.fake), client(replies.control()), reader(client), volumes(h.volumes) {
    reader.read();  // warm the thin-table cache
  }
  KernelReplies replies;
  LibDevmapperClient client;
  InventoryReader reader;
  int64_t volumes;
};

IoctlHost& ioctl_host(const benchmark::State& state) {
  static std::map<std::pair<int64_t, int64_t>, std::unique_ptr<IoctlHost>> hosts;
  auto& slot = hosts[std::pair{state.range(0), state.range(1)}];
  if (!slot) {
    slot = std::make_unique<IoctlHost>(host(state));
  }
  return *slot;
}

void set_counters(benchmark::State& state, const Host& h) {
  state.counters["volumes"] = static_cast<double>(h.volumes);
  state.counters["pools"] = static_cast<double>(state.range(0));
  // Seconds per volume: the scrape time divided by the number of volumes.
  state.counters["per_volume"] = benchmark::Counter(
      static_cast<double>(std::max<int64_t>(h.volumes, 1)),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_Scrape(benchmark::State& state) {
  Host& h = host(state);
  const bool gzip = state.range(2) != 0;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = h.scraper.scrape();
    if (gzip) {
      auto compressed = gzip_compress(body);
      bytes = compressed->size();
    } else {
      bytes = body.size();
    }
    benchmark::DoNotOptimize(body);
  }
  set_counters(state, h);
  state.counters["body_bytes"] = static_cast<double>(bytes);
}

void BM_ScrapeCold(benchmark::State& state) {
  Host& h = host(state);
  for (auto _ : state) {
    InventoryReader reader(h.fake);
    std::string body = Scraper(reader, device_mapper_collectors(reader)).scrape();
    benchmark::DoNotOptimize(body);
  }
  set_counters(state, h);
}

// The device-mapper calls alone: what the ioctls cost on the fake (list + status per device).
void BM_StageFakeCalls(benchmark::State& state) {
  Host& h = host(state);
  for (auto _ : state) {
    auto devices = h.fake.list_devices();
    for (const DmDevice& device : *devices) {
      auto status = h.fake.status(device);
      benchmark::DoNotOptimize(status);
    }
  }
  set_counters(state, h);
}

// InventoryReader::read(): the device-mapper calls plus parsing and the name splits.
void BM_StageInventory(benchmark::State& state) {
  Host& h = host(state);
  for (auto _ : state) {
    auto inventory = h.reader.read();
    benchmark::DoNotOptimize(inventory);
  }
  set_counters(state, h);
}

// InventoryReader::read() through the ioctl ABI: what a steady scrape's inventory costs in user
// space on a real kernel, without the kernel's own share.
void BM_StageInventoryIoctl(benchmark::State& state) {
  IoctlHost& h = ioctl_host(state);
  for (auto _ : state) {
    auto inventory = h.reader.read();
    benchmark::DoNotOptimize(inventory);
  }
  set_counters(state, host(state));
}

// The floor of the same calls: DM_LIST_DEVICES and one DM_TABLE_STATUS per device into one
// buffer, nothing parsed (what bench/vm_ioctl_cost's floor mode does on the real kernel).
void BM_StageIoctlFloor(benchmark::State& state) {
  IoctlHost& h = ioctl_host(state);
  ControlDevice control = h.replies.control();
  auto devices = h.client.list_devices();
  for (auto _ : state) {
    benchmark::DoNotOptimize(KernelReplies::floor_pass(control, *devices));
  }
  set_counters(state, host(state));
}

// The collectors writing the series of an inventory already read.
void BM_StageWrite(benchmark::State& state) {
  Host& h = host(state);
  auto inventory = h.reader.read();
  for (auto _ : state) {
    std::string text;
    MetricWriter out(text);
    write_pool_series((*inventory)->pools, out);
    write_volume_series((*inventory)->volumes, out);
    benchmark::DoNotOptimize(text);
  }
  set_counters(state, h);
}

void BM_StageGzip(benchmark::State& state) {
  Host& h = host(state);
  std::string body = h.scraper.scrape();
  for (auto _ : state) {
    auto compressed = gzip_compress(body);
    benchmark::DoNotOptimize(compressed);
  }
  set_counters(state, h);
}

// {pools, volumes per pool}
void Shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"pools", "volumes_per_pool"});
  for (auto [pools, volumes] : {std::pair{1, 10}, {1, 1000}, {1, 10000}, {100, 10}}) {
    b->Args({pools, volumes});
  }
  b->Unit(benchmark::kMicrosecond);
}

void ShapesWithGzip(benchmark::internal::Benchmark* b) {
  b->ArgNames({"pools", "volumes_per_pool", "gzip"});
  for (auto [pools, volumes] : {std::pair{1, 10}, {1, 1000}, {1, 10000}, {100, 10}}) {
    for (int gzip : {0, 1}) {
      b->Args({pools, volumes, gzip});
    }
  }
  b->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_Scrape)->Apply(ShapesWithGzip);
BENCHMARK(BM_ScrapeCold)->Apply(Shapes);
BENCHMARK(BM_StageFakeCalls)->Apply(Shapes);
BENCHMARK(BM_StageInventory)->Apply(Shapes);
BENCHMARK(BM_StageInventoryIoctl)->Apply(Shapes);
BENCHMARK(BM_StageIoctlFloor)->Apply(Shapes);
BENCHMARK(BM_StageWrite)->Apply(Shapes);
BENCHMARK(BM_StageGzip)->Apply(Shapes);

}  // namespace
}  // namespace thinpool::bench

BENCHMARK_MAIN();
