// Listen addresses: the one parser of host:port settings (`server.listen`, `control.listen`, and
// `understudy ctl` reading the latter).
#include <arpa/inet.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "understudy/common/host_port.h"
#include "understudy/config/config.h"
#include "yaml_helpers.h"

namespace understudy::config {

std::string ListenAddress::str() const {
  return hostPort(address, port);
}

namespace {

using detail::parseUnsigned;
using detail::printable;

// An IPv6 address needs brackets to be told apart from its port: "::1:5353" is both port 5353 of
// ::1 and the address ::1:5353 (port 53), and used to bind the second when the first was meant.
// `text` has two colons or more and no brackets; says how to write what it could mean.
std::string bracketsNeeded(const std::string& text, uint16_t default_port) {
  unsigned char buf[16];
  std::vector<std::string> meanings;
  auto meaning = [](const std::string& written, const std::string& address,
                    const std::string& port) {
    std::string out = "'";
    out += written;
    out += "' (address ";
    out += address;
    out += ", port ";
    out += port;
    out += ')';
    return out;
  };
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    meanings.push_back(meaning("[" + text + "]", text, std::to_string(default_port)));
  }
  const size_t colon = text.rfind(':');
  const std::string head = text.substr(0, colon);
  const std::string tail = text.substr(colon + 1);
  auto port = parseUnsigned(tail);
  if (port && *port <= 65535 && !head.empty() && inet_pton(AF_INET6, head.c_str(), buf) == 1) {
    meanings.push_back(meaning(hostPort(head, tail), head, tail));
  }
  std::string out = "an IPv6 address must be in brackets";
  if (meanings.empty()) return out + ": '[address]:port'";
  out += ": write ";
  out += meanings[0];
  if (meanings.size() > 1) {
    out += ", or ";
    out += meanings[1];
  }
  return out;
}

}  // namespace

std::optional<ListenAddress> parseListenAddress(std::string_view text_view, uint16_t default_port,
                                                std::string* reason) {
  const std::string text(text_view);
  std::string host;
  std::optional<std::string> port_text;
  bool v6 = false;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) {
      *reason = "missing ']'";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    std::string rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') {
        *reason = "unexpected text after ']'";
        return std::nullopt;
      }
      port_text = rest.substr(1);
    }
    v6 = true;
  } else if (std::count(text.begin(), text.end(), ':') >= 2) {
    *reason = bracketsNeeded(text, default_port);
    return std::nullopt;
  } else if (size_t colon = text.find(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  } else {
    host = text;
  }

  unsigned char buf[16];
  char normalized[INET6_ADDRSTRLEN];
  if (v6) {
    if (inet_pton(AF_INET6, host.c_str(), buf) != 1) {
      // Built by append: GCC 12 at -O3 reports a false -Wrestrict for "x" + std::string&&.
      std::string why = printable(host);
      why.insert(why.begin(), '\'');
      why += "' is not a numeric IPv6 address";
      *reason = std::move(why);
      return std::nullopt;
    }
    inet_ntop(AF_INET6, buf, normalized, sizeof normalized);
  } else {
    if (inet_pton(AF_INET, host.c_str(), buf) != 1) {
      // Built by append: GCC 12 at -O3 reports a false -Wrestrict for "x" + std::string&&.
      std::string why = printable(host);
      why.insert(why.begin(), '\'');
      why += "' is not a numeric IPv4 address";
      *reason = std::move(why);
      return std::nullopt;
    }
    inet_ntop(AF_INET, buf, normalized, sizeof normalized);
  }
  ListenAddress out;
  out.address = normalized;
  out.port = default_port;
  if (port_text) {
    auto port = parseUnsigned(*port_text);
    if (!port || *port > 65535) {
      *reason = "invalid port '" + printable(*port_text) + "' (expected 0..65535)";
      return std::nullopt;
    }
    out.port = static_cast<uint16_t>(*port);
  }
  return out;
}

}  // namespace understudy::config
