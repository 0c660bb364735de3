// The main YAML configuration, loaded into plain validated structs (DESIGN.md "Configuration").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "understudy/common/diagnostic.h"
#include "understudy/failover/plan.h"
#include "understudy/health/check.h"
#include "understudy/zone/record.h"
#include "understudy/zone/serving_options.h"

namespace understudy::config {

inline constexpr uint16_t kDefaultDnsPort = 53;
inline constexpr uint16_t kDefaultControlPort = 8053;  // docs/control.md

struct ListenAddress {
  std::string address;              // numeric IPv4 or IPv6, without brackets
  uint16_t port = kDefaultDnsPort;  // 0 = let the OS choose (tests)
  SourceLocation where;

  std::string str() const;  // "127.0.0.1:5353", "[::1]:5353"
};

// "127.0.0.1:5353", "127.0.0.1", "[::1]:5353" or "[::1]": a numeric address (a config never
// depends on the resolver at start-up) and a port, `default_port` when none is given. An IPv6
// address must be in brackets, or "::1:5353" would be both an address and an address with a
// port. The one parser of host:port settings (`server.listen`, `control.listen`, and `ctl`
// reading the latter). nullopt with `*reason` when it is not such an address.
std::optional<ListenAddress> parseListenAddress(std::string_view text, uint16_t default_port,
                                                std::string* reason);

// Response rate limiting (`server.rrl`), off unless present.
struct RrlSettings {
  bool enabled = false;
  uint32_t responses_per_second = 20;
  uint32_t slip = 2;
  unsigned ipv4_prefix = 24;
  unsigned ipv6_prefix = 56;
  std::vector<std::string> exempt;  // "10.0.0.0/8", "2001:db8::/32", validated

  bool operator==(const RrlSettings&) const = default;
};

struct ServerConfig {
  std::vector<ListenAddress> listen;  // default: 127.0.0.1:53 and [::1]:53
  unsigned threads = 0;               // 0 = auto (one per core)
  std::chrono::milliseconds tcp_idle_timeout{10000};
  unsigned tcp_max_connections = 1024;
  uint16_t edns_udp_size = 1232;  // RFC 6891 / DNS flag day 2020 recommendation
  RrlSettings rrl;
  // This instance's identity (`server.nsid`, the host name for `hostname`): the EDNS NSID option
  // (RFC 5001) and CHAOS TXT id.server./hostname.bind. (RFC 4892). Empty: neither is answered.
  std::string nsid;
  // CHAOS TXT version.server./version.bind. (`server.version`). Empty: REFUSED.
  std::string version;
  // A reload (load + compile) still running after this long is abandoned: a file on a stuck
  // path must not wedge every later reload.
  std::chrono::milliseconds reload_timeout{60000};
};

// At most this many octets in `server.nsid` and `server.version`.
inline constexpr size_t kMaxIdentityLength = 128;

struct LogConfig {
  std::string level = "info";   // trace, debug, info, warn, error, critical, off
  std::string format = "text";  // text, or json: one JSON object per line
};

// The control/metrics HTTP endpoint (`control:`); off unless configured.
struct ControlConfig {
  bool enabled = false;
  std::string address = "127.0.0.1";
  uint16_t port = 8053;
  std::string token_file;  // bearer token for mutating actions; empty = mutations refused
  // Create token_file with a random token at start (or reload) when it does not exist yet.
  bool create_token = false;
  // Connections one client address may hold open at once, beside the endpoint's global cap, so
  // that one client cannot take every connection (issue 12).
  unsigned max_connections_per_client = 8;
  // Host header names the endpoint answers to besides its own address (and localhost for a
  // loopback listen): lowercased host names or IP literals, without port. Anything else gets 421,
  // so a web page reached through a rebound DNS name reads nothing.
  std::vector<std::string> hostnames;
  SourceLocation where;
};

// A webhook called on every health transition and every failed reload (`notify:`).
struct WebhookConfig {
  std::string url;
  enum class Format : uint8_t { kGeneric, kPagerDuty } format = Format::kGeneric;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string routing_key;  // PagerDuty Events v2 integration key
  std::chrono::milliseconds timeout{5000};
  unsigned retries = 5;  // attempts after the first, with exponential back-off
  SourceLocation where;
  std::string key;
};

// The failover part of the configuration is failover's own Plan (understudy/failover/plan.h);
// these names are what the loader and its tests call its parts.
using EndpointConfig = failover::EndpointSpec;
using PoolConfig = failover::PoolSpec;
using PoolRecordConfig = failover::PooledRecordSpec;
using failover::PoolPolicy;
using failover::WhenAllDown;

// The whole configuration. It extends failover::Plan (checks, pools, pool_records), so the
// Monitor is handed the plan of a loaded Config without a copy.
struct Config : failover::Plan {
  std::string path;  // the main file ("<demo>" for the embedded demo)
  ServerConfig server;
  LogConfig log;
  ControlConfig control;
  std::vector<WebhookConfig> notify;
  std::vector<zone::ZoneSource> zones;
  std::vector<Diagnostic> warnings;
};

// What `understudy ctl` needs from a configuration: where the control endpoint listens and the
// token file it names, read with the daemon's rules (the same address parser and default port,
// token_file resolved against the file's directory). Only those two keys of the main file's
// `control:` section are looked at, nothing else is validated and no include is followed: ctl
// must work while the rest of the file is being edited.
struct ControlEndpoint {
  bool configured = false;  // the file has a `control:` map; otherwise the endpoint is off
  ListenAddress listen;     // 127.0.0.1:8053 unless control.listen says otherwise
  std::string token_file;   // empty when not given; not read here
};

// Throws ConfigError when the file cannot be read (a Diagnostic without line or key: the message
// names the file), is not YAML (its line and column), or control.listen or control.token_file is
// not usable (the key, and the reason alone as the message).
ControlEndpoint loadControlEndpoint(const std::string& path);

// Loads and validates the YAML file. Throws ConfigError with every problem found, each naming
// file:line:column and the key path. Does not run zone::compile; callers do that next.
Config loadFile(const std::string& path);

// Same, from text already in memory; `name` is used as the file name in diagnostics and relative
// `file:` paths resolve against `base_dir`.
Config loadString(std::string_view yaml, const std::string& name,
                  const std::string& base_dir = ".");

// What the answer engine needs from `server:`, precomputed (see zone::ServingOptions).
inline zone::ServingOptions servingOptions(const ServerConfig& server) {
  zone::ServingOptions options;
  options.edns_udp_size = server.edns_udp_size;
  options.setIdentity(server.nsid);
  options.setVersion(server.version);
  return options;
}

}  // namespace understudy::config
