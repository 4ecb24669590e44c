#include "collectors/process_collector.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <string_view>

#include "base/text.h"

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

// Enough for /proc/self/stat (under 1 KiB) and /proc/self/limits (about 1.3 KiB).
constexpr size_t kProcFileBytes = 4096;

// A small /proc file read whole into `buffer` with plain reads (a scrape reads two; iostreams cost
// more than the reads under emulation); "" when it cannot be read or does not fit.
std::string_view read_proc_file(const std::string& path, std::array<char, kProcFileBytes>& buffer) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return {};
  }
  size_t size = 0;
  while (size < buffer.size()) {
    const ssize_t n = ::read(fd, buffer.data() + size, buffer.size() - size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    size += static_cast<size_t>(n);
  }
  ::close(fd);
  return size < buffer.size() ? std::string_view(buffer.data(), size) : std::string_view();
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
  std::array<char, kProcFileBytes> buffer;

  // /proc/self/stat: the command name is in parentheses and may contain blanks.
  const std::string_view stat = read_proc_file(proc_self_ + "/stat", buffer);
  if (const size_t close_paren = stat.rfind(')'); close_paren != std::string_view::npos) {
    const Fields values(stat.substr(close_paren + 1));
    // After the name: state(0) ... utime(11) stime(12) ... starttime(19) vsize(20) rss(21).
    const auto number = [&values](size_t i) { return parse_u64(values[i]); };
    if (values.size() > 21 && number(11) && number(12) && number(20) && number(21)) {
      out.family(kCpu).add({}, static_cast<double>(*number(11) + *number(12)) / ticks);
      out.family(kVirtualMemory).add({}, static_cast<double>(*number(20)));
      out.family(kResidentMemory).add({}, static_cast<double>(*number(21)) * page_size);
      if (start_time_seconds_ >= 0) {
        out.family(kStartTime).add({}, start_time_seconds_);
      }
    }
  }
  if (int open_fds = count_open_fds(proc_self_ + "/fd"); open_fds >= 0) {
    out.family(kOpenFds).add({}, open_fds);
  }
  // "Max open files            1024                 524288               files"
  const std::string_view limits = read_proc_file(proc_self_ + "/limits", buffer);
  constexpr std::string_view kMaxOpenFiles = "\nMax open files";
  if (const size_t at = limits.find(kMaxOpenFiles); at != std::string_view::npos) {
    const std::string_view line = limits.substr(
        at + kMaxOpenFiles.size(), limits.find('\n', at + 1) - at - kMaxOpenFiles.size());
    const Fields fields(line);
    if (!fields.empty()) {
      if (fields[0] == "unlimited") {
        out.family(kMaxFds).add({}, -1);
      } else if (auto soft = parse_u64(fields[0])) {
        out.family(kMaxFds).add({}, static_cast<double>(*soft));
      }
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
