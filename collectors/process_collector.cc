#include "collectors/process_collector.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace thinpool {
namespace {

constexpr Family kCpu{"process_cpu_seconds_total",
                      "Total user and system CPU time spent in seconds.",
                      MetricType::Counter,
                      {}};
constexpr Family kVirtualMemory{
    "process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge, {}};
constexpr Family kResidentMemory{
    "process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge, {}};
constexpr Family kStartTime{"process_start_time_seconds",
                            "Start time of the process since unix epoch in seconds.",
                            MetricType::Gauge,
                            {}};
constexpr Family kOpenFds{
    "process_open_fds", "Number of open file descriptors.", MetricType::Gauge, {}};
constexpr Family kMaxFds{
    "process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, {}};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

int count_open_fds(const std::string& dir) {
  DIR* fds = opendir(dir.c_str());
  if (fds == nullptr) {
    return -1;
  }
  int count = 0;
  while (dirent* entry = readdir(fds)) {
    if (entry->d_name[0] != '.') {
      ++count;
    }
  }
  closedir(fds);
  return count - 1;  // the descriptor opendir itself holds
}

// The system's boot time (btime in /proc/stat), or a negative number.
double boot_time(const std::string& proc_stat) {
  std::istringstream system_stat(read_text(proc_stat));
  for (std::string line; std::getline(system_stat, line);) {
    if (line.starts_with("btime ")) {
      return std::stod(line.substr(6));
    }
  }
  return -1;
}

// The process's start, once: boot time plus the start in clock ticks since boot, neither of which
// changes. Reading the system's /proc/stat costs the kernel a pass over every CPU and interrupt
// counter, too much to pay on every scrape.
double start_time_seconds(const std::string& proc_self, const std::string& proc_stat) {
  const std::string stat = read_text(proc_self + "/stat");
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 > stat.size()) {
    return -1;
  }
  std::istringstream fields(stat.substr(close_paren + 2));
  std::string value;
  for (int i = 0; i <= 19 && fields >> value; ++i) {
    if (i == 19) {
      const double boot = boot_time(proc_stat);
      return boot < 0 ? -1 : boot + std::stod(value) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  return -1;
}

}  // namespace

ProcessCollector::ProcessCollector(std::string proc_self, const std::string& proc_stat)
    : proc_self_(std::move(proc_self)),
      start_time_seconds_(start_time_seconds(proc_self_, proc_stat)) {}

Status ProcessCollector::collect(ScrapeContext& /*context*/, MetricWriter& out) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page_size = static_cast<double>(sysconf(_SC_PAGESIZE));

  // /proc/self/stat: the command name is in parentheses and may contain blanks.
  std::string stat = read_text(proc_self_ + "/stat");
  auto close_paren = stat.rfind(')');
  if (close_paren != std::string::npos) {
    std::istringstream fields(stat.substr(close_paren + 2));
    std::vector<std::string> values;
    for (std::string value; fields >> value;) {
      values.push_back(value);
    }
    // After the name: state(0) ... utime(11) stime(12) ... starttime(19) vsize(20) rss(21).
    if (values.size() > 21) {
      out.family(kCpu).add({}, (std::stod(values[11]) + std::stod(values[12])) / ticks);
      out.family(kVirtualMemory).add({}, std::stod(values[20]));
      out.family(kResidentMemory).add({}, std::stod(values[21]) * page_size);
      if (start_time_seconds_ >= 0) {
        out.family(kStartTime).add({}, start_time_seconds_);
      }
    }
  }
  if (int open_fds = count_open_fds(proc_self_ + "/fd"); open_fds >= 0) {
    out.family(kOpenFds).add({}, open_fds);
  }
  std::istringstream limits(read_text(proc_self_ + "/limits"));
  for (std::string line; std::getline(limits, line);) {
    if (line.starts_with("Max open files")) {
      std::istringstream fields(line.substr(14));
      std::string soft;
      fields >> soft;
      out.family(kMaxFds).add({}, soft == "unlimited" ? -1 : std::stod(soft));
    }
  }
  return {};
}

CollectorDefinition process_collector_definition() {
  return {"process",
          true,
          "the exporter's own process: CPU, memory, file descriptors, start time (process_*)",
          {},
          [](const CollectorDependencies&) { return std::make_unique<ProcessCollector>(); }};
}

}  // namespace thinpool
