#include "understudy/config/host_name.h"

#include <arpa/inet.h>

#include <cstring>

namespace understudy::config {

namespace {

// The canonical text of an IP literal (RFC 5952 for IPv6), or nullopt.
std::optional<std::string> canonicalIp(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  std::string copy(text);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, copy.c_str(), buf) == 1) {
    inet_ntop(AF_INET, buf, out, sizeof out);
    return std::string(out);
  }
  if (inet_pton(AF_INET6, copy.c_str(), buf) == 1) {
    inet_ntop(AF_INET6, buf, out, sizeof out);
    return std::string(out);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> normalizeHostName(std::string_view text, std::string* reason) {
  auto fail = [&](const char* why) -> std::optional<std::string> {
    if (reason) *reason = why;
    return std::nullopt;
  };
  if (text.empty()) return fail("empty");
  if (text.front() == '[') {
    if (text.back() != ']') return fail("expected ']' at the end");
    auto ip = canonicalIp(text.substr(1, text.size() - 2));
    if (!ip || ip->find(':') == std::string::npos) return fail("not an IPv6 address in brackets");
    return ip;
  }
  if (auto ip = canonicalIp(text)) return ip;
  if (text.find(':') != std::string_view::npos) {
    return fail("a name without a port (and an IPv6 address in brackets or bare)");
  }
  if (text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() > 253) return fail("a name is 1 to 253 characters");
  std::string out;
  out.reserve(text.size());
  constexpr const char* kHyphen = "a label cannot start or end with '-' (RFC 1123 §2.1)";
  size_t label = 0;
  for (char c : text) {
    if (c == '.') {
      if (label == 0) return fail("empty label");
      if (out.back() == '-') return fail(kHyphen);
      label = 0;
    } else if (c == '-') {
      if (label == 0) return fail(kHyphen);
      ++label;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      ++label;
    } else if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
      ++label;
    } else {
      return fail("only letters, digits, '-' and '.' are allowed in a host name");
    }
    if (label > 63) return fail("a label is at most 63 characters");
    out += c;
  }
  if (label == 0) return fail("empty label");
  if (out.back() == '-') return fail(kHyphen);
  return out;
}

bool isIpLiteral(std::string_view host) {
  return canonicalIp(host).has_value();
}

bool isLoopbackAddress(std::string_view address) {
  std::string copy(address);
  unsigned char buf[16];
  if (inet_pton(AF_INET, copy.c_str(), buf) == 1) return buf[0] == 127;
  if (inet_pton(AF_INET6, copy.c_str(), buf) != 1) return false;
  static const unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(buf, kLoopback, 16) == 0) return true;
  return std::memcmp(buf, kMapped, 12) == 0 && buf[12] == 127;
}

bool isWildcardAddress(std::string_view address) {
  std::string copy(address);
  unsigned char buf[16];
  static const unsigned char kZero[16] = {};
  if (inet_pton(AF_INET, copy.c_str(), buf) == 1) return std::memcmp(buf, kZero, 4) == 0;
  if (inet_pton(AF_INET6, copy.c_str(), buf) == 1) return std::memcmp(buf, kZero, 16) == 0;
  return false;
}

}  // namespace understudy::config
