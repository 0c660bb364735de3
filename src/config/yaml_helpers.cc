// Small helpers shared by every section of the config loader: numbers, names, key paths and
// characters as they may be shown in a message.
#include "yaml_helpers.h"

#include "understudy/dns/types.h"

#include <algorithm>

namespace understudy::config::detail {

// The config's words for a name dns::parseName refuses. Names in YAML were parsed with ldns
// before there was one parser for them, and its messages ("Empty label", "Label length overflow")
// are what `understudy check` has always printed; the hostile-config corpus and operators' own
// checks match them, so they stay. The zone-file reader and the control API use
// dns::nameErrorText.
const char* configNameError(dns::NameError error) {
  switch (error) {
    case dns::NameError::kEmptyLabel:
      return "Empty label";
    case dns::NameError::kLabelTooLong:
      return "Label length overflow";
    case dns::NameError::kNameTooLong:
      return "Domainname length overflow";
    case dns::NameError::kBadEscape:
    case dns::NameError::kDanglingBackslash:
      return "Syntax error, bad escape sequence";
    default:
      return dns::nameErrorText(error);  // "empty name", "contains whitespace"
  }
}

// "@" is the origin, names without a trailing dot are relative to it (RFC 1035 §5.1).
std::optional<std::string> nameFromText(std::string_view text, std::string_view origin,
                                        std::string* error) {
  uint8_t wire[dns::kMaxNameLength];
  size_t len = 0;
  if (dns::NameError why = dns::parseName(text, origin, wire, &len); why != dns::NameError::kNone) {
    *error = configNameError(why);
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(wire), len);
}

std::optional<uint64_t> parseUnsigned(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

// "-5" and "99999999999999999999" are integers, merely out of range; "5x" is not one.
bool looksLikeInteger(std::string_view text) {
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string formatLocation(const SourceLocation& where) {
  std::string out = where.file;
  if (where.line > 0) {
    out += ':' + std::to_string(where.line);
    if (where.column > 0) out += ':' + std::to_string(where.column);
  }
  return out;
}

std::string joinKey(const std::string& parent, std::string_view child) {
  if (parent.empty()) return std::string(child);
  return parent + "." + std::string(child);
}

std::string indexKey(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

// ---- HTTP settings -----------------------------------------------------------------------------
// Check and webhook settings end up in an HTTP request line or header. A CR or LF there would end
// the line early and start another (a header the operator never wrote, or a request that fails
// every probe after passing `check`), so they are refused when the config is loaded.

// A character as it may be shown in a message: never raw, as a control character in a message
// would itself break the log line it is written to.
std::string describeChar(unsigned char c) {
  switch (c) {
    case '\r':
      return "a CR (carriage return)";
    case '\n':
      return "an LF (line feed)";
    case '\t':
      return "a tab";
    case '\0':
      return "a NUL";
    case ' ':
      return "a space";
    default:
      break;
  }
  if (c < 0x20 || c == 0x7f) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "control character 0x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
    return out;
  }
  return std::string("'") + static_cast<char>(c) + "'";
}

// `text` with control characters escaped (\r, \n, \t, \xNN), for quoting in messages.
std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool isControl(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// RFC 9110 §5.6.2: a header name is a token.
bool isTokenChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace understudy::config::detail
