#include "lvm/lvm_config.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "lvm/backup_reader.h"

namespace thinpool::lvm {
namespace {

constexpr int64_t kDefaultThreshold = 100;  // lib/config/defaults.h in lvm2
constexpr int64_t kDefaultPercent = 20;
const char* const kAcceptAll = "a|.*|";

Error errno_error(int saved, const std::string& what) {
  return Error::from_errno(saved, fmt::format("{}: {}", what, std::strerror(saved)));
}

FileFingerprint fingerprint_of(const std::string& path, const struct stat& st) {
  FileFingerprint f;
  f.path = path;
  f.device = st.st_dev;
  f.inode = st.st_ino;
  f.size = static_cast<uint64_t>(st.st_size);
  f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  f.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  return f;
}

// The text of an open file, which must be regular and at most `max_bytes` long.
Expected<ConfigFileText> read_open_file(int fd, const std::string& path, uint64_t max_bytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return errno_error(errno, fmt::format("stat {}", path));
  }
  if (!S_ISREG(st.st_mode)) {
    return Error{fmt::format("{}: not a regular file", path)};
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return Error{
        fmt::format("{}: {} bytes, more than the {} allowed", path, st.st_size, max_bytes)};
  }
  ConfigFileText file{fingerprint_of(path, st), {}};
  // On the heap: this may run on a thread with a small stack (see backup_reader.cc).
  std::vector<char> buffer(16384);
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return errno_error(errno, fmt::format("read {}", path));
    }
    if (n == 0) {
      return file;
    }
    file.text.append(buffer.data(), static_cast<size_t>(n));
    if (file.text.size() > max_bytes) {
      return Error{
          fmt::format("{}: grew past the {} bytes allowed while being read", path, max_bytes)};
    }
  }
}

// A file read and parsed; `tree` stays empty for an absent file.
struct ParsedFile {
  FileFingerprint fingerprint;
  ConfigNode tree;
};

Expected<ParsedFile> read_and_parse(const std::string& path, bool allow_absent) {
  Expected<ConfigFileText> file = read_config_file(path, allow_absent);
  if (!file.ok()) {
    return file.error();
  }
  Expected<ConfigNode> tree = parse_config(file->text);
  if (!tree.ok()) {
    return Error::parse(fmt::format("{}: {}", path, tree.error().message));
  }
  return ParsedFile{std::move(file->fingerprint), std::move(tree.value())};
}

// A setting found in a file: the node and "path:line:column".
struct Found {
  const ConfigNode* node = nullptr;
  std::string origin;
};

Found found_in(const ParsedFile& file, const ConfigNode* node) {
  if (node == nullptr) {
    return {};
  }
  return {node, fmt::format("{}:{}:{}", file.fingerprint.path, node->position.line,
                            node->position.column)};
}

const ConfigNode* find_section(const ConfigNode& root, std::string_view section) {
  const ConfigNode* node = root.find(section);
  return node != nullptr && node->is_section() ? node : nullptr;
}

const ConfigScalar* first_item(const ConfigNode& node) {
  if (node.is_section() || node.value->items.empty()) {
    return nullptr;
  }
  return &node.value->items.front();
}

}  // namespace

// Resolves the settings of lvm.conf with lvmlocal.conf on top into an LvmConfig.
class LvmConfigBuilder {
 public:
  LvmConfigBuilder(LvmConfig& config, const ParsedFile& lvm_conf, const ParsedFile& lvmlocal)
      : config_(config), lvm_conf_(lvm_conf), lvmlocal_(lvmlocal) {}

  Status build() {
    LvmConfig& c = config_;
    if (Status s = filter_list("global_filter", c.global_filter_, false); !s.ok()) {
      return s;
    }
    if (Status s = filter_list("filter", c.filter_, true); !s.ok()) {
      return s;
    }
    Expected<DeviceFilter> device_filter = DeviceFilter::compile(c.global_filter_, c.filter_);
    if (!device_filter.ok()) {
      return device_filter.error();
    }
    c.device_filter_ = std::move(device_filter.value());
    c.scan_lvs_ = get_bool("devices", "scan_lvs", c.scan_lvs_);
    c.use_devicesfile_ = get_bool("devices", "use_devicesfile", c.use_devicesfile_);
    c.devicesfile_ = get_string("devices", "devicesfile", c.devicesfile_);
    if (c.use_devicesfile_ && !is_valid_vg_name(c.devicesfile_)) {
      // lib/device/dev-cache.c setup_devices_file: the name is checked with validate_name.
      return Error::parse(fmt::format("{}: devices/devicesfile \"{}\" is not a valid file name",
                                      find("devices", "devicesfile").origin,
                                      escape_for_message(c.devicesfile_)));
    }
    c.dev_dir_ = get_string("devices", "dir", c.dev_dir_);
    if (Status s = scan_list(); !s.ok()) {
      return s;
    }
    c.search_for_devnames_ = get_string("devices", "search_for_devnames", c.search_for_devnames_);
    c.thin_pool_autoextend_threshold_ =
        get_int("activation", "thin_pool_autoextend_threshold", kDefaultThreshold);
    c.thin_pool_autoextend_percent_ =
        get_int("activation", "thin_pool_autoextend_percent", kDefaultPercent);
    c.profile_dir_ = get_string("config", "profile_dir", c.profile_dir_.string());
    return {};
  }

 private:
  // The node lvm2's merged tree holds for section/key: lvmlocal.conf's if it sets the key to a
  // value, or if lvm.conf has no such section (then lvmlocal's is taken whole); else lvm.conf's.
  Found find(std::string_view section, std::string_view key) const {
    const ConfigNode* conf_section = find_section(lvm_conf_.tree, section);
    const ConfigNode* local_section = find_section(lvmlocal_.tree, section);
    const ConfigNode* local = local_section != nullptr ? local_section->find(key) : nullptr;
    if (local != nullptr && (conf_section == nullptr || !local->is_section())) {
      return found_in(lvmlocal_, local);
    }
    return found_in(lvm_conf_, conf_section != nullptr ? conf_section->find(key) : nullptr);
  }

  void warn(const Found& found, std::string_view section, std::string_view key,
            std::string_view expected, const std::string& fallback) {
    config_.warnings_.push_back(fmt::format("{}: {}/{}: expected {}, found {}; lvm2 uses {}",
                                            found.origin, section, key, expected,
                                            describe_node(*found.node), fallback));
  }

  int64_t get_int(std::string_view section, std::string_view key, int64_t fallback) {
    const Found found = find(section, key);
    if (found.node == nullptr) {
      return fallback;
    }
    const ConfigScalar* item = first_item(*found.node);
    if (const auto* value = item != nullptr ? std::get_if<int64_t>(item) : nullptr) {
      return *value;
    }
    warn(found, section, key, "an integer", std::to_string(fallback));
    return fallback;
  }

  bool get_bool(std::string_view section, std::string_view key, bool fallback) {
    const Found found = find(section, key);
    if (found.node == nullptr) {
      return fallback;
    }
    const ConfigScalar* item = first_item(*found.node);
    if (const auto* value = item != nullptr ? std::get_if<int64_t>(item) : nullptr) {
      return *value != 0;
    }
    if (const auto* text = item != nullptr ? std::get_if<std::string>(item) : nullptr) {
      for (const char* yes : {"y", "yes", "on", "true"}) {
        if (::strcasecmp(text->c_str(), yes) == 0) {
          return true;
        }
      }
      for (const char* no : {"n", "no", "off", "false"}) {
        if (::strcasecmp(text->c_str(), no) == 0) {
          return false;
        }
      }
    }
    warn(found, section, key, "a boolean (0/1, y/n, yes/no, on/off, true/false)",
         fallback ? "1" : "0");
    return fallback;
  }

  std::string get_string(std::string_view section, std::string_view key, std::string fallback) {
    const Found found = find(section, key);
    if (found.node == nullptr) {
      return fallback;
    }
    const ConfigScalar* item = first_item(*found.node);
    const auto* text = item != nullptr ? std::get_if<std::string>(item) : nullptr;
    if (text != nullptr && !text->empty()) {
      return *text;
    }
    warn(found, section, key, "a non-empty string", fmt::format("\"{}\"", fallback));
    return fallback;
  }

  // The strings of a list setting that lvm2 refuses to run without: every item a string, at
  // least one (lib/filters/filter-regex.c _build_matcher, dev-cache.c for devices/scan).
  Status strings_of(const Found& found, std::string_view key, std::vector<FilterEntry>& out) {
    const ConfigNode& node = *found.node;
    if (node.is_section() || node.value->items.empty()) {
      return Error::parse(fmt::format("{}: devices/{}: expected a list of strings, found {}",
                                      found.origin, key, describe_node(node)));
    }
    for (const ConfigScalar& item : node.value->items) {
      const auto* text = std::get_if<std::string>(&item);
      if (text == nullptr) {
        return Error::parse(
            fmt::format("{}: devices/{}: every item must be a quoted string", found.origin, key));
      }
      out.push_back({*text, found.origin});
    }
    return {};
  }

  // devices/filter or devices/global_filter; lvmlocal.conf's filter goes before lvm.conf's.
  Status filter_list(std::string_view key, std::vector<FilterEntry>& out, bool concatenated) {
    const Found found = find("devices", key);
    if (found.node == nullptr) {
      return {};
    }
    out.clear();
    if (Status s = strings_of(found, key, out); !s.ok()) {
      return s;
    }
    const ConfigNode* conf_section = find_section(lvm_conf_.tree, "devices");
    const Found conf = found_in(lvm_conf_, conf_section ? conf_section->find(key) : nullptr);
    if (concatenated && conf.node != nullptr && conf.node != found.node) {
      return strings_of(conf, key, out);
    }
    return {};
  }

  Status scan_list() {
    const Found found = find("devices", "scan");
    if (found.node == nullptr) {
      return {};
    }
    std::vector<FilterEntry> entries;
    if (Status s = strings_of(found, "scan", entries); !s.ok()) {
      return s;
    }
    config_.scan_.clear();
    for (FilterEntry& entry : entries) {
      config_.scan_.push_back(std::move(entry.text));
    }
    return {};
  }

  LvmConfig& config_;
  const ParsedFile& lvm_conf_;
  const ParsedFile& lvmlocal_;
};

FileFingerprint fingerprint_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    FileFingerprint absent;
    absent.path = path;
    absent.stat_errno = errno;
    return absent;
  }
  return fingerprint_of(path, st);
}

bool ConfigFingerprint::changed() const {
  for (const FileFingerprint& file : files) {
    if (fingerprint_file(file.path) != file) {
      return true;
    }
  }
  return false;
}

Expected<ConfigFileText> read_config_file(const std::string& path, bool allow_absent,
                                          uint64_t max_bytes) {
  // O_NONBLOCK: a FIFO in place of the file must not block the open.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    const int saved = errno;
    if (saved == ENOENT && allow_absent) {
      ConfigFileText absent;
      absent.fingerprint.path = path;
      absent.fingerprint.stat_errno = ENOENT;
      return absent;
    }
    return errno_error(saved, fmt::format("open {}", path));
  }
  Expected<ConfigFileText> file = read_open_file(fd, path, max_bytes);
  ::close(fd);
  return file;
}

ThinPoolAutoextend thin_pool_autoextend_policy(int64_t threshold_setting, int64_t percent_setting) {
  ThinPoolAutoextend policy;
  policy.threshold_setting = threshold_setting;
  policy.percent_setting = percent_setting;
  policy.threshold_percent = std::max<int64_t>(threshold_setting, 50);
  policy.percent = percent_setting;
  policy.enabled = policy.threshold_percent < 100 && percent_setting != 0;
  return policy;
}

Expected<LvmProfile> LvmProfile::load(const std::filesystem::path& profile_dir,
                                      std::string_view name) {
  const auto failed = [&](const Error& error) {
    return Error{fmt::format("profile \"{}\": {}", escape_for_message(name), error.message),
                 error.kind};
  };
  if (!is_valid_vg_name(name)) {
    return failed(Error::parse("not a valid profile name"));
  }
  const std::string path = (profile_dir / (std::string(name) + ".profile")).string();
  Expected<ParsedFile> file = read_and_parse(path, false);
  if (!file.ok()) {
    return failed(file.error());
  }
  LvmProfile profile;
  profile.name_ = std::string(name);
  profile.fingerprint_.files.push_back(file->fingerprint);
  const ConfigNode* activation = find_section(file->tree, "activation");
  for (auto [key, out] : {std::pair{"thin_pool_autoextend_threshold", &profile.threshold_},
                          std::pair{"thin_pool_autoextend_percent", &profile.percent_}}) {
    const Found found = found_in(*file, activation ? activation->find(key) : nullptr);
    if (found.node == nullptr) {
      continue;
    }
    const ConfigScalar* item = first_item(*found.node);
    const auto* value = item != nullptr ? std::get_if<int64_t>(item) : nullptr;
    if (value == nullptr) {
      return failed(Error::parse(fmt::format("{}: activation/{}: expected an integer, found {}",
                                             found.origin, key, describe_node(*found.node))));
    }
    *out = *value;
  }
  return profile;
}

LvmConfig::LvmConfig(std::filesystem::path dir)
    : dir_(std::move(dir)),
      filter_{{kAcceptAll, ""}},
      global_filter_{{kAcceptAll, ""}},
      profile_dir_(dir_ / "profile") {}

Expected<LvmConfig> LvmConfig::load(const std::filesystem::path& dir) {
  Expected<ParsedFile> lvm_conf = read_and_parse((dir / "lvm.conf").string(), true);
  if (!lvm_conf.ok()) {
    return lvm_conf.error();
  }
  Expected<ParsedFile> lvmlocal = read_and_parse((dir / "lvmlocal.conf").string(), true);
  if (!lvmlocal.ok()) {
    return lvmlocal.error();
  }
  LvmConfig config(dir);
  config.fingerprint_.files = {lvm_conf->fingerprint, lvmlocal->fingerprint};
  if (Status built = LvmConfigBuilder(config, *lvm_conf, *lvmlocal).build(); !built.ok()) {
    return built.error();
  }
  return config;
}

int64_t LvmConfig::thin_pool_autoextend_threshold(const LvmProfile* profile) const {
  if (profile != nullptr && profile->thin_pool_autoextend_threshold()) {
    return *profile->thin_pool_autoextend_threshold();
  }
  return thin_pool_autoextend_threshold_;
}

int64_t LvmConfig::thin_pool_autoextend_percent(const LvmProfile* profile) const {
  if (profile != nullptr && profile->thin_pool_autoextend_percent()) {
    return *profile->thin_pool_autoextend_percent();
  }
  return thin_pool_autoextend_percent_;
}

ThinPoolAutoextend LvmConfig::thin_pool_autoextend(const LvmProfile* profile) const {
  return thin_pool_autoextend_policy(thin_pool_autoextend_threshold(profile),
                                     thin_pool_autoextend_percent(profile));
}

}  // namespace thinpool::lvm
