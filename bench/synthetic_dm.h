// Synthetic device-mapper states of any size, for the benchmarks.
//
// The devices look like what lvm2 builds for OpenStack Cinder (the seed incident's layout): per
// pool a `_tmeta`, a `_tdata`, the `-tpool` thin-pool target and the linear `<vg>-<pool>` on top,
// then thin volumes named `volume-<uuid>`, with dm names mangled the LVM way (every '-' doubled)
// and LVM uuids. Names and numbers have the lengths a real host has, because the cost of a scrape
// is mostly proportional to the bytes of label values it copies and writes.
#pragma once

#include <string>
#include <vector>

#include "collectors/scraper.h"
#include "dm/fake_device_mapper.h"

namespace thinpool::bench {

struct SyntheticShape {
  int pools = 1;
  int volumes_per_pool = 10;
};

// The `dmsetup` text of the state: what `--devmapper.fixtures=DIR` and
// FakeDeviceMapper::from_dmsetup_text() read.
struct SyntheticDmsetupText {
  std::string info;
  std::string table;
  std::string status;
};

SyntheticDmsetupText synthetic_dmsetup_text(const SyntheticShape& shape);

// The same state served by a FakeDeviceMapper. Built with add_device(), which is linear in the
// number of devices (from_dmsetup_text() looks every line's device up by name).
FakeDeviceMapper synthetic_device_mapper(const SyntheticShape& shape);

// The collectors a benchmark scrape runs: those that read the device-mapper inventory (thinpool,
// thin). The fake has no LVM metadata on PVs for the lvm collector, and the process and build-info
// collectors cost the same on any host.
std::vector<Scraper::NamedCollector> device_mapper_collectors(InventoryReader& reader);

// Writes DIR/info, DIR/table and DIR/status; returns an empty string or the error.
std::string write_synthetic_fixture(const SyntheticShape& shape, const std::string& dir);

}  // namespace thinpool::bench
