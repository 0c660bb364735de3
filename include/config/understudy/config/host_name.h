// Host names as the control endpoint compares them: `control.hostnames` entries at load time and
// the Host header of each request (issue 12, DNS rebinding) go through the same normalisation,
// so a name matches however its case or trailing dot was written.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace understudy::config {

// "Ns1.Example.NET." -> "ns1.example.net"; "[2001:DB8::1]" and "2001:db8::0:1" -> "2001:db8::1";
// "192.0.2.1" as is. A host name is letters, digits and hyphens in dot-separated labels of 1..63
// characters, 253 at most. nullopt and a reason for anything else (a port, a scheme, a space).
std::optional<std::string> normalizeHostName(std::string_view text, std::string* reason);

// True for an IP literal (the output of normalizeHostName) rather than a DNS name.
bool isIpLiteral(std::string_view host);

// 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
bool isLoopbackAddress(std::string_view address);

// 0.0.0.0 and ::: every address of the host.
bool isWildcardAddress(std::string_view address);

}  // namespace understudy::config
