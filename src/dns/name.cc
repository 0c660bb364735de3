#include "understudy/dns/name.h"

#include <cstring>

#include "understudy/dns/types.h"

namespace understudy::dns {

namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool isWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0';
}

}  // namespace

const char* nameErrorText(NameError error) noexcept {
  switch (error) {
    case NameError::kNone:
      return "no error";
    case NameError::kEmpty:
      return "empty name";
    case NameError::kNoOrigin:
      return "relative name without an origin";
    case NameError::kEmptyLabel:
      return "empty label";
    case NameError::kLabelTooLong:
      return "label longer than 63 octets";
    case NameError::kNameTooLong:
      return "name too long (more than 255 octets)";
    case NameError::kBadEscape:
      return "bad \\DDD escape";
    case NameError::kDanglingBackslash:
      return "dangling backslash";
    case NameError::kWhitespace:
      return "contains whitespace";
  }
  return "invalid name";
}

NameError parseName(std::string_view text, std::string_view origin, uint8_t* out,
                    size_t* out_len) noexcept {
  if (text.empty()) return NameError::kEmpty;
  if (text.size() == 1 && (text[0] == '@' || text[0] == '.')) {
    if (text[0] == '.') origin = std::string_view("\0", 1);
    if (origin.empty()) return NameError::kNoOrigin;
    if (origin.size() > kMaxNameLength) return NameError::kNameTooLong;
    std::memcpy(out, origin.data(), origin.size());
    *out_len = origin.size();
    return NameError::kNone;
  }
  size_t label = 0;  // where the current label's length octet goes
  size_t o = 1;      // where its next octet goes
  const char* s = text.data();
  const char* const e = s + text.size();
  while (s < e) {
    char c = *s++;
    if (c == '.') {
      const size_t length = o - label - 1;
      if (length == 0) return NameError::kEmptyLabel;
      out[label] = static_cast<uint8_t>(length);
      if (s == e) {  // a trailing dot: absolute
        if (o + 1 > kMaxNameLength) return NameError::kNameTooLong;
        out[o] = 0;
        *out_len = o + 1;
        return NameError::kNone;
      }
      label = o++;
      continue;
    }
    if (c == '\\') {
      if (s == e) return NameError::kDanglingBackslash;
      if (isDigit(*s)) {
        if (e - s < 3 || !isDigit(s[1]) || !isDigit(s[2])) return NameError::kBadEscape;
        const int v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
        if (v > 255) return NameError::kBadEscape;
        c = static_cast<char>(v);
        s += 3;
      } else {
        c = *s++;
      }
    } else if (isWhitespace(c)) {
      return NameError::kWhitespace;
    }
    if (o - label - 1 == kMaxLabelLength) return NameError::kLabelTooLong;
    // This octet and at least the root after it: more than 255 already.
    if (o + 2 > kMaxNameLength) return NameError::kNameTooLong;
    out[o++] = static_cast<uint8_t>(c);
  }
  // No trailing dot: relative to the origin. (The last label is not empty: a text ending in a dot
  // returned above, and an empty text before the loop.)
  if (origin.empty()) return NameError::kNoOrigin;
  out[label] = static_cast<uint8_t>(o - label - 1);
  if (o + origin.size() > kMaxNameLength) return NameError::kNameTooLong;
  std::memcpy(out + o, origin.data(), origin.size());
  *out_len = o + origin.size();
  return NameError::kNone;
}

std::optional<std::string> nameFromText(std::string_view text, std::string_view origin,
                                        std::string* error) {
  uint8_t wire[kMaxNameLength];
  size_t len = 0;
  if (NameError why = parseName(text, origin, wire, &len); why != NameError::kNone) {
    if (error) *error = nameErrorText(why);
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(wire), len);
}

std::string nameToText(std::string_view wire) {
  if (wire.size() <= 1) return ".";
  std::string out;
  size_t i = 0;
  while (i < wire.size()) {
    uint8_t len = static_cast<uint8_t>(wire[i]);
    if (len == 0) break;
    for (size_t j = i + 1; j <= i + len && j < wire.size(); ++j) {
      uint8_t c = static_cast<uint8_t>(wire[j]);
      if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' || c == '@' ||
          c == '$') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c <= 0x20 || c >= 0x7f) {
        char buf[5];
        buf[0] = '\\';
        buf[1] = static_cast<char>('0' + c / 100);
        buf[2] = static_cast<char>('0' + (c / 10) % 10);
        buf[3] = static_cast<char>('0' + c % 10);
        buf[4] = 0;
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
    out += '.';
    i += len + 1;
  }
  return out;
}

void lowerInPlace(char* data, size_t len) noexcept {
  // Label length octets are <= 63, below 'A', so lowering them is a no-op.
  for (size_t i = 0; i < len; ++i) data[i] = static_cast<char>(lowerByte(data[i]));
}

std::string lowered(std::string_view wire) {
  std::string out(wire);
  lowerInPlace(out.data(), out.size());
  return out;
}

bool isSubdomain(std::string_view name, std::string_view zone) noexcept {
  if (zone.size() > name.size()) return false;
  // Walk label boundaries of `name` until the remaining suffix is as long as `zone`.
  size_t i = 0;
  while (name.size() - i > zone.size()) {
    uint8_t len = static_cast<uint8_t>(name[i]);
    if (len == 0) return false;
    i += 1 + len;
  }
  return name.size() - i == zone.size() && name.substr(i) == zone;
}

int labelCount(std::string_view wire) noexcept {
  int n = 0;
  size_t i = 0;
  while (i < wire.size() && wire[i] != 0) {
    i += 1 + static_cast<uint8_t>(wire[i]);
    ++n;
  }
  return n;
}

bool isValidWireName(std::string_view wire) noexcept {
  if (wire.empty() || wire.size() > kMaxNameLength) return false;
  size_t i = 0;
  while (i < wire.size()) {
    uint8_t len = static_cast<uint8_t>(wire[i]);
    if (len == 0) return i + 1 == wire.size();
    if (len > kMaxLabelLength) return false;
    i += 1 + len;
  }
  return false;
}

bool readName(const uint8_t* msg, size_t len, size_t offset, uint8_t* out, size_t* out_len,
              size_t* next) noexcept {
  size_t pos = offset;
  size_t written = 0;
  bool jumped = false;
  size_t end_of_first = 0;
  int jumps = 0;
  while (true) {
    if (pos >= len) return false;
    uint8_t l = msg[pos];
    if ((l & 0xc0) == 0xc0) {
      if (pos + 1 >= len) return false;
      size_t target = ((l & 0x3f) << 8) | msg[pos + 1];
      // Only backward pointers: forward ones are never produced by a sane encoder and allowing
      // them is how loops are built. The jump cap bounds the work per name.
      // Names never start inside the 12-octet header either.
      if (target >= pos || target < kHeaderSize || ++jumps > 64) return false;
      if (!jumped) end_of_first = pos + 2;
      jumped = true;
      pos = target;
      continue;
    }
    if ((l & 0xc0) != 0) return false;  // 0x40 / 0x80: extended label types, unsupported
    if (pos + 1 + l > len) return false;
    if (written + 1 + l > kMaxNameLength) return false;
    out[written++] = l;
    if (l == 0) {
      ++pos;
      break;
    }
    for (size_t i = 0; i < l; ++i) out[written++] = msg[pos + 1 + i];
    pos += 1 + l;
  }
  *out_len = written;
  *next = jumped ? end_of_first : pos;
  return true;
}

}  // namespace understudy::dns
