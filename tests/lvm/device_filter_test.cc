// Tests of lvm2's regex device filter and of the devices file. The expected verdicts for the
// several-names and dialect cases are what lvm2 2.03.16's `pvs` decided for a loop device PV with
// a /dev/disk/by-id symlink under the same filters.
#include "lvm/device_filter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lvm/devices_file.h"
#include "lvm/lvm_config.h"

namespace thinpool::lvm {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kLoopNames = {"/dev/loop0", "/dev/disk/by-id/tp-link"};

std::vector<FilterEntry> entries(const std::vector<std::string>& texts) {
  std::vector<FilterEntry> out;
  out.reserve(texts.size());
  for (const std::string& text : texts) {
    out.push_back({text, ""});
  }
  return out;
}

RegexFilter compile(const std::vector<std::string>& texts) {
  Expected<RegexFilter> filter = RegexFilter::compile("devices/filter", entries(texts));
  EXPECT_TRUE(filter.ok()) << filter.error().message;
  return filter.ok() ? std::move(filter.value()) : RegexFilter();
}

bool matches(const std::string& regex, const std::string& name) {
  return !compile({"r|" + regex + "|"}).check(std::vector<std::string>{name}).accepted;
}

TEST(DeviceFilterPattern, SplitsActionAndRegex) {
  for (const auto& [entry, action, regex] :
       std::vector<std::tuple<std::string, FilterAction, std::string>>{
           {"a|^/dev/sd|", FilterAction::kAccept, "^/dev/sd"},
           {"r/loop/", FilterAction::kReject, "loop"},
           {"a(x)", FilterAction::kAccept, "x"},
           {"r[x]", FilterAction::kReject, "x"},
           {"a{x}", FilterAction::kAccept, "x"},
           {"a<x<", FilterAction::kAccept, "x"},
           {"a|x|y|", FilterAction::kAccept, "x|y"},
           {"a||", FilterAction::kAccept, ""}}) {
    Expected<FilterPattern> pattern = parse_filter_pattern(entry);
    ASSERT_TRUE(pattern.ok()) << entry << ": " << pattern.error().message;
    EXPECT_EQ(pattern->action, action) << entry;
    EXPECT_EQ(pattern->regex, regex) << entry;
  }
}

TEST(DeviceFilterPattern, RejectsMalformedEntries) {
  for (const auto& [entry, error] : std::vector<std::pair<std::string, std::string>>{
           {"", "must begin with 'a' (accept) or 'r' (reject)"},
           {"x|.*|", "must begin with 'a' (accept) or 'r' (reject)"},
           {"A|.*|", "must begin with 'a' (accept) or 'r' (reject)"},
           {"a", "has no delimiter after the 'a' or 'r'"},
           {"a|", "does not end with the closing delimiter '|'"},
           {"a|x", "does not end with the closing delimiter '|'"},
           {"a(x(", "does not end with the closing delimiter ')'"}}) {
    Expected<FilterPattern> pattern = parse_filter_pattern(entry);
    ASSERT_FALSE(pattern.ok()) << entry;
    EXPECT_EQ(pattern.error().message, error) << entry;
  }
}

struct DialectCase {
  std::string regex;
  std::string name;
  bool matches;
};

TEST(DeviceFilterDialect, MatchesAsLvm2Does) {
  for (const DialectCase& c :
       std::vector<DialectCase>{{"loop0", "/dev/loop0", true},
                                {"^loop", "/dev/loop0", false},
                                {"^/dev/loop0$", "/dev/loop0", true},
                                {"loop0$x", "/dev/loop0", false},
                                {"LOOP", "/dev/loop0", false},
                                {"lo{1}op", "/dev/loop0", false},
                                {"lo{1}op", "/dev/lo{1}op", true},
                                {"loo{p", "/dev/loo{p", true},
                                {"\\d", "/dev/loop0", true},
                                {"loop\\d", "/dev/loop0", false},
                                {"loop\\d", "/dev/loopd", true},
                                {"loop[[:digit:]]", "/dev/loop0", false},
                                {"loop[[:digit:]]", "/dev/loop:]", true},
                                {"loop[0-9]", "/dev/loop0", true},
                                {"loop[9-0]", "/dev/loop0", true},
                                {"[-a]", "/dev/disk/by-id/tp-link", true},
                                {"[^a-z/]", "/dev/loop0", true},
                                {"^/dev/loop[^1]$", "/dev/loop0", true},
                                {"[]loop]", "/dev/loop0", false},
                                {"[\\]]", "/dev/x]", true},
                                {"o**p", "/dev/loop0", true},
                                {"lo+?p", "/dev/lp", true},
                                {"lo??p", "/dev/loop", false},
                                {"loop?0", "/dev/loop0", true},
                                {"\\.", "/dev/loop0", false},
                                {"\\.", "/dev/a.b", true},
                                {"\\/dev", "/dev/loop0", true},
                                {"\\n", "/dev/n", false},
                                {"./dev/loop0", "/dev/loop0", true},
                                {"loop0.", "/dev/loop0", true},
                                {"[^x]/dev/loop0", "/dev/loop0", true},
                                {"a^b", "/dev/a^b", false},
                                {"^*/dev", "/dev/sda", true},
                                {"(sd|vd)[a-c]$", "/dev/vdb", true},
                                {"(sd|vd)[a-c]$", "/dev/hdb", false},
                                {" ", "/dev/loop0", false},
                                {"\xc3\xa9", "/dev/caf\xc3\xa9", true},
                                {"[\xc3][\xa9]", "/dev/caf\xc3\xa9", true}}) {
    EXPECT_EQ(matches(c.regex, c.name), c.matches) << c.regex << " on " << c.name;
  }
}

TEST(DeviceFilterDialect, RejectsWhatLvm2CannotParse) {
  for (const auto& [regex, error] : std::vector<std::pair<std::string, std::string>>{
           {"", "is empty"},
           {"x|", "ends with an empty alternative"},
           {"x||y", "an empty alternative before '|'"},
           {"(a|)", "an empty group or alternative"},
           {"()", "an empty group or alternative"},
           {"*x", "'*' has nothing before it to repeat"},
           {"(?:x)", "'?' has nothing before it to repeat"},
           {"(x", "'(' is not closed"},
           {"[x", "'[' is not closed"},
           {"[a-]", "'[' is not closed"},
           {"x\\", "ends with a lone backslash"},
           {"x)", "')' closes no '('"}}) {
    Expected<std::string> translated = translate_lvm_regex(regex);
    ASSERT_FALSE(translated.ok()) << regex << " -> " << *translated;
    EXPECT_NE(translated.error().message.find(error), std::string::npos)
        << regex << ": " << translated.error().message;
  }
}

struct NamesCase {
  std::vector<std::string> filter;
  bool accepted;
};

TEST(DeviceFilterNames, FirstMatchingEntryPerNameAndAnyAcceptWins) {
  for (const NamesCase& c : std::vector<NamesCase>{
           {{"a|.*|"}, true},
           {{"r|loop0|"}, false},  // the symlink matches nothing, which does not accept
           {{"r|loop0|", "a|.*|"}, true},
           {{"a|tp-link|", "r|.*|"}, true},
           {{"r|.*|", "a|tp-link|"}, false},
           {{"r|tp-link|"}, false},
           {{"r|tp-link|", "a|loop|"}, true},
           {{"a|loop|", "r|tp-link|"}, true},
           {{"r|nomatch|"}, true},
           {{"a|nomatch|"}, true},
           {{"r|^/dev/loop0$|", "r|by-id|"}, false},
           {{}, true}}) {
    const RegexFilter filter = compile(c.filter);
    std::vector<std::string> reversed(kLoopNames.rbegin(), kLoopNames.rend());
    EXPECT_EQ(filter.check(kLoopNames).accepted, c.accepted) << ::testing::PrintToString(c.filter);
    EXPECT_EQ(filter.check(reversed).accepted, c.accepted) << ::testing::PrintToString(c.filter);
  }
}

TEST(DeviceFilterNames, SaysWhichEntryAndNameDecided) {
  const FilterVerdict accepted = compile({"r|loop0|", "a|by-id|"}).check(kLoopNames);
  EXPECT_TRUE(accepted.accepted);
  EXPECT_EQ(accepted.setting, "devices/filter");
  EXPECT_EQ(accepted.entry, 1);
  EXPECT_EQ(accepted.name, 1);
  const FilterVerdict rejected = compile({"a|nomatch|", "r|by-id|"}).check(kLoopNames);
  EXPECT_FALSE(rejected.accepted);
  EXPECT_EQ(rejected.entry, 1);
  EXPECT_EQ(rejected.name, 1);
  const FilterVerdict none = compile({"r|nomatch|"}).check(kLoopNames);
  EXPECT_TRUE(none.accepted);
  EXPECT_EQ(none.entry, -1);
  EXPECT_EQ(none.setting, "");
}

DeviceFilter compile_both(const std::vector<std::string>& global,
                          const std::vector<std::string>& filter) {
  Expected<DeviceFilter> compiled = DeviceFilter::compile(entries(global), entries(filter));
  EXPECT_TRUE(compiled.ok()) << compiled.error().message;
  return compiled.ok() ? std::move(compiled.value()) : DeviceFilter();
}

TEST(DeviceFilterBoth, ADeviceMustPassGlobalFilterAndFilter) {
  EXPECT_FALSE(compile_both({"r|tp-link|"}, {"a|tp-link|"}).accepts(kLoopNames));
  EXPECT_FALSE(compile_both({"r|by-id|"}, {"a|loop|"}).accepts(kLoopNames));
  EXPECT_FALSE(compile_both({"a|loop|"}, {"r|.*|"}).accepts(kLoopNames));
  EXPECT_TRUE(compile_both({"a|loop|"}, {"a|.*|"}).accepts(kLoopNames));
  EXPECT_TRUE(compile_both({}, {}).accepts(kLoopNames));
  EXPECT_TRUE(DeviceFilter().accepts(kLoopNames));
  const FilterVerdict verdict = compile_both({"r|by-id|"}, {"a|loop|"}).check(kLoopNames);
  EXPECT_EQ(verdict.setting, "devices/global_filter");
  EXPECT_EQ(compile_both({"a|loop|"}, {"r|nomatch|"}).check(kLoopNames).setting,
            "devices/global_filter");
  EXPECT_EQ(compile_both({"a|loop|"}, {"a|by-id|"}).check(kLoopNames).setting, "devices/filter");
}

TEST(DeviceFilterBoth, ErrorsNameTheSettingTheEntryAndWhere) {
  Expected<DeviceFilter> bad_regex = DeviceFilter::compile(
      std::vector<FilterEntry>{{"a|.*|", "lvm.conf:3:2"}, {"r|x||y|", "lvm.conf:3:2"}}, {});
  ASSERT_FALSE(bad_regex.ok());
  EXPECT_EQ(bad_regex.error().message,
            "lvm.conf:3:2: devices/global_filter entry 2 \"r|x||y|\": regular expression "
            "\"x||y\": an empty alternative before '|'");
  Expected<DeviceFilter> bad_entry =
      DeviceFilter::compile({}, std::vector<FilterEntry>{{"a/x|", ""}});
  ASSERT_FALSE(bad_entry.ok());
  EXPECT_EQ(bad_entry.error().message,
            "devices/filter entry 1 \"a/x|\": does not end with the closing delimiter '/'");
}

// The devices file.

const char kPvid[] = "twodadbHkQHldEtfU1TfG6B18w5upCBk";
const char kDashedPvid[] = "twodad-bHkQ-HldE-tfU1-TfG6-B18w-5upCBk";

TEST(DevicesFileParse, ReadsLinesAsLvm2Does) {
  const DevicesFile file = parse_devices_file(
      "# LVM uses devices listed in this file.\n"
      "# Created by LVM command vgimportdevices pid 1 at Mon Jan  1 00:00:00 2024\n"
      "SYSTEMID=host1\n"
      "VERSION=1.1.7\n"
      "IDTYPE=sys_wwid IDNAME=naa.600a0b80 DEVNAME=/dev/sdb1 PVID=" +
      std::string(kPvid) +
      " PART=1\n"
      "IDTYPE= devname   IDNAME=  /dev/vdc    DEVNAME=/dev/vdc PVID=.\n"
      "  # not a comment, but no IDTYPE either\n"
      "IDTYPE=devname\tIDNAME=/dev/vdd DEVNAME=/dev/vdd\n"
      "DEVNAME=/dev/vde PVID=x\n"
      "\n"
      "IDTYPE=sys_serial IDNAME=S3Z9 PART=x2");
  EXPECT_EQ(file.system_id, "host1");
  EXPECT_EQ(file.version, "1.1.7");
  ASSERT_EQ(file.entries.size(), 4u);
  const DevicesFileEntry& wwid = file.entries[0];
  EXPECT_EQ(wwid.idtype, "sys_wwid");
  EXPECT_EQ(wwid.idname, "naa.600a0b80");
  EXPECT_EQ(wwid.devname, "/dev/sdb1");
  EXPECT_EQ(wwid.pvid, kPvid);
  EXPECT_EQ(wwid.part, 1);
  EXPECT_EQ(wwid.line, 5);
  EXPECT_EQ(file.entries[1].idtype, "devname");
  EXPECT_EQ(file.entries[1].idname, "/dev/vdc");
  EXPECT_EQ(file.entries[1].pvid, "");
  EXPECT_EQ(file.entries[2].idtype, "devname\tIDNAME=/dev/vdd");
  EXPECT_EQ(file.entries[2].idname, "/dev/vdd");
  EXPECT_EQ(file.entries[3].idtype, "sys_serial");
  EXPECT_EQ(file.entries[3].part, 0);
  EXPECT_EQ(file.entries[3].line, 11);
}

TEST(DevicesFileParse, NormalizesPvids) {
  EXPECT_EQ(normalize_pvid(kDashedPvid), kPvid);
  EXPECT_EQ(normalize_pvid(kPvid), kPvid);
}

DeviceIdentity device(std::vector<std::string> names, std::optional<std::string> pvid = {},
                      std::vector<std::pair<std::string, std::string>> ids = {}) {
  DeviceIdentity identity;
  identity.names = std::move(names);
  identity.partition = 0;
  identity.pvid = std::move(pvid);
  identity.ids = std::move(ids);
  return identity;
}

DevicesFileMatch match(const std::string& line, const DeviceIdentity& identity,
                       std::string_view search = "auto") {
  return match_devices_file(parse_devices_file(line), identity, search).match;
}

TEST(DevicesFileMatch, ByDevnameAndPvid) {
  const std::string entry =
      "IDTYPE=devname IDNAME=/dev/loop0 DEVNAME=/dev/loop0 PVID=" + std::string(kPvid);
  EXPECT_EQ(match(entry, device(kLoopNames)), DevicesFileMatch::kByDevname);
  EXPECT_EQ(match(entry, device(kLoopNames, kPvid)), DevicesFileMatch::kByDevname);
  EXPECT_EQ(match(entry, device(kLoopNames, kDashedPvid)), DevicesFileMatch::kByDevname);
  EXPECT_EQ(match(entry, device(kLoopNames, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")),
            DevicesFileMatch::kNotListed);
  EXPECT_EQ(match(entry, device(kLoopNames, "")), DevicesFileMatch::kNotListed);
  EXPECT_EQ(match(entry, device({"/dev/loop1"})), DevicesFileMatch::kNotListed);
  // lvm2 compares IDNAME with the device's own name, not with its symlinks.
  EXPECT_EQ(match("IDTYPE=devname IDNAME=/dev/disk/by-id/tp-link PVID=.", device(kLoopNames)),
            DevicesFileMatch::kNotListed);
  EXPECT_EQ(match("IDTYPE=devname IDNAME=/dev/mapper/vg-lv PVID=.",
                  device({"/dev/dm-3", "/dev/mapper/vg-lv"})),
            DevicesFileMatch::kByDevname);
  // A PVID written with dashes is not the device's PVID for lvm2 2.03.16.
  EXPECT_EQ(match("IDTYPE=devname IDNAME=/dev/loop0 PVID=" + std::string(kDashedPvid),
                  device(kLoopNames, kPvid)),
            DevicesFileMatch::kNotListed);
  // Another partition; with a stable id of its own the device is not searched for the PVID.
  EXPECT_EQ(match(entry + " PART=1", device(kLoopNames, kPvid, {{"loop_file", "/tmp/pv.img"}})),
            DevicesFileMatch::kNotListed);
  DeviceIdentity partition_unknown = device(kLoopNames, kPvid);
  partition_unknown.partition.reset();
  EXPECT_EQ(match(entry + " PART=1", partition_unknown), DevicesFileMatch::kByDevname);
  EXPECT_EQ(match("IDTYPE=devname\tIDNAME=/dev/loop0 PVID=.", device(kLoopNames)),
            DevicesFileMatch::kNotListed);
}

TEST(DevicesFileMatch, RenamedDevicesAreFoundByPvid) {
  const std::string entry =
      "IDTYPE=devname IDNAME=/dev/loop5 DEVNAME=/dev/loop5 PVID=" + std::string(kPvid);
  EXPECT_EQ(match(entry, device(kLoopNames, kDashedPvid)), DevicesFileMatch::kByPvid);
  EXPECT_EQ(match(entry, device(kLoopNames)), DevicesFileMatch::kNotListed);
  EXPECT_EQ(match(entry, device(kLoopNames, kPvid), "none"), DevicesFileMatch::kNotListed);
  const DeviceIdentity stable = device(kLoopNames, kPvid, {{"loop_file", "/tmp/pv.img"}});
  EXPECT_EQ(match(entry, stable), DevicesFileMatch::kNotListed);
  EXPECT_EQ(match(entry, stable, "all"), DevicesFileMatch::kByPvid);
}

TEST(DevicesFileMatch, ByIdTheCallerPasses) {
  const std::string entry =
      "IDTYPE=sys_wwid IDNAME=naa.6001 DEVNAME=/dev/sdb PVID=" + std::string(kPvid) + " PART=1";
  DeviceIdentity sdb1 = device({"/dev/sdb1"}, kPvid, {{"sys_wwid", "naa.6001"}});
  sdb1.partition = 1;
  EXPECT_EQ(match(entry, sdb1), DevicesFileMatch::kById);
  sdb1.ids = {{"sys_wwid", "naa.9999"}};
  EXPECT_EQ(match(entry, sdb1), DevicesFileMatch::kNotListed);
  sdb1.partition = 2;
  sdb1.ids = {{"sys_wwid", "naa.6001"}};
  EXPECT_EQ(match(entry, sdb1), DevicesFileMatch::kNotListed);
  EXPECT_EQ(match("IDTYPE=nvme_uuid IDNAME=x PVID=" + std::string(kPvid),
                  device({"/dev/nvme0n1"}, kPvid, {{"nvme_uuid", "x"}})),
            DevicesFileMatch::kNotListed);
}

TEST(DevicesFileMatch, UnverifiedWhenTheCallerHasNoSuchId) {
  const std::string entry =
      "IDTYPE=sys_wwid IDNAME=naa.6001 DEVNAME=/dev/sdb PVID=" + std::string(kPvid);
  EXPECT_EQ(match(entry, device({"/dev/sdc"}, kDashedPvid)), DevicesFileMatch::kUnverified);
  EXPECT_EQ(match(entry, device({"/dev/sdb"}, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy")),
            DevicesFileMatch::kNotListed);
  EXPECT_EQ(match(entry, device({"/dev/sdb"})), DevicesFileMatch::kUnverified);
  EXPECT_EQ(match(entry, device({"/dev/sdc"})), DevicesFileMatch::kNotListed);
}

class DevicesFileSelection : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "devices_file_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ / "devices");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary | std::ios::trunc) << text;
  }

  DeviceSelection load() {
    Expected<LvmConfig> config = LvmConfig::load(dir_);
    EXPECT_TRUE(config.ok()) << config.error().message;
    Expected<DeviceSelection> selection =
        DeviceSelection::load(config.ok() ? *config : LvmConfig(dir_));
    EXPECT_TRUE(selection.ok()) << selection.error().message;
    return selection.ok() ? std::move(selection.value()) : DeviceSelection();
  }

  fs::path dir_;
};

TEST_F(DevicesFileSelection, FiltersWithoutADevicesFileTheFileAlone) {
  write("lvm.conf", "devices { filter = [ \"r|.*|\" ] use_devicesfile = 0 }\n");
  write("devices/system.devices", "IDTYPE=devname IDNAME=/dev/loop0 PVID=.\n");
  DeviceSelection off = load();
  EXPECT_FALSE(off.uses_devices_file());
  EXPECT_FALSE(off.selects(device(kLoopNames)));
  EXPECT_TRUE(off.fingerprint().files.empty());

  write("lvm.conf", "devices { filter = [ \"r|.*|\" ] use_devicesfile = 1 }\n");
  DeviceSelection on = load();
  ASSERT_TRUE(on.uses_devices_file());
  EXPECT_EQ(on.devices_file()->entries.size(), 1u);
  EXPECT_TRUE(on.selects(device(kLoopNames)));  // the filter is ignored
  EXPECT_FALSE(on.selects(device({"/dev/loop1"})));
  EXPECT_FALSE(on.changed());
  fs::remove(dir_ / "devices" / "system.devices");
  EXPECT_TRUE(on.changed());

  DeviceSelection absent = load();
  EXPECT_FALSE(absent.uses_devices_file());
  EXPECT_FALSE(absent.selects(device(kLoopNames)));  // the filter again
  ASSERT_EQ(absent.fingerprint().files.size(), 1u);
  EXPECT_FALSE(absent.fingerprint().files[0].exists());
  write("devices/system.devices", "");
  EXPECT_TRUE(absent.changed());
  DeviceSelection empty = load();
  EXPECT_TRUE(empty.uses_devices_file());
  EXPECT_FALSE(empty.selects(device(kLoopNames)));
}

}  // namespace
}  // namespace thinpool::lvm
