// A parser for LVM's text configuration format: the language of volume group metadata, both
// the copy in a PV's metadata area and the files `vgcfgbackup` writes to /etc/lvm/backup.
//
//   # a comment, to the end of the line
//   vg0 {                                   # a section: name { items }
//       id = "KcWnEh-..."                   # key = value
//       seqno = 7                           # integers are 64-bit signed, decimal
//       status = ["RESIZEABLE", "READ", "WRITE"]   # arrays, possibly over several lines
//       description = "say \"hi\" \\ bye"    # double quotes: \" and \\ are escapes
//       other = 'single quoted, no escapes'
//       ratio = 1.5                         # floats
//       mode = bare_word                    # unquoted strings (values only)
//   }
//
// The grammar and its corner cases follow lvm2's libdm-config.c: a NUL byte ends the input
// (the text in a metadata area is NUL-terminated), commas between array items are optional,
// keys may be quoted, a key "a/b" means section a, key b, a section named twice is merged and
// a value set twice keeps the last one. Where lvm2 quietly guesses, this parser reports an
// error instead: integers that overflow, numbers with a leading zero (lvm2 reads them as
// octal), a key used both as a section and as a value, and malformed numbers such as "12ab".
// Bare words also end at ',', '[', ']' and quotes, which lvm2 never writes inside one.
//
// Errors carry line:column (1-based, columns count bytes) and quote the offending line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"

namespace thinpool::lvm {

struct SourcePosition {
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes
};

// One item of a value: an integer, a float, or a string (quoted or bare).
using ConfigScalar = std::variant<int64_t, double, std::string>;

struct ConfigValue {
  std::vector<ConfigScalar> items;  // exactly one unless is_array
  bool is_array = false;
};

// A node of the tree: the root (key ""), a section `key { ... }` or a setting `key = value`.
struct ConfigNode {
  std::string key;
  std::string path;  // '/'-joined keys from the root, for error messages: "vg0/logical_volumes"
  SourcePosition position;
  std::optional<ConfigValue> value;  // set for `key = value`
  std::vector<ConfigNode> children;  // a section's items in file order (none for a setting)
  // A section whose items went to a ClosedSectionHandler: an empty stand-in, with no path.
  bool handed_over = false;

  bool is_section() const { return !value.has_value(); }

  // The child called `key` (no path splitting), or nullptr.
  const ConfigNode* find(std::string_view key) const;

  // Typed access to a child setting. Errors name the path and position and say what was found
  // instead: "vg0/logical_volumes/pool/segment1/transaction_id (line 40:4): expected an
  // integer, found string \"x\"", or "vg0/physical_volumes/pv0: missing \"pe_count\"".
  Expected<int64_t> get_int(std::string_view key) const;
  // Like get_int, and also rejects negative values.
  Expected<uint64_t> get_uint(std::string_view key) const;
  Expected<std::string> get_string(std::string_view key) const;
  // An array of strings (an empty array and a single string are accepted too).
  Expected<std::vector<std::string>> get_string_list(std::string_view key) const;
  // The child section called `key`.
  Expected<const ConfigNode*> get_section(std::string_view key) const;
};

// Parses `text` into a tree whose root has key "" and holds the top-level items.
Expected<ConfigNode> parse_config(std::string_view text);

// What a ClosedSectionHandler did with the section it was given.
enum class SectionHandover { kKept, kTaken };

// Called as each section closes, with the sections that hold it (the root first, then each
// section a key such as "a/b" names on the way). kTaken: the handler has read what it needs from
// `section`, and the parser frees its items, leaving an empty stand-in (`handed_over`) so that
// its key still counts as a section.
using ClosedSectionHandler = std::function<SectionHandover(
    const std::vector<const ConfigNode*>& parents, const ConfigNode& section)>;

// parse_config, handing each section to `handler` as it closes, so that the tree never holds all
// the items of a large section at once (parse_volume_group takes each LV of a VG with 10,000
// LVs). lvm2 merges a section named twice; when the text opens a section that was taken again,
// or sets a key below it, this parse cannot merge and stops: the result is std::nullopt, and the
// caller parses the text again with parse_config. Errors are those of parse_config.
//
// `size_hint`, when given, is asked as each section opens how many items to make room for (the
// others, as for a whole parse, by doubling): parse_volume_group counts the LV sections first, so
// that the stand-ins of 10,000 LVs are not copied into twice the room half way (1.2 MB beside
// 2.4 MB at the parse's peak).
using SectionSizeHint =
    std::function<size_t(const std::vector<const ConfigNode*>& parents, const ConfigNode& section)>;
Expected<std::optional<ConfigNode>> parse_config(std::string_view text,
                                                 const ClosedSectionHandler& handler,
                                                 const SectionSizeHint& size_hint = {});

// "integer 5", "string \"x\"", "array of 3 items", "section": what a node holds, for errors.
std::string describe_node(const ConfigNode& node);

// `text` made safe to quote in a one-line message: '"' and '\\' escaped, control bytes other
// than tab and bytes >= 0x7f written as \xNN.
std::string escape_for_message(std::string_view text);

}  // namespace thinpool::lvm
