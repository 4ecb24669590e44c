// Every registered collector together, as the binary runs them on --devmapper.fixtures, against
// each fixture's golden file (tests/fixtures/<case>/exposition.golden), which the real binary's
// test (tests/integration/golden_test.sh) checks too. Rewrite the goldens with
// THINPOOL_UPDATE_GOLDEN=1 after an intended change.
#include "collectors/registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/support/exposition_text.h"
#include "tests/support/fixtures.h"

namespace thinpool {
namespace {

std::set<std::string> every_collector() {
  std::set<std::string> names;
  for (const CollectorDefinition& definition : registered_collectors()) {
    names.insert(definition.name);
  }
  return names;
}

// What tests/integration/lib.sh's normalize_exposition drops too: what changes from run to run
// (durations, process_* values, the build), and the checkout's path.
std::string normalized(const std::string& text) {
  std::string out = testing_support::without_lines(
      text, {"thinpool_scrape_collector_duration_seconds", "process_"});
  out = std::regex_replace(out, std::regex(R"((thinpool_exporter_build_info\{).*\} 1\n)"),
                           "$1...} 1\n");
  const std::string fixtures = testing_support::fixture_dir("");
  for (size_t at = out.find(fixtures); at != std::string::npos; at = out.find(fixtures, at)) {
    out.replace(at, fixtures.size(), "FIXTURES/");
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class GoldenTest : public testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, EveryCollectorMatchesTheGoldenExposition) {
  // LVM's view comes from the backup captured with the kernel state, where there is one.
  const std::string backups = GetParam() == "captured/lvm-cinder-volumes"
                                  ? testing_support::fixture_dir("captured/lvm/backup")
                                  : "/nonexistent/no-backups";
  std::string text =
      normalized(testing_support::scrape_fixture(GetParam(), every_collector(), backups));
  const std::string golden_path = testing_support::fixture_dir(GetParam()) + "/exposition.golden";
  if (std::getenv("THINPOOL_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(golden_path) << text;
  }
  EXPECT_EQ(text, read_file(golden_path))
      << "golden " << golden_path << " differs; rerun with THINPOOL_UPDATE_GOLDEN=1 if intended";
}

// Every fixture folder (captured/: on a real 6.1 kernel, by tests/vm), as golden_test.sh finds
// them.
std::vector<std::string> fixture_cases() {
  std::vector<std::string> cases;
  const std::filesystem::path root = testing_support::fixture_dir("");
  for (const auto& dir : {root, root / "captured"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (std::filesystem::exists(entry.path() / "status")) {
        cases.push_back(std::filesystem::relative(entry.path(), root).string());
      }
    }
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

TEST(GoldenCases, EveryFixtureFolderIsOne) {
  EXPECT_GE(fixture_cases().size(), 16u);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenTest, testing::ValuesIn(fixture_cases()),
                         [](const auto& fixture) {
                           std::string name = fixture.param;
                           std::erase_if(name, [](char c) { return c == '-' || c == '/'; });
                           return name;
                         });

TEST(Registry, NamesAreUniqueFlagSafeAndDescribed) {
  std::set<std::string> seen;
  for (const CollectorDefinition& definition : registered_collectors()) {
    EXPECT_TRUE(seen.insert(definition.name).second) << definition.name;
    EXPECT_TRUE(std::regex_match(definition.name, std::regex("[a-z][a-z_]*"))) << definition.name;
    EXPECT_FALSE(definition.help.empty()) << definition.name;
    EXPECT_TRUE(definition.make) << definition.name;
    for (const CollectorOption& option : definition.options) {
      EXPECT_TRUE(std::regex_match(option.name, std::regex("[a-z][a-z-]*"))) << option.name;
      EXPECT_FALSE(option.help.empty()) << option.name;
    }
  }
  // The kernel's figures come first in the exposition and on the landing page.
  ASSERT_GE(registered_collectors().size(), 2u);
  EXPECT_EQ(registered_collectors()[0].name, "thinpool");
  EXPECT_EQ(registered_collectors()[1].name, "thin");
}

}  // namespace
}  // namespace thinpool
