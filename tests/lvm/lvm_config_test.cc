// Tests of LvmConfig and LvmProfile on files in a temporary directory: lvm2's defaults, the
// lvmlocal.conf cascade, settings of the wrong type, broken files, profiles, the autoextend
// policy and change detection.
#include "lvm/lvm_config.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace thinpool::lvm {
namespace {

namespace fs = std::filesystem;

class LvmConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "lvm_config_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream out(dir_ / name, std::ios::binary | std::ios::trunc);
    out << text;
  }

  LvmConfig load() {
    Expected<LvmConfig> config = LvmConfig::load(dir_);
    EXPECT_TRUE(config.ok()) << config.error().message;
    return config.ok() ? std::move(config.value()) : LvmConfig(dir_);
  }

  std::string load_error() {
    Expected<LvmConfig> config = LvmConfig::load(dir_);
    EXPECT_FALSE(config.ok());
    return config.ok() ? std::string() : config.error().message;
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

std::vector<std::string> texts(const std::vector<FilterEntry>& entries) {
  std::vector<std::string> out;
  out.reserve(entries.size());
  for (const FilterEntry& entry : entries) {
    out.push_back(entry.text);
  }
  return out;
}

void expect_defaults(const LvmConfig& config, const fs::path& dir) {
  EXPECT_EQ(texts(config.filter()), std::vector<std::string>{"a|.*|"});
  EXPECT_EQ(texts(config.global_filter()), std::vector<std::string>{"a|.*|"});
  EXPECT_FALSE(config.scan_lvs());
  EXPECT_FALSE(config.use_devicesfile());
  EXPECT_EQ(config.devicesfile(), "system.devices");
  EXPECT_EQ(config.devices_file_path(), dir / "devices" / "system.devices");
  EXPECT_EQ(config.dev_dir(), "/dev");
  EXPECT_EQ(config.scan(), std::vector<std::string>{"/dev"});
  EXPECT_EQ(config.search_for_devnames(), "auto");
  EXPECT_EQ(config.thin_pool_autoextend_threshold(), 100);
  EXPECT_EQ(config.thin_pool_autoextend_percent(), 20);
  EXPECT_FALSE(config.thin_pool_autoextend().enabled);
  EXPECT_EQ(config.profile_dir(), dir / "profile");
  EXPECT_TRUE(config.warnings().empty());
  EXPECT_TRUE(config.device_filter().accepts(std::vector<std::string>{"/dev/sda"}));
}

TEST_F(LvmConfigTest, DefaultsWithoutFiles) {
  const LvmConfig config = load();
  expect_defaults(config, dir_);
  ASSERT_EQ(config.fingerprint().files.size(), 2u);
  EXPECT_EQ(config.fingerprint().files[0].path, path("lvm.conf"));
  EXPECT_FALSE(config.fingerprint().files[0].exists());
  EXPECT_EQ(config.fingerprint().files[1].path, path("lvmlocal.conf"));
  EXPECT_FALSE(config.fingerprint().files[1].exists());
  expect_defaults(LvmConfig(dir_), dir_);
}

TEST_F(LvmConfigTest, DefaultsWithDebiansEmptySections) {
  write("lvm.conf", "config {\n}\ndevices {\n}\nactivation {\n}\n# filter = [ \"r|.*|\" ]\n");
  write("lvmlocal.conf", "local {\n}\n");
  expect_defaults(load(), dir_);
}

TEST_F(LvmConfigTest, ReadsEverySetting) {
  write("lvm.conf", R"(devices {
  dir = "/devices"
  scan = [ "/devices", "/other" ]
  filter = [ "a|^/dev/sd|", "r|.*|" ]
  global_filter = "r|^/dev/loop|"
  scan_lvs = 1
  use_devicesfile = 1
  devicesfile = "test.devices"
  search_for_devnames = "none"
}
activation {
  thin_pool_autoextend_threshold = 70
  thin_pool_autoextend_percent = 10
}
config { profile_dir = "/srv/profiles" }
)");
  const LvmConfig config = load();
  EXPECT_EQ(config.dev_dir(), "/devices");
  EXPECT_EQ(config.scan(), (std::vector<std::string>{"/devices", "/other"}));
  ASSERT_EQ(texts(config.filter()), (std::vector<std::string>{"a|^/dev/sd|", "r|.*|"}));
  EXPECT_EQ(config.filter()[0].origin, path("lvm.conf") + ":4:3");
  EXPECT_EQ(texts(config.global_filter()), std::vector<std::string>{"r|^/dev/loop|"});
  EXPECT_TRUE(config.scan_lvs());
  EXPECT_TRUE(config.use_devicesfile());
  EXPECT_EQ(config.devices_file_path(), dir_ / "devices" / "test.devices");
  EXPECT_EQ(config.search_for_devnames(), "none");
  EXPECT_EQ(config.thin_pool_autoextend_threshold(), 70);
  EXPECT_EQ(config.thin_pool_autoextend_percent(), 10);
  EXPECT_TRUE(config.thin_pool_autoextend().enabled);
  EXPECT_EQ(config.profile_dir(), fs::path("/srv/profiles"));
  EXPECT_TRUE(config.warnings().empty());
  EXPECT_TRUE(config.device_filter().accepts(std::vector<std::string>{"/dev/sda"}));
  EXPECT_FALSE(config.device_filter().accepts(std::vector<std::string>{"/dev/vda"}));
  EXPECT_FALSE(config.device_filter().accepts(std::vector<std::string>{"/dev/loop0"}));
}

TEST_F(LvmConfigTest, ReadsSlashKeys) {
  write("lvm.conf",
        "devices/filter = [ \"r|/dev/sdb|\" ]\n"
        "activation/thin_pool_autoextend_threshold = 80\n"
        "activation { thin_pool_autoextend_percent = 5 }\n");
  const LvmConfig config = load();
  EXPECT_EQ(texts(config.filter()), std::vector<std::string>{"r|/dev/sdb|"});
  EXPECT_EQ(config.thin_pool_autoextend_threshold(), 80);
  EXPECT_EQ(config.thin_pool_autoextend_percent(), 5);
}

// As lvm2 2.03.16 merges them (checked with lvmconfig and pvs): settings are replaced, but
// lvmlocal.conf's filter entries go before lvm.conf's.
TEST_F(LvmConfigTest, LvmlocalOverridesLvmConf) {
  write("lvm.conf",
        "devices {\n filter = [ \"r|tp-link|\" ]\n global_filter = [ \"a|.*|\" ]\n}\n"
        "activation { thin_pool_autoextend_threshold = 70 thin_pool_autoextend_percent = 10 }\n");
  write("lvmlocal.conf",
        "devices { filter = [ \"a|nomatch|\" ] global_filter = [ \"r|nomatch|\" ] }\n"
        "activation { thin_pool_autoextend_threshold = 80 }\n"
        "config { profile_dir = \"/local/profiles\" }\n");
  const LvmConfig config = load();
  ASSERT_EQ(texts(config.filter()), (std::vector<std::string>{"a|nomatch|", "r|tp-link|"}));
  EXPECT_EQ(config.filter()[0].origin, path("lvmlocal.conf") + ":1:11");
  EXPECT_EQ(config.filter()[1].origin, path("lvm.conf") + ":2:2");
  EXPECT_EQ(texts(config.global_filter()), std::vector<std::string>{"r|nomatch|"});
  EXPECT_EQ(config.thin_pool_autoextend_threshold(), 80);
  EXPECT_EQ(config.thin_pool_autoextend_percent(), 10);
  EXPECT_EQ(config.profile_dir(), fs::path("/local/profiles"));
  // "a|nomatch|" matches no name of the device, then "r|tp-link|" rejects it.
  EXPECT_FALSE(
      config.device_filter().accepts(std::vector<std::string>{"/dev/loop0", "/dev/tp-link"}));
}

TEST_F(LvmConfigTest, LvmlocalAloneAppliesToo) {
  write("lvmlocal.conf", "devices { filter = [ \"r|.*|\" ] }\n");
  const LvmConfig config = load();
  EXPECT_EQ(texts(config.filter()), std::vector<std::string>{"r|.*|"});
  EXPECT_FALSE(config.device_filter().accepts(std::vector<std::string>{"/dev/sda"}));
}

TEST_F(LvmConfigTest, WrongTypesFallBackToDefaultsWithWarnings) {
  write("lvm.conf",
        "devices {\n devicesfile = \"\"\n dir = 5\n use_devicesfile = \"maybe\"\n}\n"
        "activation {\n thin_pool_autoextend_threshold = \"80\"\n"
        " thin_pool_autoextend_percent = 1.5\n}\n");
  const LvmConfig config = load();
  EXPECT_EQ(config.devicesfile(), "system.devices");
  EXPECT_EQ(config.dev_dir(), "/dev");
  EXPECT_FALSE(config.use_devicesfile());
  EXPECT_EQ(config.thin_pool_autoextend_threshold(), 100);
  EXPECT_EQ(config.thin_pool_autoextend_percent(), 20);
  ASSERT_EQ(config.warnings().size(), 5u);
  EXPECT_EQ(config.warnings()[0],
            path("lvm.conf") +
                ":4:2: devices/use_devicesfile: expected a boolean (0/1, y/n, yes/no, on/off, "
                "true/false), found string \"maybe\"; lvm2 uses 0");
  EXPECT_EQ(config.warnings()[1], path("lvm.conf") +
                                      ":2:2: devices/devicesfile: expected a non-empty string, "
                                      "found string \"\"; lvm2 uses \"system.devices\"");
  EXPECT_EQ(config.warnings()[3],
            path("lvm.conf") +
                ":7:2: activation/thin_pool_autoextend_threshold: expected an integer, found "
                "string \"80\"; lvm2 uses 100");
}

TEST_F(LvmConfigTest, ReadsBooleansAsLvm2Does) {
  for (const auto& [text, expected] : std::vector<std::pair<std::string, bool>>{{"1", true},
                                                                                {"0", false},
                                                                                {"2", true},
                                                                                {"\"yes\"", true},
                                                                                {"\"On\"", true},
                                                                                {"\"TRUE\"", true},
                                                                                {"\"y\"", true},
                                                                                {"\"n\"", false},
                                                                                {"\"off\"", false},
                                                                                {"[1]", true}}) {
    write("lvm.conf", "devices { scan_lvs = " + text + " }\n");
    EXPECT_EQ(load().scan_lvs(), expected) << text;
  }
}

TEST_F(LvmConfigTest, BrokenFilesNameFileAndPosition) {
  write("lvm.conf", "devices {\n  filter = [ \"a|.*|\"\n}\n");
  EXPECT_EQ(load_error().find(path("lvm.conf") + ": parse error at 3:1:"), 0u) << load_error();
  write("lvm.conf", "devices { }\n");
  write("lvmlocal.conf", "local {\n  system_id = 12ab\n}\n");
  EXPECT_EQ(load_error(), path("lvmlocal.conf") +
                              ": parse error at 2:15: malformed number \"12ab\": \"  "
                              "system_id = 12ab\"");
}

TEST_F(LvmConfigTest, InvalidFiltersAreErrorsLikeInLvm2) {
  write("lvm.conf", "devices {\n filter = [ ]\n}\n");
  EXPECT_EQ(load_error(), path("lvm.conf") +
                              ":2:2: devices/filter: expected a list of strings, found an array "
                              "of 0 items");
  write("lvm.conf", "devices {\n global_filter = [ \"a|.*|\", 1 ]\n}\n");
  EXPECT_EQ(load_error(),
            path("lvm.conf") + ":2:2: devices/global_filter: every item must be a quoted string");
  write("lvm.conf", "devices {\n\n   filter = [ \"a|.*|\", \"x|.*|\" ]\n}\n");
  EXPECT_EQ(load_error(), path("lvm.conf") +
                              ":3:4: devices/filter entry 2 \"x|.*|\": must begin with 'a' "
                              "(accept) or 'r' (reject)");
  write("lvm.conf", "devices { scan = [ ] }\n");
  EXPECT_EQ(load_error(), path("lvm.conf") +
                              ":1:11: devices/scan: expected a list of strings, found an array "
                              "of 0 items");
  write("lvm.conf", "devices { use_devicesfile = 1 devicesfile = \"../x\" }\n");
  EXPECT_EQ(load_error(),
            path("lvm.conf") + ":1:31: devices/devicesfile \"../x\" is not a valid file name");
  write("lvm.conf", "devices { use_devicesfile = 0 devicesfile = \"../x\" }\n");
  EXPECT_EQ(load().devicesfile(), "../x");
}

TEST_F(LvmConfigTest, UnreadableFilesAreErrors) {
  fs::create_directories(dir_ / "lvm.conf");
  EXPECT_EQ(load_error(), path("lvm.conf") + ": not a regular file");
  fs::remove(dir_ / "lvm.conf");
  ASSERT_EQ(::mkfifo(path("lvmlocal.conf").c_str(), 0600), 0);
  EXPECT_EQ(load_error(), path("lvmlocal.conf") + ": not a regular file");
}

TEST_F(LvmConfigTest, ProfilesOverrideTheAutoextendSettings) {
  write("lvm.conf", "activation { thin_pool_autoextend_threshold = 70 }\n");
  write("profile/thin-big.profile",
        "activation {\n thin_pool_autoextend_threshold = 60\n thin_pool_autoextend_percent = 50\n}"
        "\nallocation { thin_pool_zero = 1 }\n");
  write("profile/thin-half.profile", "activation/thin_pool_autoextend_percent = 30\n");
  const LvmConfig config = load();
  Expected<LvmProfile> big = config.load_profile("thin-big");
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(big->name(), "thin-big");
  EXPECT_EQ(config.thin_pool_autoextend_threshold(&*big), 60);
  EXPECT_EQ(config.thin_pool_autoextend_percent(&*big), 50);
  Expected<LvmProfile> half = config.load_profile("thin-half");
  ASSERT_TRUE(half.ok()) << half.error().message;
  EXPECT_EQ(config.thin_pool_autoextend_threshold(&*half), 70);
  EXPECT_EQ(config.thin_pool_autoextend_percent(&*half), 30);
  const ThinPoolAutoextend policy = config.thin_pool_autoextend(&*half);
  EXPECT_TRUE(policy.enabled);
  EXPECT_EQ(policy.threshold_percent, 70);
  EXPECT_EQ(policy.percent, 30);
  EXPECT_EQ(config.thin_pool_autoextend_threshold(), 70);
  EXPECT_EQ(config.thin_pool_autoextend_percent(), 20);
}

TEST_F(LvmConfigTest, ProfileDirFromTheConfig) {
  write("lvm.conf", "config { profile_dir = \"" + path("elsewhere") + "\" }\n");
  write("elsewhere/p.profile", "activation { thin_pool_autoextend_threshold = 90 }\n");
  Expected<LvmProfile> profile = load().load_profile("p");
  ASSERT_TRUE(profile.ok()) << profile.error().message;
  EXPECT_EQ(profile->thin_pool_autoextend_threshold(), 90);
  EXPECT_EQ(profile->thin_pool_autoextend_percent(), std::nullopt);
}

TEST_F(LvmConfigTest, BrokenProfilesAreErrorsNamingThem) {
  const LvmConfig config = load();
  Expected<LvmProfile> missing = config.load_profile("absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "profile \"absent\": open " + path("profile/absent.profile") +
                                         ": No such file or directory");
  EXPECT_TRUE(missing.error().is(ErrorKind::kGone));
  write("profile/broken.profile", "activation {\n thin_pool_autoextend_threshold = \n");
  Expected<LvmProfile> broken = config.load_profile("broken");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().message.find("profile \"broken\": " + path("profile/broken.profile") +
                                        ": parse error at 3:1:"),
            0u)
      << broken.error().message;
  write("profile/typed.profile", "activation {\n thin_pool_autoextend_percent = \"20\"\n}\n");
  Expected<LvmProfile> typed = config.load_profile("typed");
  ASSERT_FALSE(typed.ok());
  EXPECT_EQ(typed.error().message,
            "profile \"typed\": " + path("profile/typed.profile") +
                ":2:2: activation/thin_pool_autoextend_percent: expected an integer, found "
                "string \"20\"");
  Expected<LvmProfile> escape = config.load_profile("../lvm");
  ASSERT_FALSE(escape.ok());
  EXPECT_EQ(escape.error().message, "profile \"../lvm\": not a valid profile name");
}

struct PolicyCase {
  int64_t threshold;
  int64_t percent;
  bool enabled;
  int64_t threshold_percent;
};

TEST(LvmConfigAutoextend, AppliesLvm2sRules) {
  for (const PolicyCase& c : std::vector<PolicyCase>{{49, 20, true, 50},
                                                     {0, 20, true, 50},
                                                     {-5, 20, true, 50},
                                                     {50, 20, true, 50},
                                                     {70, 20, true, 70},
                                                     {99, 1, true, 99},
                                                     {100, 20, false, 100},
                                                     {150, 20, false, 150},
                                                     {80, 0, false, 80},
                                                     {49, 0, false, 50},
                                                     {80, -10, true, 80}}) {
    const ThinPoolAutoextend policy = thin_pool_autoextend_policy(c.threshold, c.percent);
    EXPECT_EQ(policy.enabled, c.enabled) << c.threshold << " " << c.percent;
    EXPECT_EQ(policy.threshold_percent, c.threshold_percent) << c.threshold;
    EXPECT_EQ(policy.threshold_setting, c.threshold);
    EXPECT_EQ(policy.percent_setting, c.percent);
    EXPECT_EQ(policy.percent, c.percent);
  }
}

TEST_F(LvmConfigTest, ThresholdBelowFiftyFromTheFile) {
  write("lvm.conf", "activation { thin_pool_autoextend_threshold = 49 }\n");
  const ThinPoolAutoextend policy = load().thin_pool_autoextend();
  EXPECT_TRUE(policy.enabled);
  EXPECT_EQ(policy.threshold_setting, 49);
  EXPECT_EQ(policy.threshold_percent, 50);
  EXPECT_EQ(policy.percent, 20);
}

void set_mtime(const std::string& file, int64_t seconds) {
  const struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
}

TEST_F(LvmConfigTest, NoticesTouchReplaceDeleteAndCreate) {
  write("lvm.conf", "activation { thin_pool_autoextend_threshold = 70 }\n");
  LvmConfig config = load();
  EXPECT_FALSE(config.changed());
  EXPECT_TRUE(config.fingerprint().files[0].exists());

  set_mtime(path("lvm.conf"), 1000000000);  // touch
  EXPECT_TRUE(config.changed());
  config = load();
  EXPECT_FALSE(config.changed());

  // The same size and mtime again, other text: ctime still moves.
  write("lvm.conf", "activation { thin_pool_autoextend_threshold = 80 }\n");
  set_mtime(path("lvm.conf"), 1000000000);
  EXPECT_TRUE(config.changed());
  config = load();
  EXPECT_EQ(config.thin_pool_autoextend_threshold(), 80);

  write("lvm.conf.new", "activation { thin_pool_autoextend_threshold = 90 }\n");
  fs::rename(dir_ / "lvm.conf.new", dir_ / "lvm.conf");  // replace
  EXPECT_TRUE(config.changed());
  config = load();
  EXPECT_EQ(config.thin_pool_autoextend_threshold(), 90);
  EXPECT_FALSE(config.changed());

  write("lvmlocal.conf", "activation { thin_pool_autoextend_threshold = 60 }\n");  // create
  EXPECT_TRUE(config.changed());
  config = load();
  EXPECT_EQ(config.thin_pool_autoextend_threshold(), 60);

  fs::remove(dir_ / "lvm.conf");  // delete
  EXPECT_TRUE(config.changed());
  config = load();
  EXPECT_FALSE(config.changed());
  EXPECT_FALSE(config.fingerprint().files[0].exists());
}

TEST_F(LvmConfigTest, ProfilesNoticeChangesToo) {
  write("profile/p.profile", "activation { thin_pool_autoextend_percent = 10 }\n");
  Expected<LvmProfile> profile = load().load_profile("p");
  ASSERT_TRUE(profile.ok()) << profile.error().message;
  EXPECT_FALSE(profile->changed());
  fs::remove(dir_ / "profile" / "p.profile");
  EXPECT_TRUE(profile->changed());
}

TEST(LvmConfigFingerprint, DescribesAFile) {
  const FileFingerprint absent = fingerprint_file("/nonexistent/lvm.conf");
  EXPECT_FALSE(absent.exists());
  EXPECT_EQ(absent.stat_errno, ENOENT);
  const FileFingerprint self = fingerprint_file("/proc/self/exe");
  EXPECT_TRUE(self.exists());
  EXPECT_GT(self.size, 0u);
  EXPECT_GT(self.inode, 0u);
  EXPECT_GT(self.mtime_ns, 0);
}

}  // namespace
}  // namespace thinpool::lvm
