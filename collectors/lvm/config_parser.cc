#include "collectors/lvm/config_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <utility>

namespace thinpool::lvm {
namespace {

// lvm2 writes at most five levels; anything this deep is garbage, and recursion must stay
// bounded on input read from disks.
constexpr int kMaxDepth = 64;

enum class TokenKind {
  kEnd,
  kSectionBegin,
  kSectionEnd,
  kArrayBegin,
  kArrayEnd,
  kComma,
  kEquals,
  kInt,
  kFloat,
  kString,    // quoted, escapes already resolved
  kBareWord,  // unquoted: a key, or a string value
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  SourcePosition position;
  size_t offset = 0;
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Characters that end a bare word (a key or an unquoted value).
bool ends_word(char c) {
  switch (c) {
    case '#':
    case '=':
    case '{':
    case '}':
    case '[':
    case ']':
    case ',':
    case '"':
    case '\'':
      return true;
    default:
      return is_space(c);
  }
}

std::string describe_token(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "end of input";
    case TokenKind::kSectionBegin:
      return "'{'";
    case TokenKind::kSectionEnd:
      return "'}'";
    case TokenKind::kArrayBegin:
      return "'['";
    case TokenKind::kArrayEnd:
      return "']'";
    case TokenKind::kComma:
      return "','";
    case TokenKind::kEquals:
      return "'='";
    case TokenKind::kInt:
      return fmt::format("integer {}", token.int_value);
    case TokenKind::kFloat:
      return fmt::format("number {}", token.text);
    case TokenKind::kString:
      return fmt::format("string \"{}\"", escape_for_message(token.text));
    case TokenKind::kBareWord:
      return fmt::format("word \"{}\"", escape_for_message(token.text));
  }
  return "token";
}

bool is_scalar(TokenKind kind) {
  return kind == TokenKind::kInt || kind == TokenKind::kFloat || kind == TokenKind::kString ||
         kind == TokenKind::kBareWord;
}

ConfigScalar scalar_of(Token&& token) {
  switch (token.kind) {
    case TokenKind::kInt:
      return token.int_value;
    case TokenKind::kFloat:
      return token.float_value;
    default:
      return std::move(token.text);
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text.substr(0, text.find('\0'))) {}

  Expected<ConfigNode> parse() {
    ConfigNode root;
    root.position = {1, 1};
    if (Status status = parse_items(root, 0); !status.ok()) {
      return status.error();
    }
    return root;
  }

 private:
  // --- errors -------------------------------------------------------------------------------

  Error error_at(SourcePosition position, size_t offset, std::string_view message) const {
    constexpr size_t kBefore = 30;
    constexpr size_t kWidth = 70;
    std::string quote;
    if (offset >= text_.size()) {
      // At the end of the input the current line is often empty: quote the input's tail.
      const size_t from = text_.size() > kBefore ? text_.size() - kBefore : 0;
      quote = (from > 0 ? "..." : "") + escape_for_message(text_.substr(from));
    } else {
      // Quote the offending line around the column, with control bytes made visible.
      size_t line_begin = offset == 0 ? std::string_view::npos : text_.rfind('\n', offset - 1);
      line_begin = line_begin == std::string_view::npos ? 0 : line_begin + 1;
      size_t line_end = text_.find('\n', offset);
      if (line_end == std::string_view::npos) {
        line_end = text_.size();
      }
      const size_t from = offset > line_begin + kBefore ? offset - kBefore : line_begin;
      const size_t to = std::min(line_end, from + kWidth);
      quote = (from > line_begin ? "..." : "") + escape_for_message(text_.substr(from, to - from)) +
              (to < line_end ? "..." : "");
    }
    return Error{fmt::format("parse error at {}:{}: {}: \"{}\"", position.line, position.column,
                             message, quote)};
  }

  Error error_at(const Token& token, std::string_view message) const {
    return error_at(token.position, token.offset, message);
  }

  // --- lexer --------------------------------------------------------------------------------

  SourcePosition here() const { return {line_, static_cast<int>(pos_ - line_start_) + 1}; }

  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    }
    ++pos_;
  }

  void skip_space_and_comments() {
    while (pos_ < text_.size()) {
      if (text_[pos_] == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') {
          advance();
        }
      } else if (is_space(text_[pos_])) {
        advance();
      } else {
        return;
      }
    }
  }

  // Reads the next token. Numbers are recognised only where a value is expected
  // (`value_context`); elsewhere "123" is a key, as in lvm2.
  Expected<Token> next(bool value_context) {
    skip_space_and_comments();
    Token token;
    token.position = here();
    token.offset = pos_;
    if (pos_ >= text_.size()) {
      return token;
    }
    const char c = text_[pos_];
    switch (c) {
      case '{':
        token.kind = TokenKind::kSectionBegin;
        break;
      case '}':
        token.kind = TokenKind::kSectionEnd;
        break;
      case '[':
        token.kind = TokenKind::kArrayBegin;
        break;
      case ']':
        token.kind = TokenKind::kArrayEnd;
        break;
      case ',':
        token.kind = TokenKind::kComma;
        break;
      case '=':
        token.kind = TokenKind::kEquals;
        break;
      case '"':
      case '\'':
        return quoted_string(std::move(token));
      default:
        return word(std::move(token), value_context);
    }
    advance();
    return token;
  }

  Expected<Token> quoted_string(Token token) {
    const char quote = text_[pos_];
    advance();
    token.kind = TokenKind::kString;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      // In double quotes a backslash escapes '"' and '\'; before anything else it is kept
      // as it is (lvm2's dm_unescape_double_quotes).
      if (quote == '"' && text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
        const char escaped = text_[pos_ + 1];
        if (escaped != '"' && escaped != '\\') {
          token.text += '\\';
        }
        token.text += escaped;
        advance();
        advance();
        continue;
      }
      token.text += text_[pos_];
      advance();
    }
    if (pos_ >= text_.size()) {
      return error_at(token, "unterminated string (the closing quote is missing)");
    }
    advance();  // the closing quote
    return token;
  }

  Expected<Token> word(Token token, bool value_context) {
    const size_t begin = pos_;
    while (pos_ < text_.size() && !ends_word(text_[pos_])) {
      advance();
    }
    token.text = std::string(text_.substr(begin, pos_ - begin));
    const char first = token.text[0];
    const bool numeric =
        (first >= '0' && first <= '9') || first == '+' || first == '-' || first == '.';
    if (!value_context || !numeric) {
      token.kind = TokenKind::kBareWord;
      return token;
    }
    return number(std::move(token));
  }

  Expected<Token> number(Token token) {
    std::string_view digits = token.text;
    const bool negative = digits[0] == '-';
    if (digits[0] == '-' || digits[0] == '+') {
      digits.remove_prefix(1);
    }
    const size_t dot = digits.find('.');
    const bool all_digits_but_dot =
        !digits.empty() && digits.find_first_not_of("0123456789.") == std::string_view::npos &&
        (dot == std::string_view::npos || digits.find('.', dot + 1) == std::string_view::npos) &&
        digits != ".";
    if (!all_digits_but_dot) {
      return error_at(token,
                      fmt::format("malformed number \"{}\"", escape_for_message(token.text)));
    }
    if (dot != std::string_view::npos) {
      std::string normalized = negative ? "-" : "";
      normalized += digits;
      const char* end = normalized.data() + normalized.size();
      auto [ptr, ec] = std::from_chars(normalized.data(), end, token.float_value);
      if (ec != std::errc() || ptr != end) {
        return error_at(token,
                        fmt::format("malformed number \"{}\"", escape_for_message(token.text)));
      }
      token.kind = TokenKind::kFloat;
      return token;
    }
    if (digits.size() > 1 && digits[0] == '0') {
      return error_at(token, fmt::format("number \"{}\" has a leading zero (lvm2 would read it "
                                         "as octal)",
                                         escape_for_message(token.text)));
    }
    uint64_t magnitude = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
    const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
    if (ec != std::errc() || ptr != digits.data() + digits.size() || magnitude > limit) {
      return error_at(token, fmt::format("integer \"{}\" is out of range (64-bit signed)",
                                         escape_for_message(token.text)));
    }
    token.kind = TokenKind::kInt;
    token.int_value =
        negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
    return token;
  }

  // --- grammar ------------------------------------------------------------------------------

  // items := item* ; item := key ( '{' items '}' | '=' value )
  Status parse_items(ConfigNode& section, int depth) {
    const bool top_level = depth == 0;
    while (true) {
      Expected<Token> key = next(false);
      if (!key.ok()) {
        return key.error();
      }
      if (key->kind == TokenKind::kEnd) {
        if (top_level) {
          return {};
        }
        return error_at(*key, fmt::format("unexpected end of input: section \"{}\" opened at "
                                          "{}:{} is not closed (truncated metadata?)",
                                          escape_for_message(section.path), section.position.line,
                                          section.position.column));
      }
      if (key->kind == TokenKind::kSectionEnd) {
        if (top_level) {
          return error_at(*key, "unexpected '}' outside any section");
        }
        return {};
      }
      if (key->kind != TokenKind::kBareWord && key->kind != TokenKind::kString) {
        return error_at(*key,
                        fmt::format("expected a key or '}}', found {}", describe_token(*key)));
      }
      Expected<Token> after_key = next(false);
      if (!after_key.ok()) {
        return after_key.error();
      }
      if (after_key->kind == TokenKind::kSectionBegin) {
        if (depth + 1 >= kMaxDepth) {
          return error_at(*after_key, fmt::format("sections nested deeper than {}", kMaxDepth));
        }
        Expected<ConfigNode*> child = find_or_make(section, *key, /*as_section=*/true);
        if (!child.ok()) {
          return child.error();
        }
        if (Status status = parse_items(**child, depth + 1); !status.ok()) {
          return status;
        }
      } else if (after_key->kind == TokenKind::kEquals) {
        Expected<ConfigValue> value = parse_value(*key);
        if (!value.ok()) {
          return value.error();
        }
        Expected<ConfigNode*> child = find_or_make(section, *key, /*as_section=*/false);
        if (!child.ok()) {
          return child.error();
        }
        (*child)->value = std::move(*value);
      } else {
        return error_at(*after_key,
                        fmt::format("expected '=' or '{{' after key \"{}\", found {}",
                                    escape_for_message(key->text), describe_token(*after_key)));
      }
    }
  }

  // value := '[' (scalar ','?)* ']' | scalar
  Expected<ConfigValue> parse_value(const Token& key) {
    Expected<Token> token = next(true);
    if (!token.ok()) {
      return token.error();
    }
    ConfigValue value;
    if (is_scalar(token->kind)) {
      value.items.push_back(scalar_of(std::move(*token)));
      return value;
    }
    if (token->kind != TokenKind::kArrayBegin) {
      return error_at(*token, fmt::format("expected a value after \"{} =\", found {}",
                                          escape_for_message(key.text), describe_token(*token)));
    }
    value.is_array = true;
    const Token open = *token;
    bool comma_allowed = false;
    while (true) {
      token = next(true);
      if (!token.ok()) {
        return token.error();
      }
      if (token->kind == TokenKind::kArrayEnd) {
        return value;
      }
      if (token->kind == TokenKind::kComma && comma_allowed) {
        comma_allowed = false;
        continue;
      }
      if (is_scalar(token->kind)) {
        value.items.push_back(scalar_of(std::move(*token)));
        comma_allowed = true;
        continue;
      }
      if (token->kind == TokenKind::kEnd) {
        return error_at(*token, fmt::format("unexpected end of input: array \"{}\" opened at "
                                            "{}:{} is not closed (truncated metadata?)",
                                            escape_for_message(key.text), open.position.line,
                                            open.position.column));
      }
      return error_at(*token, fmt::format("expected an array item or ']' in \"{}\", found {}",
                                          escape_for_message(key.text), describe_token(*token)));
    }
  }

  // The node `key` names below `section` (a key "a/b" names b in section a), made if missing.
  Expected<ConfigNode*> find_or_make(ConfigNode& section, const Token& key, bool as_section) {
    std::string_view rest = key.text;
    ConfigNode* parent = &section;
    bool found_component = false;
    while (true) {
      while (!rest.empty() && rest.front() == '/') {
        rest.remove_prefix(1);
      }
      if (rest.empty()) {
        break;
      }
      const size_t slash = rest.find('/');
      const std::string_view name = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
      const bool last = rest.find_first_not_of('/') == std::string_view::npos;
      const bool want_section = as_section || !last;
      found_component = true;

      ConfigNode* child = nullptr;
      for (ConfigNode& candidate : parent->children) {
        if (candidate.key == name) {
          child = &candidate;
          break;
        }
      }
      if (child == nullptr) {
        ConfigNode made;
        made.key = std::string(name);
        made.path = parent->path.empty() ? made.key : parent->path + "/" + made.key;
        made.position = key.position;
        parent->children.push_back(std::move(made));
        child = &parent->children.back();
        if (!want_section) {
          child->value = ConfigValue{};  // filled in by the caller
        }
      } else if (child->is_section() != want_section) {
        return error_at(key, fmt::format("\"{}\" is used both as a section (name {{ ... }}) and "
                                         "as a setting (name = value)",
                                         escape_for_message(child->path)));
      } else if (!want_section) {
        child->position = key.position;  // a repeated setting: the last one wins, as in lvm2
      }
      parent = child;
    }
    if (!found_component) {
      return error_at(key, "empty key");
    }
    return parent;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
};

}  // namespace

Expected<ConfigNode> parse_config(std::string_view text) {
  return Parser(text).parse();
}

}  // namespace thinpool::lvm
