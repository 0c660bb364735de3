// "192.0.2.1:53", "[2001:db8::1]:53": an address and a port as every message, metric label,
// Host header and URL shows them. An IPv6 address goes in brackets (RFC 3986 §3.2.2, RFC 9110
// §7.2), or its last group could not be told from the port.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace understudy {

// `host` is a numeric address without brackets (or a host name); any ':' in it means IPv6.
std::string hostPort(std::string_view host, uint16_t port);
// The port as written, for a URL's authority ("[::1]:8053").
std::string hostPort(std::string_view host, std::string_view port);

}  // namespace understudy
