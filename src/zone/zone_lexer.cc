#include "zone_lexer.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "understudy/common/diagnostic.h"

namespace understudy::zone::detail {
namespace {

enum CharClass : uint8_t {
  kPlain,
  kSpace,
  kNewline,
  kComment,
  kOpen,
  kClose,
  kQuote,
  kEscape,
  kNul
};

constexpr std::array<uint8_t, 256> makeCharClasses() {
  std::array<uint8_t, 256> c{};
  c[' '] = kSpace;
  c['\t'] = kSpace;
  c['\r'] = kSpace;
  c['\n'] = kNewline;
  c[';'] = kComment;
  c['('] = kOpen;
  c[')'] = kClose;
  c['"'] = kQuote;
  c['\\'] = kEscape;
  c[0] = kNul;
  return c;
}
constexpr std::array<uint8_t, 256> kCharClass = makeCharClasses();

}  // namespace

void failAt(const std::string& path, int line, std::string message) {
  Diagnostic d;
  d.where.file = path;
  d.where.line = line;
  d.message = std::move(message);
  throw ConfigError(std::move(d));
}

std::string shown(const Token& t) {
  return t.quoted ? '"' + std::string(t.view()) + '"' : std::string(t.view());
}

std::string joined(const Token* t, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && t[i].text - t[i].quoted != t[i - 1].text + t[i - 1].size + t[i - 1].quoted) {
      out += ' ';
    }
    out += shown(t[i]);
  }
  return out;
}

ZoneLexer::ZoneLexer(const std::string& path, const char* begin, const char* end)
    : path_(path), pos_(begin), end_(end) {
  tokens_.resize(64);
}

bool ZoneLexer::next() {
  count_ = 0;
  const char* p = pos_;
  int depth = 0;
  int open_line = 0;
  bool blank = *p == ' ' || *p == '\t';  // we are at the start of a line
  for (;;) {
    switch (kCharClass[static_cast<uint8_t>(*p)]) {
      case kSpace:
        ++p;
        break;
      case kNewline:
        ++p;
        ++line_;
        if (depth == 0) {
          if (count_ != 0) {
            pos_ = p;
            blank_owner_ = blank;
            return true;
          }
          blank = *p == ' ' || *p == '\t';
        }
        break;
      case kComment: {
        const void* newline = std::memchr(p, '\n', static_cast<size_t>(end_ - p));
        p = newline ? static_cast<const char*>(newline) : end_;
        break;
      }
      case kOpen:
        if (depth++ == 0) open_line = count_ == 0 ? line_ : entry_line_;
        ++p;
        break;
      case kClose:
        if (depth == 0) fail(entryLine(), "unbalanced parentheses: ')' without '('");
        --depth;
        ++p;
        break;
      case kQuote:
        p = quoted(p);
        break;
      case kNul:
        if (p != end_) fail(entryLine(), "NUL byte in zone file");
        if (depth != 0) fail(open_line, "unbalanced parentheses: '(' is never closed");
        pos_ = p;
        blank_owner_ = blank;
        return count_ != 0;
      default:  // kPlain, kEscape
        p = plain(p);
        break;
    }
  }
}

// A word. A quote inside it does not end it but quotes what follows up to the next quote, as in
// an SVCB parameter (alpn="h2,h3"); only a quote at the start of a word makes a quoted token.
const char* ZoneLexer::plain(const char* p) {
  if (count_ == 0) entry_line_ = line_;
  const char* start = p;
  bool escaped = false;
  for (;;) {
    uint8_t k = kCharClass[static_cast<uint8_t>(*p)];
    if (k == kPlain) {
      ++p;
    } else if (k == kEscape) {
      escaped = true;
      if (p[1] == '\0') {
        if (p + 1 != end_) fail(entryLine(), "NUL byte in zone file");
        ++p;  // a dangling backslash, reported by whatever reads the token
        break;
      }
      if (p[1] == '\n') ++line_;
      p += 2;
    } else if (k == kQuote) {
      p = closingQuote(p, &escaped) + 1;
    } else {
      break;
    }
  }
  push(start, static_cast<size_t>(p - start), false, escaped);
  return p;
}

const char* ZoneLexer::quoted(const char* p) {
  if (count_ == 0) entry_line_ = line_;
  bool escaped = false;
  const char* close = closingQuote(p, &escaped);
  push(p + 1, static_cast<size_t>(close - p - 1), true, escaped);
  return close + 1;
}

// The quote that closes the one at `open`; a quoted string ends on its line.
const char* ZoneLexer::closingQuote(const char* open, bool* escaped) {
  const char* p = open + 1;
  for (;;) {
    char c = *p;
    if (c == '"') return p;
    if (c == '\\') {
      *escaped = true;
      if (p[1] == '\0') {
        fail(entryLine(), p + 1 == end_ ? "unterminated quoted string" : "NUL byte in zone file");
      }
      if (p[1] == '\n') ++line_;
      p += 2;
      continue;
    }
    if (c == '\n') fail(entryLine(), "unterminated quoted string");
    if (c == '\0') {
      fail(entryLine(), p == end_ ? "unterminated quoted string" : "NUL byte in zone file");
    }
    ++p;
  }
}

void ZoneLexer::push(const char* text, size_t size, bool quoted, bool escaped) {
  if (count_ == tokens_.size()) tokens_.resize(count_ * 2);
  tokens_[count_++] = Token{text, size, quoted, escaped};
}

void ZoneLexer::fail(int line, std::string message) const {
  failAt(path_, line, std::move(message));
}

}  // namespace understudy::zone::detail
