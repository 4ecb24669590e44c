#include "lvm/device_filter.h"

#include <fmt/format.h>

#include <algorithm>
#include <bitset>
#include <utility>

#include "lvm/config_parser.h"

namespace thinpool::lvm {
namespace {

// lvm2 matches "^name$" with '^' and '$' as these two bytes (libdm/regex/parse_rx.h HAT_CHAR and
// DOLLAR_CHAR); the rewritten expression is searched for in the name framed the same way.
constexpr char kStartOfName = '\x02';
constexpr char kEndOfName = '\x03';

using ByteSet = std::bitset<256>;

bool is_repetition(char c) {
  return c == '*' || c == '+' || c == '?';
}

bool is_plain(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// A backslash takes the next character literally, except n, r and t (parse_rx.c _rx_get_token).
unsigned char unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    default:
      return static_cast<unsigned char>(c);
  }
}

void append_byte(std::string& out, unsigned char c) {
  if (is_plain(c)) {
    out += static_cast<char>(c);
  } else {
    out += fmt::format("\\x{:02x}", c);
  }
}

// A set as an ECMAScript class of \xHH runs. Runs never cross 0x7f/0x80: std::regex compares
// signed chars, so a range from below 0x80 to above it would be reversed.
std::string format_set(const ByteSet& set) {
  std::string out = "[";
  size_t c = 0;
  while (c < 256) {
    if (!set.test(c)) {
      ++c;
      continue;
    }
    size_t end = c;
    while (end + 1 < 256 && end + 1 != 0x80 && set.test(end + 1)) {
      ++end;
    }
    append_byte(out, static_cast<unsigned char>(c));
    if (end > c) {
      out += '-';
      append_byte(out, static_cast<unsigned char>(end));
    }
    c = end + 1;
  }
  return out + "]";
}

Error regex_error(std::string_view regex, std::string_view what) {
  return Error::parse(
      fmt::format("regular expression \"{}\": {}", escape_for_message(regex), what));
}

// The bracket expression that starts after the '[' at `pos`, read as lvm2 reads it: '^' first
// negates (and never matches byte 0), backslash escapes, "x-y" is a range in either order, '-'
// after nothing is literal, and the first ']' closes, even right after the '['.
Expected<ByteSet> read_bracket(std::string_view regex, size_t& pos) {
  ByteSet set;
  bool negate = false;
  if (pos < regex.size() && regex[pos] == '^') {
    negate = true;
    ++pos;
  }
  unsigned char previous = 0;
  while (pos < regex.size() && regex[pos] != ']') {
    unsigned char c = 0;
    bool range = false;
    if (regex[pos] == '\\') {
      if (++pos == regex.size()) {
        break;
      }
      c = unescape(regex[pos]);
    } else if (regex[pos] == '-' && previous != 0) {
      range = true;
      if (++pos == regex.size()) {
        return regex_error(regex, "a range in '[...]' has no end");
      }
      c = static_cast<unsigned char>(regex[pos]);
    } else {
      c = static_cast<unsigned char>(regex[pos]);
    }
    const unsigned char low = range ? std::min(previous, c) : c;
    const unsigned char high = range ? std::max(previous, c) : c;
    for (unsigned int b = low; b <= high; ++b) {
      set.set(b);
    }
    previous = high;
    ++pos;
  }
  if (pos >= regex.size()) {
    return regex_error(regex, "'[' is not closed");
  }
  ++pos;  // the ']'
  if (negate) {
    set.flip();
    set.reset(0);
  }
  return set;
}

struct Translation {
  std::string out;
  int depth = 0;                  // open groups
  bool alternative_empty = true;  // nothing yet since the last '(' or '|'
  bool have_term = false;         // the last thing written can be repeated
};

void add_term(Translation& t, std::string_view text) {
  t.out += text;
  t.alternative_empty = false;
  t.have_term = true;
}

// One item of the expression at `pos`: a group bracket, '|', a repetition run or a term.
Status translate_item(std::string_view regex, size_t& pos, Translation& t) {
  const char c = regex[pos];
  if (is_repetition(c)) {
    if (!t.have_term) {
      return regex_error(regex, fmt::format("'{}' has nothing before it to repeat", c));
    }
    // A run of repetitions nests ("x+?" is "(x+)?"): at least once only if all are '+', at
    // most once only if all are '?'.
    bool all_plus = true;
    bool all_question = true;
    for (; pos < regex.size() && is_repetition(regex[pos]); ++pos) {
      all_plus = all_plus && regex[pos] == '+';
      all_question = all_question && regex[pos] == '?';
    }
    t.out += all_plus ? '+' : (all_question ? '?' : '*');
    t.have_term = false;
    return {};
  }
  ++pos;
  switch (c) {
    case '(':
      t.out += "(?:";
      ++t.depth;
      t.alternative_empty = true;
      t.have_term = false;
      return {};
    case ')':
      if (t.depth == 0) {
        return regex_error(regex, "')' closes no '(' (lvm2 would ignore the rest of the list)");
      }
      if (t.alternative_empty) {
        return regex_error(regex, "an empty group or alternative");
      }
      --t.depth;
      add_term(t, ")");
      return {};
    case '|':
      if (t.alternative_empty) {
        return regex_error(regex, "an empty alternative before '|'");
      }
      t.out += '|';
      t.alternative_empty = true;
      t.have_term = false;
      return {};
    case '[': {
      Expected<ByteSet> set = read_bracket(regex, pos);
      if (!set.ok()) {
        return set.error();
      }
      add_term(t, format_set(*set));
      return {};
    }
    case '.':
      add_term(t, ".");
      return {};
    case '^':
    case '$': {
      std::string marker;
      append_byte(marker, c == '^' ? kStartOfName : kEndOfName);
      add_term(t, marker);
      return {};
    }
    case '\\': {
      if (pos == regex.size()) {
        return regex_error(regex, "ends with a lone backslash");
      }
      std::string escaped;
      append_byte(escaped, unescape(regex[pos++]));
      add_term(t, escaped);
      return {};
    }
    default: {
      std::string literal;
      append_byte(literal, static_cast<unsigned char>(c));
      add_term(t, literal);
      return {};
    }
  }
}

Error entry_error(std::string_view setting, size_t index, const FilterEntry& entry,
                  const Error& error) {
  return Error::parse(fmt::format("{}{}{} entry {} \"{}\": {}", entry.origin,
                                  entry.origin.empty() ? "" : ": ", setting, index + 1,
                                  escape_for_message(entry.text), error.message));
}

}  // namespace

Expected<FilterPattern> parse_filter_pattern(std::string_view entry) {
  FilterPattern pattern;
  if (entry.empty() || (entry.front() != 'a' && entry.front() != 'r')) {
    return Error::parse("must begin with 'a' (accept) or 'r' (reject)");
  }
  pattern.action = entry.front() == 'a' ? FilterAction::kAccept : FilterAction::kReject;
  if (entry.size() < 2) {
    return Error::parse("has no delimiter after the 'a' or 'r'");
  }
  const char open = entry[1];
  const char close = open == '(' ? ')' : open == '[' ? ']' : open == '{' ? '}' : open;
  const std::string_view rest = entry.substr(2);
  if (rest.empty() || rest.back() != close) {
    return Error::parse(fmt::format("does not end with the closing delimiter '{}'",
                                    escape_for_message(std::string_view(&close, 1))));
  }
  pattern.regex = std::string(rest.substr(0, rest.size() - 1));
  return pattern;
}

Expected<std::string> translate_lvm_regex(std::string_view regex) {
  Translation t;
  size_t pos = 0;
  while (pos < regex.size()) {
    if (Status status = translate_item(regex, pos, t); !status.ok()) {
      return status.error();
    }
  }
  if (t.depth > 0) {
    return regex_error(regex, "'(' is not closed");
  }
  if (t.alternative_empty) {
    return regex_error(regex, regex.empty() ? "is empty" : "ends with an empty alternative");
  }
  return std::move(t.out);
}

Expected<RegexFilter> RegexFilter::compile(std::string setting,
                                           std::span<const FilterEntry> entries) {
  RegexFilter filter;
  filter.setting_ = std::move(setting);
  for (size_t i = 0; i < entries.size(); ++i) {
    Expected<FilterPattern> pattern = parse_filter_pattern(entries[i].text);
    if (!pattern.ok()) {
      return entry_error(filter.setting_, i, entries[i], pattern.error());
    }
    Expected<std::string> ecmascript = translate_lvm_regex(pattern->regex);
    if (!ecmascript.ok()) {
      return entry_error(filter.setting_, i, entries[i], ecmascript.error());
    }
    try {
      filter.patterns_.push_back(
          {pattern->action, std::regex(*ecmascript, std::regex::ECMAScript | std::regex::nosubs)});
    } catch (const std::regex_error& e) {
      return entry_error(filter.setting_, i, entries[i],
                         regex_error(pattern->regex, fmt::format("std::regex: {}", e.what())));
    }
  }
  return filter;
}

FilterVerdict RegexFilter::check(std::span<const std::string> names) const {
  FilterVerdict verdict;
  std::string framed;
  for (size_t n = 0; n < names.size(); ++n) {
    framed.clear();
    framed += kStartOfName;
    framed += names[n];
    framed += kEndOfName;
    for (size_t p = 0; p < patterns_.size(); ++p) {
      if (!std::regex_search(framed, patterns_[p].regex)) {
        continue;
      }
      // The first entry that matches a name decides for that name: an accept accepts the
      // device, a reject only counts if no other name is accepted.
      const bool accept = patterns_[p].action == FilterAction::kAccept;
      if (accept || verdict.entry < 0) {
        verdict = {accept, setting_, static_cast<int>(p), static_cast<int>(n)};
      }
      if (accept) {
        return verdict;
      }
      break;
    }
  }
  return verdict;
}

Expected<DeviceFilter> DeviceFilter::compile(std::span<const FilterEntry> global_filter,
                                             std::span<const FilterEntry> filter) {
  DeviceFilter device_filter;
  Expected<RegexFilter> global = RegexFilter::compile("devices/global_filter", global_filter);
  if (!global.ok()) {
    return global.error();
  }
  Expected<RegexFilter> local = RegexFilter::compile("devices/filter", filter);
  if (!local.ok()) {
    return local.error();
  }
  device_filter.global_filter_ = std::move(global.value());
  device_filter.filter_ = std::move(local.value());
  return device_filter;
}

FilterVerdict DeviceFilter::check(std::span<const std::string> names) const {
  FilterVerdict global = global_filter_.check(names);
  if (!global.accepted) {
    return global;
  }
  FilterVerdict local = filter_.check(names);
  if (!local.accepted || local.entry >= 0) {
    return local;
  }
  return global;
}

}  // namespace thinpool::lvm
