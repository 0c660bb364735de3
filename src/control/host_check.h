// DNS rebinding (issue 12). A web page from evil.example can make its own name resolve to
// 127.0.0.1 and then read http://evil.example:8053/status from the operator's browser: to the
// browser that is the page's own origin. What gives it away is the Host header, which names
// evil.example. The endpoint answers only requests whose Host names it: its listen address, for
// a loopback or wildcard listener also localhost, 127.0.0.1 and [::1], for a wildcard listener
// any IP literal (a page can only reach an IP literal under that literal's own origin, so it is
// no rebinding), and the names in control.hostnames; with the port, if given, of the listener.
// Anything else gets 421 Misdirected Request (RFC 9110 §15.5.20: "not able to produce a response
// for the combination of scheme and authority"), before any route runs.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace understudy::control {

class HostCheck {
 public:
  // Accepts nothing until configured.
  HostCheck() = default;
  // `listen_address`: numeric, as in ControlConfig; `port`: the bound one (not 0).
  HostCheck(const std::string& listen_address, uint16_t port,
            const std::vector<std::string>& hostnames);

  // nullopt when the Host header value `host` names this endpoint, else why not (for the 421
  // body and the log).
  std::optional<std::string> misdirected(std::string_view host) const;

 private:
  uint16_t port_ = 0;
  bool any_ip_literal_ = false;
  std::set<std::string, std::less<>> names_;
};

// A header value as it can go into a log line or message: printable ASCII, at most `max`
// characters ("..." after).
std::string printableHeader(std::string_view value, size_t max = 100);

}  // namespace understudy::control
