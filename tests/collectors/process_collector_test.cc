#include "collectors/process_collector.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>

#include "dm/fake_device_mapper.h"
#include "tests/support/exposition_text.h"

namespace thinpool {
namespace {

std::map<std::string, double> collect(ProcessCollector collector) {
  FakeDeviceMapper fake;
  InventoryReader reader(fake);
  ScrapeContext context(reader, Clock::now() + std::chrono::seconds(10));
  std::string text;
  MetricWriter out(text);
  EXPECT_TRUE(collector.collect(context, out).ok());
  return testing_support::single_values(text);
}

TEST(ProcessCollector, ReportsTheStandardSeriesForThisProcess) {
  auto got = collect(ProcessCollector());
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_start_time_seconds",
                           "process_open_fds", "process_max_fds"}) {
    EXPECT_TRUE(got.contains(name)) << name;
  }
  EXPECT_GT(got["process_resident_memory_bytes"], 1 << 20);
  EXPECT_GE(got["process_open_fds"], 3);
  EXPECT_GT(got["process_start_time_seconds"], 1.6e9);
  EXPECT_LE(got["process_start_time_seconds"], static_cast<double>(time(nullptr)) + 1);
}

TEST(ProcessCollector, MaxFdsIsThisProcesssSoftLimit) {
  auto got = collect(ProcessCollector());
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  ASSERT_TRUE(got.contains("process_max_fds"));
  if (limit.rlim_cur == RLIM_INFINITY) {
    EXPECT_EQ(got["process_max_fds"], -1);
  } else {
    EXPECT_EQ(got["process_max_fds"], static_cast<double>(limit.rlim_cur));
  }
  EXPECT_GT(got["process_virtual_memory_bytes"], got["process_resident_memory_bytes"]);
}

// A /proc/<pid> directory written by the test: a command name with blanks and parentheses, an
// unlimited number of files, no fd directory.
TEST(ProcessCollector, ReadsStatPastAnOddCommandNameAndAnUnlimitedFileLimit) {
  const std::filesystem::path dir = std::filesystem::path(testing::TempDir()) / "proc-odd";
  std::filesystem::create_directories(dir);
  {
    std::ofstream stat(dir / "stat");
    // pid (comm) state, then fields 1.. after the state: utime is the 12th after the name.
    stat << "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 3 0 12345 "
            "123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
    std::ofstream limits(dir / "limits");
    limits << "Limit                     Soft Limit           Hard Limit           Units     \n"
              "Max cpu time              unlimited            unlimited            seconds   \n"
              "Max open files            unlimited            unlimited            files     \n";
  }
  auto got = collect(ProcessCollector(dir.string(), "/nonexistent"));
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  EXPECT_DOUBLE_EQ(got["process_cpu_seconds_total"], 400 / ticks);
  EXPECT_EQ(got["process_virtual_memory_bytes"], 123456789);
  EXPECT_EQ(got["process_resident_memory_bytes"],
            2048.0 * static_cast<double>(sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(got["process_max_fds"], -1);
  EXPECT_FALSE(got.contains("process_open_fds"));
  EXPECT_FALSE(got.contains("process_start_time_seconds"));  // no /proc/stat to add it to
}

TEST(ProcessCollector, MissingProcFilesGiveNoSeriesRatherThanGarbage) {
  auto got = collect(ProcessCollector("/nonexistent", "/nonexistent"));
  EXPECT_TRUE(got.empty());
}

}  // namespace
}  // namespace thinpool
