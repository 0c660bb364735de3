// The tokenizer of RFC 1035 §5.1 master files, apart from what the tokens mean: it splits the text
// into entries and tokens and keeps the line count; the reader (zone_file.cc) turns entries into
// directives and records. Private to src/zone.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace understudy::zone::detail {

// A run of the text: a plain word (escapes kept as written) or the inside of a quoted string.
// Parentheses, comments and (inside parentheses) line ends only separate tokens.
struct Token {
  const char* text;
  size_t size;
  bool quoted;   // the text between the quotes of "..."
  bool escaped;  // contains a backslash
  std::string_view view() const { return {text, size}; }
};

// The token as the operator wrote it: a quoted one with its quotes.
std::string shown(const Token& t);

// Tokens as written, minus comments and parentheses: one space where there was any separation.
// (The RDATA of the types the reader does not convert itself goes to ldns in this form.)
std::string joined(const Token* t, size_t n);

// Throws ConfigError for `path`:`line`: the one error shape of the reader and the tokenizer.
[[noreturn]] void failAt(const std::string& path, int line, std::string message);

class ZoneLexer {
 public:
  // Reads [begin, end), where *end == '\0': the sentinel spares the inner loops their bounds
  // checks, and a NUL anywhere before it is an error. `path` names the file in errors. The text
  // must outlive the tokens read from it.
  ZoneLexer(const std::string& path, const char* begin, const char* end);

  // Reads the tokens of the next entry (a line, or several joined by parentheses) that has any;
  // false at the end of the text. Throws ConfigError (failAt) on unbalanced parentheses, an
  // unterminated quoted string or a NUL byte.
  bool next();

  // The entry's tokens, at least one after next() returned true.
  const Token* tokens() const { return tokens_.data(); }
  size_t size() const { return count_; }
  const Token& operator[](size_t i) const { return tokens_[i]; }

  // The line of the entry's first token.
  int line() const { return entry_line_; }
  // The entry starts with a space or tab: RFC 1035 §5.1, its owner is the previous one.
  bool blankOwner() const { return blank_owner_; }
  // The start of the next entry: the text before it is not looked at again.
  const char* position() const { return pos_; }

 private:
  // The line an error in the entry being read belongs to: its first line.
  int entryLine() const { return count_ == 0 ? line_ : entry_line_; }
  void push(const char* text, size_t size, bool quoted, bool escaped);
  const char* plain(const char* p);
  const char* quoted(const char* p);
  const char* closingQuote(const char* open, bool* escaped);
  [[noreturn]] void fail(int line, std::string message) const;

  const std::string& path_;
  const char* pos_;  // start of the next entry, always at the start of a line
  const char* const end_;
  int line_ = 1;
  std::vector<Token> tokens_;  // the first count_ are the entry's
  size_t count_ = 0;
  int entry_line_ = 0;  // the line of the entry's first token
  bool blank_owner_ = false;
};

}  // namespace understudy::zone::detail
