// LVM's own configuration as lvm2 2.03.16 reads it: <dir>/lvm.conf, then <dir>/lvmlocal.conf
// merged on top (lib/commands/toolcontext.c _load_config_file, lib/config/config.c
// merge_config_tree), and the metadata profiles a VG or LV names with `profile = "name"`
// (<profile_dir>/<name>.profile, config.c load_profile). The text is parsed by parse_config.
//
// What lvm2 does, and so this reader:
//   - A missing lvm.conf or lvmlocal.conf counts as an empty file, so every setting has lvm2's
//     built-in default (config.c config_file_open_and_read); a file that exists but cannot be
//     read or parsed is an error naming it (and the line:column for a parse error). A missing
//     profile is an error, as in lvm2.
//   - lvmlocal.conf overrides lvm.conf setting by setting, except devices/filter, whose entries
//     are put before lvm.conf's (config.c _merge_section: lvmlocal ["a|x|"] over lvm.conf
//     ["r|y|"] gives ["a|x|", "r|y|"]). A section lvm.conf lacks is taken whole.
//   - A setting of the wrong type is ignored with a warning and the default is used ("80" for an
//     integer, "maybe" for a boolean, "" for a string; libdm-config.c _find_config_int64,
//     _find_config_bool, _find_config_str). The same is kept in warnings() here.
//   - An invalid devices/filter or global_filter (an empty list, an item that is not a string, a
//     malformed entry), or devices/scan, makes every lvm2 command fail, so load() fails too.
//   - A profile overrides lvm.conf for the settings it holds (config.c find_config_tree_int
//     puts it before lvm.conf in the cascade); lvm2 refuses a profile whose settings have the
//     wrong type (config.c load_profile), and so does LvmProfile::load.
// Not done: lvm_<tag>.conf files and the host-tag guards of sections (`tags { hosttags = 1 }`,
// a `tags = [...]` inside a section); such sections are applied as if their tags matched.
//
// Defaults confirmed on Debian 12 with lvm2 2.03.16-2, whose /etc/lvm/lvm.conf and lvmlocal.conf
// set nothing (every setting is commented out):
//   lvmconfig --type default devices/filter devices/global_filter devices/scan_lvs
//     devices/use_devicesfile devices/devicesfile devices/dir devices/scan
//     devices/search_for_devnames activation/thin_pool_autoextend_threshold
//     activation/thin_pool_autoextend_percent config/profile_dir
//   -> filter=["a|.*|"] global_filter=["a|.*|"] scan_lvs=0 use_devicesfile=0
//      devicesfile="system.devices" dir="/dev" scan=["/dev"] search_for_devnames="auto"
//      thin_pool_autoextend_threshold=100 thin_pool_autoextend_percent=20
//      profile_dir="/etc/lvm/profile"
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "lvm/config_parser.h"
#include "lvm/device_filter.h"

namespace thinpool::lvm {

inline constexpr std::string_view kDefaultLvmConfigDir = "/etc/lvm";

// What stat(2) said about a file: enough to notice that it changed without reading it.
struct FileFingerprint {
  std::string path;
  int stat_errno = 0;  // 0 when the file was there; ENOENT when it was not
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;

  bool exists() const { return stat_errno == 0; }
  bool operator==(const FileFingerprint&) const = default;
};

FileFingerprint fingerprint_file(const std::string& path);

// Every file a configuration was read from, absent ones included.
struct ConfigFingerprint {
  std::vector<FileFingerprint> files;

  // True when a stat of one of the files differs now: touched, rewritten, replaced, deleted,
  // created. One stat per file.
  bool changed() const;
  bool operator==(const ConfigFingerprint&) const = default;
};

// A file's text with the fingerprint of what was read (taken with fstat before reading).
struct ConfigFileText {
  FileFingerprint fingerprint;
  std::string text;
};

// Reads a configuration file. A missing file gives empty text when `allow_absent`. Errors name
// the path: "open /etc/lvm/lvm.conf: Permission denied", "...: not a regular file".
Expected<ConfigFileText> read_config_file(const std::string& path, bool allow_absent,
                                          uint64_t max_bytes = 4ULL << 20);

// A thin pool's autoextend policy: the two settings and what lvm2 does with them
// (lib/metadata/lv_manip.c _lvresize_adjust_policy in 2.03.16, lv_extend_policy_calculate_percent
// since 2.03.17; lib/thin/thin.c _thin_pool_add_target_line for the kernel's low-water mark): a
// threshold below 50 is used as 50, a threshold of 100 or more disables autoextend, and a percent
// of 0 makes `lvextend --use-policies` fail, which disables it too. lvm2 does not check the sign
// of the percent; it always extends at least enough to bring usage back under the threshold.
struct ThinPoolAutoextend {
  int64_t threshold_setting = 100;  // activation/thin_pool_autoextend_threshold, as configured
  int64_t percent_setting = 20;     // activation/thin_pool_autoextend_percent, as configured
  bool enabled = false;
  int64_t threshold_percent = 100;  // usage above which the pool is extended
  int64_t percent = 20;             // the pool grows by this percent of its size, or more
};

ThinPoolAutoextend thin_pool_autoextend_policy(int64_t threshold_setting, int64_t percent_setting);

// A metadata profile: <profile_dir>/<name>.profile. Only the settings lvm2 lets a profile
// override that this exporter uses are read: activation/thin_pool_autoextend_*.
class LvmProfile {
 public:
  // Errors name the profile and the file: "profile \"thin-x\": open /etc/lvm/profile/
  // thin-x.profile: No such file or directory". `name` must be a valid lvm2 name.
  static Expected<LvmProfile> load(const std::filesystem::path& profile_dir, std::string_view name);

  const std::string& name() const { return name_; }
  const ConfigFingerprint& fingerprint() const { return fingerprint_; }
  bool changed() const { return fingerprint_.changed(); }

  // Set by the profile, or nullopt.
  std::optional<int64_t> thin_pool_autoextend_threshold() const { return threshold_; }
  std::optional<int64_t> thin_pool_autoextend_percent() const { return percent_; }

 private:
  std::string name_;
  ConfigFingerprint fingerprint_;
  std::optional<int64_t> threshold_;
  std::optional<int64_t> percent_;
};

class LvmConfig {
 public:
  // lvm2's built-in defaults, as for a `dir` without lvm.conf.
  explicit LvmConfig(std::filesystem::path dir = std::filesystem::path(kDefaultLvmConfigDir));

  // Reads <dir>/lvm.conf and <dir>/lvmlocal.conf. Errors name the file and, for the text,
  // line:column: "/etc/lvm/lvm.conf: parse error at 3:5: ...", "/etc/lvm/lvm.conf:7:2:
  // devices/filter entry 1 \"x|.*|\": must begin with 'a' (accept) or 'r' (reject)".
  static Expected<LvmConfig> load(
      const std::filesystem::path& dir = std::filesystem::path(kDefaultLvmConfigDir));

  const std::filesystem::path& dir() const { return dir_; }
  // lvm.conf and lvmlocal.conf as they were when read; changed() says whether to load again.
  const ConfigFingerprint& fingerprint() const { return fingerprint_; }
  bool changed() const { return fingerprint_.changed(); }
  // Settings lvm2 would ignore (wrong type, empty), each with its file and line:column.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // devices/
  const std::vector<FilterEntry>& filter() const { return filter_; }
  const std::vector<FilterEntry>& global_filter() const { return global_filter_; }
  const DeviceFilter& device_filter() const { return device_filter_; }  // both, compiled
  bool scan_lvs() const { return scan_lvs_; }
  bool use_devicesfile() const { return use_devicesfile_; }
  const std::string& devicesfile() const { return devicesfile_; }
  std::filesystem::path devices_file_path() const { return dir_ / "devices" / devicesfile_; }
  const std::string& dev_dir() const { return dev_dir_; }
  const std::vector<std::string>& scan() const { return scan_; }
  const std::string& search_for_devnames() const { return search_for_devnames_; }

  // activation/, overridden by `profile` where it sets them
  int64_t thin_pool_autoextend_threshold(const LvmProfile* profile = nullptr) const;
  int64_t thin_pool_autoextend_percent(const LvmProfile* profile = nullptr) const;
  ThinPoolAutoextend thin_pool_autoextend(const LvmProfile* profile = nullptr) const;

  // config/
  const std::filesystem::path& profile_dir() const { return profile_dir_; }
  Expected<LvmProfile> load_profile(std::string_view name) const {
    return LvmProfile::load(profile_dir_, name);
  }

 private:
  friend class LvmConfigBuilder;

  std::filesystem::path dir_;
  ConfigFingerprint fingerprint_;
  std::vector<std::string> warnings_;
  std::vector<FilterEntry> filter_;
  std::vector<FilterEntry> global_filter_;
  DeviceFilter device_filter_;
  bool scan_lvs_ = false;
  bool use_devicesfile_ = false;
  std::string devicesfile_ = "system.devices";
  std::string dev_dir_ = "/dev";
  std::vector<std::string> scan_ = {"/dev"};
  std::string search_for_devnames_ = "auto";
  std::filesystem::path profile_dir_;
  int64_t thin_pool_autoextend_threshold_ = 100;
  int64_t thin_pool_autoextend_percent_ = 20;
};

}  // namespace thinpool::lvm
