#include "understudy/dns/name.h"

#include "understudy/dns/types.h"

namespace understudy::dns {

namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::optional<std::string> nameFromText(std::string_view text, std::string_view origin,
                                        std::string* error) {
  auto fail = [&](std::string why) -> std::optional<std::string> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (text.empty()) return fail("empty name");
  if (text == "@") {
    if (origin.empty()) return fail("'@' used without an origin");
    return std::string(origin);
  }
  if (text == ".") return std::string(1, '\0');

  std::string out;
  std::string label;
  bool absolute = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      if (label.empty()) return fail("empty label in '" + std::string(text) + "'");
      if (label.size() > kMaxLabelLength)
        return fail("label longer than 63 octets in '" + std::string(text) + "'");
      out += static_cast<char>(label.size());
      out += label;
      label.clear();
      if (i + 1 == text.size()) absolute = true;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) return fail("dangling backslash in '" + std::string(text) + "'");
      if (isDigit(text[i + 1])) {
        if (i + 3 >= text.size() || !isDigit(text[i + 2]) || !isDigit(text[i + 3]))
          return fail("bad \\DDD escape in '" + std::string(text) + "'");
        int v = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
        if (v > 255) return fail("bad \\DDD escape in '" + std::string(text) + "'");
        label += static_cast<char>(v);
        i += 3;
      } else {
        label += text[i + 1];
        ++i;
      }
      continue;
    }
    label += c;
  }
  if (!label.empty()) {
    if (label.size() > kMaxLabelLength)
      return fail("label longer than 63 octets in '" + std::string(text) + "'");
    out += static_cast<char>(label.size());
    out += label;
  }
  if (absolute) {
    out += '\0';
  } else {
    if (origin.empty()) return fail("relative name '" + std::string(text) + "' without an origin");
    out += origin;
  }
  if (out.size() > kMaxNameLength)
    return fail("name longer than 255 octets: '" + std::string(text) + "'");
  return out;
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
