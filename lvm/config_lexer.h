// The tokens of LVM's text configuration format (see config_parser.h for the language), for
// the parser beside it. Internal to collectors/lvm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "lvm/config_parser.h"

namespace thinpool::lvm {

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

// "'{'", "integer 5", "string \"x\"", "end of input": a token as an error message names it.
std::string describe_token(const Token& token);

// Reads `text` (up to its first NUL byte, as lvm2 does) one token at a time, keeping the line and
// column of each for error messages.
class ConfigLexer {
 public:
  explicit ConfigLexer(std::string_view text) : text_(text.substr(0, text.find('\0'))) {}

  // The next token; kEnd at the end of the input. Numbers are recognised only where a value is
  // expected (`value_context`); elsewhere "123" is a key, as in lvm2.
  Expected<Token> next(bool value_context);

  // "parse error at LINE:COLUMN: MESSAGE: \"the offending line, quoted\"".
  Error error_at(const Token& token, std::string_view message) const;

 private:
  Error error_at(SourcePosition position, size_t offset, std::string_view message) const;
  SourcePosition here() const { return {line_, static_cast<int>(pos_ - line_start_) + 1}; }
  void advance();
  void skip_space_and_comments();
  Expected<Token> quoted_string(Token token);
  Expected<Token> word(Token token, bool value_context);
  Expected<Token> number(Token token);

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
};

}  // namespace thinpool::lvm
