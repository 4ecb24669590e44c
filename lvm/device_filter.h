// lvm2's regex device filters: devices/global_filter and devices/filter in lvm.conf, which decide
// which block devices lvm2 looks at (lib/filters/filter-regex.c and libdm/regex/ in lvm2 2.03.16;
// every rule below was also checked against that release's `pvs`).
//
// An entry is "a" (accept) or "r" (reject), a delimiter, a regular expression and the delimiter
// again: "a|^/dev/sd|", "r/loop/". The delimiters "(", "[" and "{" close with ")", "]" and "}";
// any other character closes with itself. lvm2 only checks that the last character is the
// closing delimiter, so "a|x|y|" is the alternation "x|y" (_extract_pattern).
//
// A device has several names: its /dev node and every symlink to it (/dev/disk/by-id/...,
// /dev/mapper/...). lvm2 looks at the names in order and, for each, finds the first entry of
// the list whose expression matches it anywhere (an unanchored search). An accept entry accepts
// the device at once; a reject entry marks it rejected and the next name is looked at. So a
// device is accepted when any of its names is first matched by an accept entry, rejected when
// some name is first matched by a reject entry and none by an accept entry, and accepted when no
// entry matches any name (_accept_p). global_filter and filter are separate lists and a device
// must pass both (filter-composite.c). When the devices file is in use, lvm2 2.03.16 ignores both
// lists (it warns "Please remove the lvm.conf filter, it is ignored with the devices file").
//
// The expressions are lvm2's own dialect (libdm/regex/parse_rx.c), compiled here with std::regex
// in its ECMAScript grammar after a rewrite that keeps lvm2's meaning: ECMAScript because it has
// \xHH escapes and (?:...) groups, so every literal character and every bracket set can be spelled
// exactly, and its '.' excludes '\n' and '\r' as lvm2's does (POSIX extended has neither escape).
// What an operator who knows other regex dialects might trip on, all kept as lvm2 has it:
//   - '{' and '}' are plain characters: "sd{2}" matches the text "sd{2}", not "sdd";
//   - a backslash only escapes: "\d", "\w", "\s" and "\1" mean the letters d, w, s and the
//     digit 1 ("\n", "\r", "\t" are newline, return, tab);
//   - brackets know no classes: "[[:digit:]]" is the set of '[', ':', 'd', 'i', 'g', 't'
//     followed by a ']'; a reversed range "[9-0]" is the range 0-9; "[]" matches nothing;
//   - stacked repetitions "x**", "x+?" are allowed and mean what they would as nested groups;
//   - '^' and '$' are characters that lvm2 puts before and after the name, so '.' and a negated
//     set match them too: "loop0." and "[^x]/dev/loop0" both match "/dev/loop0";
//   - matching is case-sensitive and byte-wise.
// lvm2's parser rejects, and so does this one: an empty expression or alternative ("a||",
// "x||y", "(a|)"), a repetition with nothing before it ("*x", "(?:x)"), an unclosed '(' or '['
// and a trailing backslash. One difference is deliberate: lvm2 silently ignores everything after
// an unmatched ')' (including the entries written before it in the list); that is an error here.
#pragma once

#include <cstddef>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace thinpool::lvm {

// One entry of a filter list and where it was written ("/etc/lvm/lvm.conf:12:5"; may be empty).
struct FilterEntry {
  std::string text;
  std::string origin;
};

enum class FilterAction { kAccept, kReject };

struct FilterPattern {
  FilterAction action = FilterAction::kAccept;
  std::string regex;  // lvm2's dialect, between the delimiters
};

// Splits an entry: "a|^/dev/sd|" -> accept, "^/dev/sd". Errors say what is wrong with it.
Expected<FilterPattern> parse_filter_pattern(std::string_view entry);

// An lvm2 regular expression rewritten in std::regex's ECMAScript grammar with the same
// meaning (see above), or why lvm2 would refuse it.
Expected<std::string> translate_lvm_regex(std::string_view regex);

// What a list decided for a device, and why.
struct FilterVerdict {
  bool accepted = true;
  std::string setting;  // the list that decided ("devices/filter"); empty when none did
  int entry = -1;       // index of the deciding entry in that list; -1 when no entry matched
  int name = -1;        // index of the name it matched
};

// One list (global_filter or filter), compiled.
class RegexFilter {
 public:
  RegexFilter() = default;  // an empty list: accepts every device

  // `setting` names the list in errors and verdicts: "devices/filter". An error names the
  // setting, the entry (1-based) and where it was written: "/etc/lvm/lvm.conf:3:5:
  // devices/filter entry 2 \"x|.*|\": must begin with 'a' (accept) or 'r' (reject)".
  static Expected<RegexFilter> compile(std::string setting, std::span<const FilterEntry> entries);

  FilterVerdict check(std::span<const std::string> names) const;

  const std::string& setting() const { return setting_; }
  size_t size() const { return patterns_.size(); }

 private:
  struct CompiledPattern {
    FilterAction action;
    std::regex regex;
  };
  std::string setting_;
  std::vector<CompiledPattern> patterns_;
};

// global_filter, then filter: a device must pass both.
class DeviceFilter {
 public:
  DeviceFilter() = default;  // accepts every device, as lvm2's defaults ["a|.*|"] do

  static Expected<DeviceFilter> compile(std::span<const FilterEntry> global_filter,
                                        std::span<const FilterEntry> filter);

  // The verdict of the first list that rejects the device, else the accepting verdict of
  // filter (or of global_filter when filter matched no name).
  FilterVerdict check(std::span<const std::string> names) const;
  bool accepts(std::span<const std::string> names) const { return check(names).accepted; }

 private:
  RegexFilter global_filter_;
  RegexFilter filter_;
};

}  // namespace thinpool::lvm
