// `server:` and `log:`: the DNS listeners, threads, TCP limits, EDNS, RRL and identity, and the
// log level and format.
#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "loader.h"

namespace understudy::config::detail {

namespace {

bool validPrefix(const std::string& text) {
  size_t slash = text.find('/');
  std::string address = text.substr(0, slash);
  unsigned char buf[16];
  int max = 0;
  if (inet_pton(AF_INET, address.c_str(), buf) == 1) {
    max = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), buf) == 1) {
    max = 128;
  } else {
    return false;
  }
  if (slash == std::string::npos) return true;
  auto len = parseUnsigned(text.substr(slash + 1));
  return len && *len <= static_cast<uint64_t>(max);
}

}  // namespace

void Loader::loadServer(const YAML::Node& node, ServerConfig& server) {
  const std::string key = "server";
  if (!expectMap(node, key)) return;
  Fields f = fields(node, key,
                    {"listen", "threads", "tcp_idle_timeout", "tcp_max_connections",
                     "edns_udp_size", "rrl", "nsid", "version", "reload_timeout"});
  if (auto rrl = f.get("rrl")) loadRrl(*rrl, server.rrl);
  if (auto listen = f.get("listen")) loadListen(*listen, server.listen);
  if (auto threads = f.get("threads")) {
    if (threads->IsScalar() && threads->Scalar() == "auto") {
      server.threads = 0;
    } else if (threads->IsScalar() && !looksLikeInteger(threads->Scalar())) {
      error(*threads, "server.threads",
            "expected a positive integer or 'auto', got '" + threads->Scalar() + "'");
    } else if (auto value = integer(*threads, "server.threads", 1, kMaxThreads)) {
      server.threads = static_cast<unsigned>(*value);
    }
  }
  if (auto timeout = f.get("tcp_idle_timeout")) {
    if (auto value = duration(*timeout, "server.tcp_idle_timeout", kMinTcpIdle, kMaxTcpIdle)) {
      server.tcp_idle_timeout = *value;
    }
  }
  if (auto max = f.get("tcp_max_connections")) {
    if (auto value = integer(*max, "server.tcp_max_connections", 1, 1000000)) {
      server.tcp_max_connections = static_cast<unsigned>(*value);
    }
  }
  if (auto timeout = f.get("reload_timeout")) {
    if (auto value = duration(*timeout, "server.reload_timeout", std::chrono::milliseconds(10),
                              std::chrono::milliseconds(3600 * 1000))) {
      server.reload_timeout = *value;
    }
  }
  // RFC 6891 §6.2.5: below 512 is not allowed; above 4096 invites fragmentation.
  if (auto size = f.get("edns_udp_size")) {
    if (auto value = integer(*size, "server.edns_udp_size", 512, 4096)) {
      server.edns_udp_size = static_cast<uint16_t>(*value);
    }
  }
  if (auto nsid = f.get("nsid")) server.nsid = identity(*nsid, "server.nsid", true);
  if (auto version = f.get("version")) server.version = identity(*version, "server.version", false);
}

// `server.nsid` / `server.version`: a short text sent as is (NSID option, CHAOS TXT); for the
// NSID the word `hostname` stands for this machine's host name, read once here. Empty: off.
std::string Loader::identity(const YAML::Node& node, const std::string& key,
                             bool hostname_allowed) {
  auto text = scalar(node, key);
  if (!text) return {};
  const bool from_host = hostname_allowed && *text == "hostname";
  if (from_host) {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0) {
      error(node, key, std::string("cannot read the host name: ") + std::strerror(errno));
      return {};
    }
    text = name;
  }
  if (text->size() > kMaxIdentityLength) {
    // Built by append: GCC 12 at -O3 reports a false -Wrestrict for "x" + std::string&&.
    std::string why = "too long: ";
    why += std::to_string(text->size());
    why += " octets (at most ";
    why += std::to_string(kMaxIdentityLength);
    why += ")";
    if (from_host) {
      why += ": the host name '";
      why += *text;
      why += "'; write the identity out instead";
    }
    error(node, key, why);
    return {};
  }
  return *text;
}

void Loader::loadListen(const YAML::Node& node, std::vector<ListenAddress>& listen) {
  const std::string key = "server.listen";
  listen_given_ = true;
  if (!expectList(node, key)) return;
  if (node.size() == 0) {
    error(node, key, "expected at least one listen address");
    return;
  }
  std::map<std::string, SourceLocation> seen;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string item_key = indexKey(key, i);
    auto text = scalar(item, item_key);
    if (!text) continue;
    std::string reason;
    auto address = parseListenAddress(*text, kDefaultDnsPort, &reason);
    if (!address) {
      error(item, item_key, "invalid listen address '" + printable(*text) + "': " + reason);
      continue;
    }
    address->where = at(item);
    auto [it, inserted] = seen.emplace(address->str(), address->where);
    if (!inserted) {
      error(item, item_key,
            "duplicate listen address '" + address->str() + "' (first given at " +
                formatLocation(it->second) + ")");
      continue;
    }
    listen.push_back(std::move(*address));
  }
}

void Loader::loadLog(const YAML::Node& node, LogConfig& log) {
  if (!expectMap(node, "log")) return;
  Fields f = fields(node, "log", {"level", "format"});
  if (auto format = f.get("format")) {
    auto text = scalar(*format, "log.format");
    if (text && (*text == "text" || *text == "json")) {
      log.format = *text;
    } else if (text) {
      error(*format, "log.format", "invalid log format '" + *text + "' (expected text or json)");
    }
  }
  if (auto level = f.get("level")) {
    static const std::set<std::string> kLevels = {"trace", "debug",    "info", "warn",
                                                  "error", "critical", "off"};
    auto text = scalar(*level, "log.level");
    if (!text) return;
    if (!kLevels.count(*text)) {
      error(*level, "log.level",
            "invalid log level '" + *text +
                "' (expected trace, debug, info, warn, error, critical or off)");
      return;
    }
    log.level = *text;
  }
}

// server.rrl: { responses_per_second: 20, slip: 2, ipv4_prefix: 24, ipv6_prefix: 56,
//               exempt: [10.0.0.0/8] }
void Loader::loadRrl(const YAML::Node& node, RrlSettings& rrl) {
  const std::string key = "server.rrl";
  if (!expectMap(node, key)) return;
  Fields f =
      fields(node, key, {"responses_per_second", "slip", "ipv4_prefix", "ipv6_prefix", "exempt"});
  rrl.enabled = true;
  if (auto v = f.get("responses_per_second")) {
    if (auto n = integer(*v, joinKey(key, "responses_per_second"), 1, 1000000)) {
      rrl.responses_per_second = static_cast<uint32_t>(*n);
    }
  }
  if (auto v = f.get("slip")) {
    if (auto n = integer(*v, joinKey(key, "slip"), 0, 10)) rrl.slip = static_cast<uint32_t>(*n);
  }
  if (auto v = f.get("ipv4_prefix")) {
    if (auto n = integer(*v, joinKey(key, "ipv4_prefix"), 8, 32)) {
      rrl.ipv4_prefix = static_cast<unsigned>(*n);
    }
  }
  if (auto v = f.get("ipv6_prefix")) {
    if (auto n = integer(*v, joinKey(key, "ipv6_prefix"), 16, 64)) {
      rrl.ipv6_prefix = static_cast<unsigned>(*n);
    }
  }
  if (auto list = f.get("exempt")) {
    const std::string ekey = joinKey(key, "exempt");
    if (expectList(*list, ekey)) {
      for (size_t i = 0; i < list->size(); ++i) {
        auto text = scalar((*list)[i], indexKey(ekey, i));
        if (!text) continue;
        if (!validPrefix(*text)) {
          error((*list)[i], indexKey(ekey, i),
                "not a valid address or prefix '" + *text + "' (e.g. 10.0.0.0/8, 2001:db8::/32)");
          continue;
        }
        rrl.exempt.push_back(*text);
      }
    }
  }
}

}  // namespace understudy::config::detail
