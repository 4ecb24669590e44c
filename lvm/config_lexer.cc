#include "lvm/config_lexer.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <utility>

namespace thinpool::lvm {
namespace {

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

}  // namespace

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

Error ConfigLexer::error_at(SourcePosition position, size_t offset,
                            std::string_view message) const {
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
  return Error::parse(fmt::format("parse error at {}:{}: {}: \"{}\"", position.line,
                                  position.column, message, quote));
}

Error ConfigLexer::error_at(const Token& token, std::string_view message) const {
  return error_at(token.position, token.offset, message);
}

void ConfigLexer::advance() {
  if (text_[pos_] == '\n') {
    ++line_;
    line_start_ = pos_ + 1;
  }
  ++pos_;
}

void ConfigLexer::skip_space_and_comments() {
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

Expected<Token> ConfigLexer::next(bool value_context) {
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

Expected<Token> ConfigLexer::quoted_string(Token token) {
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

Expected<Token> ConfigLexer::word(Token token, bool value_context) {
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

Expected<Token> ConfigLexer::number(Token token) {
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
    return error_at(token, fmt::format("malformed number \"{}\"", escape_for_message(token.text)));
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

}  // namespace thinpool::lvm
