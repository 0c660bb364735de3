// The main YAML configuration, loaded into plain validated structs (DESIGN.md "Configuration").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "understudy/common/diagnostic.h"
#include "understudy/zone/record.h"

namespace understudy::config {

struct ListenAddress {
  std::string address;  // numeric IPv4 or IPv6, without brackets
  uint16_t port = 53;   // 0 = let the OS choose (tests)
  SourceLocation where;

  std::string str() const;  // "127.0.0.1:5353", "[::1]:5353"
};

struct ServerConfig {
  std::vector<ListenAddress> listen;  // default: 127.0.0.1:53 and [::1]:53
  unsigned threads = 0;               // 0 = auto (one per core)
  std::chrono::milliseconds tcp_idle_timeout{10000};
  unsigned tcp_max_connections = 1024;
  uint16_t edns_udp_size = 1232;  // RFC 6891 / DNS flag day 2020 recommendation
};

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
};

struct Config {
  std::string path;  // the main file ("<demo>" for the embedded demo)
  ServerConfig server;
  LogConfig log;
  std::vector<zone::ZoneSource> zones;
  std::vector<Diagnostic> warnings;
};

// Loads and validates the YAML file. Throws ConfigError with every problem found, each naming
// file:line:column and the key path. Does not run zone::compile; callers do that next.
Config loadFile(const std::string& path);

// Same, from text already in memory; `name` is used as the file name in diagnostics and relative
// `file:` paths resolve against `base_dir`.
Config loadString(std::string_view yaml, const std::string& name,
                  const std::string& base_dir = ".");

}  // namespace understudy::config
