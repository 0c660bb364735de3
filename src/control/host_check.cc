#include "host_check.h"

#include "understudy/config/host_name.h"

namespace understudy::control {

HostCheck::HostCheck(const std::string& listen_address, uint16_t port,
                     const std::vector<std::string>& hostnames)
    : port_(port), any_ip_literal_(config::isWildcardAddress(listen_address)) {
  std::string why;
  if (auto own = config::normalizeHostName(listen_address, &why)) names_.insert(*own);
  if (config::isLoopbackAddress(listen_address) || any_ip_literal_) {
    names_.insert("localhost");
    names_.insert("127.0.0.1");
    names_.insert("::1");
  }
  names_.insert(hostnames.begin(), hostnames.end());
}

std::optional<std::string> HostCheck::misdirected(std::string_view host) const {
  // RFC 9110 §7.2: Host = uri-host [ ":" port ]; an IPv6 address only in brackets.
  std::string_view name = host;
  std::optional<std::string_view> port;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return "Host is not a host name and port";
    name = host.substr(0, close + 1);
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return "Host is not a host name and port";
      port = rest.substr(1);
    }
  } else if (size_t colon = host.find(':'); colon != std::string_view::npos) {
    if (host.find(':', colon + 1) != std::string_view::npos) {
      return "Host is not a host name and port";  // an IPv6 address without brackets
    }
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
  }
  if (port && !port->empty()) {
    unsigned value = 0;
    if (port->size() > 5) return "Host has an invalid port";
    for (char c : *port) {
      if (c < '0' || c > '9') return "Host has an invalid port";
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value != port_) return "Host names another port";
  }
  std::string why;
  auto normalized = config::normalizeHostName(name, &why);
  if (!normalized) return "Host is not a host name and port";
  if (names_.count(*normalized) != 0) return std::nullopt;
  if (any_ip_literal_ && config::isIpLiteral(*normalized)) return std::nullopt;
  return "Host does not name this endpoint";
}

std::string printableHeader(std::string_view value, size_t max) {
  std::string out;
  for (char c : value.substr(0, max)) {
    out += c >= 0x20 && c < 0x7f ? c : '?';
  }
  if (value.size() > max) out += "...";
  return out;
}

}  // namespace understudy::control
