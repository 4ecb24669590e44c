// thinpool_dmeventd_query: asks the running dmeventd, with dm/dmeventd_client, whether it watches
// each thin pool, as `lvs -o seg_monitor` would say. The e2e scenario dmeventd_monitor runs it in
// the VM beside lvs.
//
// Usage: thinpool_dmeventd_query [--seccomp] [--timeout-ms N] [DM_UUID...]
//   Without uuids: every device-mapper device whose table has a thin-pool target.
//   --seccomp: first drop privileges and install the exporter's seccomp filter, as
//   --security.drop-privileges --security.seccomp do (exporter/privileges.h).
// Prints, tab-separated: "dmeventd<TAB>up|not up", then per pool
// "pool<TAB>NAME<TAB>UUID<TAB>monitored|not monitored|pending|error<TAB>[why]".
// Exit status: 0 when every query was answered or dmeventd is not up, 1 on any error, 2 on usage.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "dm/dmeventd_client.h"
#include "dm/libdevmapper_client.h"
#include "exporter/privileges.h"

namespace thinpool {
namespace {

struct Pool {
  std::string name;
  std::string uuid;
};

std::string_view kind_name(const Error& error) {
  if (error.is(kDmeventdNotRunning)) {
    return "not running";
  }
  if (error.is(kDmeventdPermission)) {
    return "permission";
  }
  if (error.is(kDmeventdTimedOut)) {
    return "timed out";
  }
  if (error.is(kDmeventdProtocol)) {
    return "protocol";
  }
  return error.is(ErrorKind::kIo) ? "io" : "failed";
}

Expected<std::vector<Pool>> thin_pools() {
  LibDevmapperClient dm;
  auto devices = dm.list_devices();
  if (!devices) {
    return devices.error();
  }
  std::vector<Pool> pools;
  for (const DmDevice& device : *devices) {
    auto table = dm.table(device);
    if (!table) {
      return table.error();
    }
    for (const DmTarget& target : table->targets) {
      if (target.type == "thin-pool") {
        pools.push_back({device.name, table->uuid});
        break;
      }
    }
  }
  return pools;
}

Status harden() {
  auto dropped = drop_privileges(PrivilegeOptions{});
  if (!dropped) {
    return dropped.error();
  }
  auto installed = install_seccomp_filter();
  if (!installed) {
    return installed.error();
  }
  std::string line;
  std::ifstream status("/proc/self/status");
  while (std::getline(status, line)) {
    if (line.rfind("Seccomp:", 0) == 0 || line.rfind("CapEff:", 0) == 0) {
      fmt::print(stderr, "{}\n", line);
    }
  }
  fmt::print(stderr, "{}\n{}\n", *dropped, *installed);
  return {};
}

int run(int argc, char** argv) {
  bool seccomp = false;
  int timeout_ms = 2000;
  std::vector<Pool> pools;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--seccomp") {
      seccomp = true;
    } else if (arg == "--timeout-ms" && i + 1 < argc) {
      timeout_ms = std::atoi(argv[++i]);
    } else if (arg.empty() || arg[0] == '-') {
      fmt::print(stderr, "usage: {} [--seccomp] [--timeout-ms N] [DM_UUID...]\n", argv[0]);
      return 2;
    } else {
      pools.push_back({"-", arg});
    }
  }
  if (seccomp) {
    if (Status hardened = harden(); !hardened) {
      fmt::print(stderr, "--seccomp: {}\n", hardened.error().message);
      return 1;
    }
  }
  if (pools.empty()) {
    auto listed = thin_pools();
    if (!listed) {
      fmt::print(stderr, "listing thin pools: {}\n", listed.error().message);
      return 1;
    }
    pools = std::move(*listed);
  }
  std::vector<std::string> uuids;
  uuids.reserve(pools.size());
  for (const Pool& pool : pools) {
    uuids.push_back(pool.uuid);
  }
  DmeventdClient client;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto status = query_monitoring(client, uuids, deadline);
  if (!status) {
    fmt::print("dmeventd\terror\t{}: {}\n", kind_name(status.error()), status.error().message);
    return 1;
  }
  fmt::print("dmeventd\t{}\n", status->daemon_up ? "up" : "not up");
  int rc = 0;
  for (const Pool& pool : pools) {
    if (!status->daemon_up) {
      continue;
    }
    const Expected<MonitorState>& state = status->monitored.at(pool.uuid);
    if (state) {
      fmt::print("pool\t{}\t{}\t{}\t\n", pool.name, pool.uuid, monitor_state_name(*state));
    } else {
      fmt::print("pool\t{}\t{}\terror\t{}: {}\n", pool.name, pool.uuid, kind_name(state.error()),
                 state.error().message);
      rc = 1;
    }
  }
  std::fflush(stdout);
  return rc;
}

}  // namespace
}  // namespace thinpool

int main(int argc, char** argv) {
  return thinpool::run(argc, argv);
}
