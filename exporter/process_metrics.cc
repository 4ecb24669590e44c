#include "exporter/process_metrics.h"

#include <dirent.h>
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "exporter/version.h"
#include "exposition/metric_families.h"

namespace thinpool {
namespace {

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

}  // namespace

ProcessCollector::ProcessCollector(std::string proc_self, std::string proc_stat)
    : proc_self_(std::move(proc_self)), proc_stat_(std::move(proc_stat)) {}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
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
      double cpu = (std::stod(values[11]) + std::stod(values[12])) / ticks;
      FamilyBuilder cpu_family("process_cpu_seconds_total",
                               "Total user and system CPU time spent in seconds.",
                               prometheus::MetricType::Counter);
      cpu_family.add({}, cpu);
      cpu_family.move_to(out);
      FamilyBuilder virtual_memory("process_virtual_memory_bytes", "Virtual memory size in bytes.");
      virtual_memory.add({}, std::stod(values[20]));
      virtual_memory.move_to(out);
      FamilyBuilder resident("process_resident_memory_bytes", "Resident memory size in bytes.");
      resident.add({}, std::stod(values[21]) * page_size);
      resident.move_to(out);

      std::istringstream system_stat(read_text(proc_stat_));
      for (std::string line; std::getline(system_stat, line);) {
        if (line.starts_with("btime ")) {
          double boot_time = std::stod(line.substr(6));
          FamilyBuilder start("process_start_time_seconds",
                              "Start time of the process since unix epoch in seconds.");
          start.add({}, boot_time + std::stod(values[19]) / ticks);
          start.move_to(out);
        }
      }
    }
  }

  int open_fds = count_open_fds(proc_self_ + "/fd");
  if (open_fds >= 0) {
    FamilyBuilder fds("process_open_fds", "Number of open file descriptors.");
    fds.add({}, open_fds);
    fds.move_to(out);
  }
  std::istringstream limits(read_text(proc_self_ + "/limits"));
  for (std::string line; std::getline(limits, line);) {
    if (line.starts_with("Max open files")) {
      std::istringstream fields(line.substr(14));
      std::string soft;
      fields >> soft;
      FamilyBuilder max_fds("process_max_fds", "Maximum number of open file descriptors.");
      max_fds.add({}, soft == "unlimited" ? -1 : std::stod(soft));
      max_fds.move_to(out);
    }
  }
  return out;
}

BuildInfoCollector::BuildInfoCollector(std::string libdevmapper_version)
    : libdevmapper_version_(std::move(libdevmapper_version)) {}

std::vector<prometheus::MetricFamily> BuildInfoCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  FamilyBuilder info("thinpool_exporter_build_info",
                     "A metric with a constant '1' value labeled by version, revision, compiler "
                     "and libdevmapper version from which thinpool_exporter was built.");
  info.add(
      {{"version", THINPOOL_VERSION},
       {"revision", THINPOOL_REVISION},
       {"compiler", fmt::format("g++ {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__)},
       {"libdevmapper", libdevmapper_version_}},
      1);
  info.move_to(out);
  return out;
}

}  // namespace thinpool
