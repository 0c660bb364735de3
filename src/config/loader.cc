// YAML configuration -> validated plain structs. Every problem is collected (not only the first)
// and reported with file:line:column and the key path, so one `understudy check` run shows the
// operator everything that needs fixing.
//
// ldns/common.h #defines bool, true and false unless <stdbool.h> came first.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "understudy/config/config.h"
#include "understudy/zone/record.h"

namespace understudy::config {

std::string ListenAddress::str() const {
  if (address.find(':') != std::string::npos) {
    return "[" + address + "]:" + std::to_string(port);
  }
  return address + ":" + std::to_string(port);
}

namespace {

constexpr uint64_t kMaxTtl = 2147483647;  // RFC 2181 §8: TTLs are 31-bit
constexpr uint32_t kDefaultZoneTtl = 3600;
constexpr uint16_t kTypeSoa = 6;
constexpr uint16_t kTypeOpt = 41;
constexpr unsigned kMaxThreads = 256;
constexpr std::chrono::milliseconds kMinTcpIdle{100};
constexpr std::chrono::milliseconds kMaxTcpIdle{3600 * 1000};

// ---- names (ldns does the escapes; we decide what is relative) ---------------------------------

struct RdfDeleter {
  void operator()(ldns_rdf* rdf) const { ldns_rdf_deep_free(rdf); }
};
using RdfPtr = std::unique_ptr<ldns_rdf, RdfDeleter>;

const std::string kRootWire(1, '\0');

// Presentation format with a trailing dot ("demo.test."), for messages.
std::string nameToText(std::string_view wire) {
  if (wire.empty()) wire = kRootWire;
  RdfPtr rdf(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, wire.size(), wire.data()));
  if (!rdf) return "?";
  char* text = ldns_rdf2str(rdf.get());
  if (!text) return "?";
  std::string out(text);
  std::free(text);
  return out;
}

std::string lowered(std::string_view wire) {
  std::string out(wire);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// True if the text ends in an unescaped dot ("a.b." but not "a\.").
bool isAbsoluteText(std::string_view text) {
  if (text.empty() || text.back() != '.') return false;
  size_t backslashes = 0;
  for (size_t i = text.size() - 1; i > 0 && text[i - 1] == '\\'; --i) ++backslashes;
  return backslashes % 2 == 0;
}

// "@" is the origin, names without a trailing dot are relative to `origin` (RFC 1035 §5.1).
std::optional<std::string> nameFromText(std::string_view text, std::string_view origin,
                                        std::string* error) {
  if (text == "@") return std::string(origin);
  if (text.empty()) {
    *error = "empty name";
    return std::nullopt;
  }
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0') {
      *error = "contains whitespace";
      return std::nullopt;
    }
  }
  ldns_rdf* raw = nullptr;
  std::string copy(text);
  ldns_status status = ldns_str2rdf_dname(&raw, copy.c_str());
  RdfPtr rdf(raw);
  if (status != LDNS_STATUS_OK || !rdf) {
    *error = ldns_get_errorstr_by_id(status);
    return std::nullopt;
  }
  // ldns always returns an absolute name.
  std::string wire(reinterpret_cast<const char*>(ldns_rdf_data(rdf.get())),
                   ldns_rdf_size(rdf.get()));
  if (isAbsoluteText(text)) return wire;
  wire.pop_back();
  wire.append(origin.empty() ? std::string_view(kRootWire) : origin);
  if (wire.size() > 255) {
    *error = "name longer than 255 octets";
    return std::nullopt;
  }
  return wire;
}

// Both lowercased wire names.
bool isSubdomain(std::string_view name, std::string_view zone) {
  size_t offset = 0;
  while (offset < name.size()) {
    if (name.size() - offset == zone.size()) return name.substr(offset) == zone;
    if (name.size() - offset < zone.size()) return false;
    offset += 1 + static_cast<uint8_t>(name[offset]);
  }
  return false;
}

// ---- scalars -----------------------------------------------------------------------------------

std::optional<uint64_t> parseUnsigned(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

// "-5" and "99999999999999999999" are integers, merely out of range; "5x" is not one.
bool looksLikeInteger(std::string_view text) {
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A sequence of <number><unit> ("1h30m", "500ms"), or a bare number of seconds. Returns
// milliseconds; values too large for any of our limits saturate instead of overflowing.
std::optional<uint64_t> parseDurationMs(std::string_view text, bool allow_ms, bool allow_days) {
  constexpr uint64_t kCap = uint64_t{1} << 62;
  if (auto seconds = parseUnsigned(text)) return std::min(*seconds, kCap / 1000) * 1000;
  if (text.empty()) return std::nullopt;
  uint64_t total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t digits_end = pos;
    while (digits_end < text.size() && text[digits_end] >= '0' && text[digits_end] <= '9') {
      ++digits_end;
    }
    auto number = parseUnsigned(text.substr(pos, digits_end - pos));
    if (!number) return std::nullopt;
    size_t unit_end = digits_end;
    while (unit_end < text.size() && !(text[unit_end] >= '0' && text[unit_end] <= '9')) ++unit_end;
    std::string_view unit = text.substr(digits_end, unit_end - digits_end);
    uint64_t scale = 0;
    if (unit == "ms" && allow_ms) {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60 * 1000;
    } else if (unit == "h") {
      scale = 3600 * 1000;
    } else if (unit == "d" && allow_days) {
      scale = 86400 * 1000;
    } else if (unit == "w" && allow_days) {
      scale = 7 * 86400 * 1000;
    } else {
      return std::nullopt;
    }
    total += std::min(*number, kCap / scale) * scale;
    total = std::min(total, kCap);
    pos = unit_end;
  }
  return total;
}

std::string formatDuration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % (3600 * 1000) == 0) return std::to_string(ms / (3600 * 1000)) + "h";
  if (ms % (60 * 1000) == 0) return std::to_string(ms / (60 * 1000)) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string formatLocation(const SourceLocation& where) {
  std::string out = where.file;
  if (where.line > 0) {
    out += ':' + std::to_string(where.line);
    if (where.column > 0) out += ':' + std::to_string(where.column);
  }
  return out;
}

std::string joinKey(const std::string& parent, std::string_view child) {
  if (parent.empty()) return std::string(child);
  return parent + "." + std::string(child);
}

std::string indexKey(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

// ---- the loader --------------------------------------------------------------------------------

// The values of a YAML map by key, after the keys were checked against the allowed set.
class Fields {
 public:
  // The value, unless the key is absent or was given without a value.
  std::optional<YAML::Node> get(std::string_view key) const {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  // Whether the key was written at all, even if its value was unusable.
  bool given(std::string_view key) const { return given_.count(key) != 0; }
  void set(std::string key, YAML::Node value) { values_.emplace(std::move(key), value); }
  void markGiven(std::string key) { given_.insert(std::move(key)); }

 private:
  std::map<std::string, YAML::Node, std::less<>> values_;
  std::set<std::string, std::less<>> given_;
};

class Loader {
 public:
  Loader(std::string file, std::string base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  Config load(std::string_view yaml) {
    Config config;
    config.path = file_;
    YAML::Node root;
    try {
      root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
      throw ConfigError(Diagnostic{at(e.mark), "", e.msg});
    }
    try {
      loadRoot(root, config);
    } catch (const YAML::Exception& e) {
      // Should not happen (we never convert with as<>), but a bug must not escape as a crash.
      error(at(e.mark), "", e.msg);
    }
    if (config.server.listen.empty() && !listen_given_) {
      config.server.listen = {ListenAddress{"127.0.0.1", 53, {}}, ListenAddress{"::1", 53, {}}};
    }
    if (!errors_.empty()) throw ConfigError(std::move(errors_));
    return config;
  }

 private:
  SourceLocation at(const YAML::Mark& mark) const {
    if (mark.is_null()) return SourceLocation{file_, 0, 0};
    return SourceLocation{file_, mark.line + 1, mark.column + 1};
  }
  SourceLocation at(const YAML::Node& node) const { return at(node.Mark()); }

  void error(SourceLocation where, std::string key, std::string message) {
    errors_.push_back(Diagnostic{std::move(where), std::move(key), std::move(message)});
  }
  void error(const YAML::Node& node, std::string key, std::string message) {
    error(at(node), std::move(key), std::move(message));
  }

  bool expectMap(const YAML::Node& node, const std::string& key) {
    if (node.IsMap()) return true;
    error(node, key, "expected a map");
    return false;
  }
  bool expectList(const YAML::Node& node, const std::string& key) {
    if (node.IsSequence()) return true;
    error(node, key, "expected a list");
    return false;
  }
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& key) {
    if (node.IsScalar()) return node.Scalar();
    error(node, key, "expected a string");
    return std::nullopt;
  }

  // Reports unknown and repeated keys (yaml-cpp keeps both copies of a repeated key, and silently
  // using one of them hides a typo) at the key's own location.
  Fields fields(const YAML::Node& map, const std::string& key,
                std::initializer_list<std::string_view> allowed) {
    // Sections that may be written empty ("records:" with nothing under it) mean "none".
    static constexpr std::string_view kMayBeEmpty[] = {"server", "log", "zones", "records", "soa"};
    Fields out;
    for (const auto& entry : map) {
      const YAML::Node& name_node = entry.first;
      if (!name_node.IsScalar()) {
        error(name_node, key, "expected a string key");
        continue;
      }
      const std::string& name = name_node.Scalar();
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        error(name_node, key, "unknown key '" + name + "'");
        continue;
      }
      if (out.given(name)) {
        error(name_node, key, "duplicate key '" + name + "'");
        continue;
      }
      out.markGiven(name);
      if (entry.second.IsNull()) {
        // yaml-cpp gives an empty value the mark of whatever follows it; the key's own
        // location is where the operator has to look.
        if (std::find(std::begin(kMayBeEmpty), std::end(kMayBeEmpty), name) ==
            std::end(kMayBeEmpty)) {
          error(name_node, joinKey(key, name), "missing value");
        }
        continue;
      }
      out.set(name, entry.second);
    }
    return out;
  }

  std::optional<uint64_t> integer(const YAML::Node& node, const std::string& key, uint64_t min,
                                  uint64_t max) {
    if (!node.IsScalar()) {
      error(node, key, "expected an integer");
      return std::nullopt;
    }
    const std::string& text = node.Scalar();
    if (!looksLikeInteger(text)) {
      error(node, key, "expected an integer, got '" + text + "'");
      return std::nullopt;
    }
    auto value = parseUnsigned(text);  // nullopt when negative or too long: out of range
    if (!value || *value < min || *value > max) {
      error(node, key,
            "value " + text + " out of range (" + std::to_string(min) + ".." + std::to_string(max) +
                ")");
      return std::nullopt;
    }
    return value;
  }

  // RFC 1035 TTLs: seconds, or BIND-style units ("5m", "1h30m", "1d").
  std::optional<uint32_t> ttl(const YAML::Node& node, const std::string& key) {
    if (!node.IsScalar()) {
      error(node, key, "expected a TTL");
      return std::nullopt;
    }
    const std::string& text = node.Scalar();
    auto ms = parseDurationMs(text, false, true);
    if (!ms && !looksLikeInteger(text)) {
      error(node, key, "invalid TTL '" + text + "' (expected seconds or e.g. 300, 5m, 1h, 1d)");
      return std::nullopt;
    }
    if (!ms || *ms / 1000 > kMaxTtl) {
      error(node, key, "TTL " + text + " out of range (0.." + std::to_string(kMaxTtl) + ")");
      return std::nullopt;
    }
    return static_cast<uint32_t>(*ms / 1000);
  }

  std::optional<std::chrono::milliseconds> duration(const YAML::Node& node, const std::string& key,
                                                    std::chrono::milliseconds min,
                                                    std::chrono::milliseconds max) {
    if (!node.IsScalar()) {
      error(node, key, "expected a duration");
      return std::nullopt;
    }
    const std::string& text = node.Scalar();
    auto ms = parseDurationMs(text, true, false);
    if (!ms) {
      error(node, key, "invalid duration '" + text + "' (expected e.g. 500ms, 10s, 2m, 1h)");
      return std::nullopt;
    }
    if (*ms < static_cast<uint64_t>(min.count()) || *ms > static_cast<uint64_t>(max.count())) {
      error(node, key,
            "duration " + text + " out of range (" + formatDuration(min) + ".." +
                formatDuration(max) + ")");
      return std::nullopt;
    }
    return std::chrono::milliseconds(*ms);
  }

  void loadRoot(const YAML::Node& root, Config& config) {
    if (!root.IsDefined() || root.IsNull()) return;  // an empty file is a valid, empty config
    if (!root.IsMap()) {
      error(root, "", "expected a map at the top level");
      return;
    }
    Fields top = fields(root, "", {"server", "log", "zones"});
    if (auto server = top.get("server")) loadServer(*server, config.server);
    if (auto log = top.get("log")) loadLog(*log, config.log);
    if (auto zones = top.get("zones")) loadZones(*zones, config.zones);
  }

  void loadServer(const YAML::Node& node, ServerConfig& server) {
    const std::string key = "server";
    if (!expectMap(node, key)) return;
    Fields f =
        fields(node, key,
               {"listen", "threads", "tcp_idle_timeout", "tcp_max_connections", "edns_udp_size"});
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
    // RFC 6891 §6.2.5: below 512 is not allowed; above 4096 invites fragmentation.
    if (auto size = f.get("edns_udp_size")) {
      if (auto value = integer(*size, "server.edns_udp_size", 512, 4096)) {
        server.edns_udp_size = static_cast<uint16_t>(*value);
      }
    }
  }

  // "127.0.0.1:5353", "[::1]:5353", "127.0.0.1", "::1", "[::1]"; numeric addresses only, so a
  // config never depends on the resolver at start-up.
  std::optional<ListenAddress> parseListen(const std::string& text, std::string* reason) {
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
      host = text;  // a bare IPv6 address; with a port it must be bracketed
      v6 = true;
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
        *reason = "'" + host + "' is not a numeric IPv6 address" +
                  (text[0] == '[' ? "" : " (write [address]:port to give a port)");
        return std::nullopt;
      }
      inet_ntop(AF_INET6, buf, normalized, sizeof normalized);
    } else {
      if (inet_pton(AF_INET, host.c_str(), buf) != 1) {
        *reason = "'" + host + "' is not a numeric IPv4 address";
        return std::nullopt;
      }
      inet_ntop(AF_INET, buf, normalized, sizeof normalized);
    }
    ListenAddress out;
    out.address = normalized;
    if (port_text) {
      auto port = parseUnsigned(*port_text);
      if (!port || *port > 65535) {
        *reason = "invalid port '" + *port_text + "' (expected 0..65535)";
        return std::nullopt;
      }
      out.port = static_cast<uint16_t>(*port);
    }
    return out;
  }

  void loadListen(const YAML::Node& node, std::vector<ListenAddress>& listen) {
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
      auto address = parseListen(*text, &reason);
      if (!address) {
        error(item, item_key, "invalid listen address '" + *text + "': " + reason);
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

  void loadLog(const YAML::Node& node, LogConfig& log) {
    if (!expectMap(node, "log")) return;
    Fields f = fields(node, "log", {"level"});
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

  void loadZones(const YAML::Node& node, std::vector<zone::ZoneSource>& zones) {
    if (!expectList(node, "zones")) return;
    std::map<std::string, SourceLocation> seen;  // lowercased origin -> first definition
    for (size_t i = 0; i < node.size(); ++i) {
      auto zone = loadZone(node[i], i);
      if (!zone) continue;
      auto [it, inserted] = seen.emplace(zone->origin, zone->where);
      if (!inserted) {
        error(zone->where, zone->key,
              "duplicate zone '" + nameToText(zone->origin) + "' (first defined at " +
                  formatLocation(it->second) + ")");
        continue;
      }
      zones.push_back(std::move(*zone));
    }
  }

  // The parts of a zone entry that records need while they are parsed.
  struct ZoneContext {
    std::string key;           // "zones[0]"
    std::string origin;        // wire, case as written; relative names complete with it
    std::string origin_lower;  // for the outside-the-zone check
    bool origin_valid = false;
    uint32_t default_ttl = kDefaultZoneTtl;
  };

  std::optional<zone::ZoneSource> loadZone(const YAML::Node& node, size_t index) {
    ZoneContext ctx;
    ctx.key = indexKey("zones", index);
    if (!expectMap(node, ctx.key)) return std::nullopt;
    Fields f = fields(node, ctx.key, {"name", "default_ttl", "soa", "file", "records"});

    zone::ZoneSource zone;
    zone.key = ctx.key;
    zone.where = at(node);
    ctx.origin = kRootWire;
    if (auto name = f.get("name")) {
      const std::string key = joinKey(ctx.key, "name");
      if (auto text = scalar(*name, key)) {
        // Zone names are always absolute, with or without the trailing dot.
        std::string reason;
        std::optional<std::string> wire;
        if (*text == "@") {
          reason = "'@' has no meaning here";
        } else {
          std::string absolute = isAbsoluteText(*text) ? *text : *text + ".";
          wire = nameFromText(absolute, kRootWire, &reason);
        }
        if (!wire) {
          error(*name, key, "invalid zone name '" + *text + "': " + reason);
        } else {
          ctx.origin = *wire;
          ctx.origin_lower = lowered(*wire);
          ctx.origin_valid = true;
        }
      }
    } else if (!f.given("name")) {
      error(node, ctx.key, "missing required key 'name'");
    }
    if (auto ttl_node = f.get("default_ttl")) {
      if (auto value = ttl(*ttl_node, joinKey(ctx.key, "default_ttl"))) ctx.default_ttl = *value;
    }

    std::vector<zone::Record> file_records;
    std::optional<SourceLocation> file_soa;
    if (auto file = f.get("file")) {
      const std::string key = joinKey(ctx.key, "file");
      if (auto text = scalar(*file, key)) {
        std::filesystem::path path(*text);
        if (path.is_relative()) path = std::filesystem::path(base_dir_) / path;
        if (ctx.origin_valid) {
          try {
            file_records = zone::importZoneFile(path.string(), ctx.origin, ctx.default_ttl);
          } catch (const ConfigError& e) {
            for (const Diagnostic& d : e.diagnostics()) {
              if (d.where.line == 0) {
                // Cannot open or read it: point at the file: key instead of nowhere, and name
                // the path as resolved ("cannot open zone file 'x': No such file or directory").
                std::string message = d.message;
                size_t colon = message.find(": ");
                if (colon == std::string::npos) colon = message.size();
                message.insert(colon, " '" + path.string() + "'");
                error(*file, key, message);
              } else {
                error(d.where, key, d.message);
              }
            }
          }
          for (const zone::Record& r : file_records) {
            if (r.type == kTypeSoa) file_soa = r.where;
          }
        }
      }
    }

    std::optional<zone::Record> soa;
    if (auto soa_node = f.get("soa")) {
      if (file_soa) {
        error(*soa_node, joinKey(ctx.key, "soa"),
              "the zone file already has an SOA record (" + formatLocation(*file_soa) +
                  "); remove one of them");
      } else {
        soa = loadSoa(*soa_node, ctx, at(*soa_node));
      }
    } else if (!file_soa) {
      soa = loadSoa(std::nullopt, ctx, zone.where);
    }

    if (soa) zone.records.push_back(std::move(*soa));
    for (zone::Record& r : file_records) zone.records.push_back(std::move(r));
    if (auto records = f.get("records")) {
      const std::string key = joinKey(ctx.key, "records");
      if (expectList(*records, key)) {
        for (size_t j = 0; j < records->size(); ++j) {
          loadRecord((*records)[j], indexKey(key, j), ctx, zone.records);
        }
      }
    }

    // A zone with other errors still takes part in the duplicate check; the load fails anyway.
    if (!ctx.origin_valid) return std::nullopt;
    zone.origin = ctx.origin_lower;
    return zone;
  }

  // RFC 1035 §3.3.13. Everything has a default, so a zone needs no soa: key at all.
  // `node` is absent when the zone has no soa: key and every default applies.
  std::optional<zone::Record> loadSoa(const std::optional<YAML::Node>& node, const ZoneContext& ctx,
                                      const SourceLocation& where) {
    const std::string key = joinKey(ctx.key, "soa");
    Fields f;
    if (node) {
      if (!expectMap(*node, key)) return std::nullopt;
      f = fields(*node, key,
                 {"mname", "rname", "serial", "refresh", "retry", "expire", "minimum", "ttl"});
    }
    bool ok = true;
    auto name = [&](std::string_view field, const char* fallback) {
      std::string text = fallback;
      std::optional<YAML::Node> value = f.get(field);
      if (value) {
        auto given = scalar(*value, joinKey(key, field));
        if (!given) {
          ok = false;
          return std::string();
        }
        text = *given;
      }
      std::string reason;
      auto wire = nameFromText(text, ctx.origin, &reason);
      if (!wire) {
        error(value ? at(*value) : where, joinKey(key, field),
              "invalid domain name '" + text + "': " + reason);
        ok = false;
        return std::string();
      }
      return *wire;
    };
    auto number = [&](std::string_view field, uint32_t fallback, bool is_serial) {
      std::optional<YAML::Node> value = f.get(field);
      if (!value) return fallback;
      std::optional<uint64_t> parsed;
      if (is_serial) {
        parsed = integer(*value, joinKey(key, field), 0, 0xffffffff);  // RFC 1982 serial
      } else {
        parsed = ttl(*value, joinKey(key, field));
      }
      if (!parsed) ok = false;
      return parsed ? static_cast<uint32_t>(*parsed) : fallback;
    };

    std::string rdata = name("mname", "ns1");
    rdata += name("rname", "hostmaster");
    const uint32_t values[] = {number("serial", 1, true), number("refresh", 3600, false),
                               number("retry", 600, false), number("expire", 1209600, false),
                               number("minimum", 300, false)};
    for (uint32_t v : values) {
      rdata += static_cast<char>(v >> 24);
      rdata += static_cast<char>(v >> 16);
      rdata += static_cast<char>(v >> 8);
      rdata += static_cast<char>(v);
    }
    const uint32_t soa_ttl = number("ttl", ctx.default_ttl, false);
    if (!ok) return std::nullopt;
    zone::Record record;
    record.owner = ctx.origin;
    record.type = kTypeSoa;
    record.ttl = soa_ttl;
    record.rdata = std::move(rdata);
    record.where = where;
    record.key = key;
    return record;
  }

  void loadRecord(const YAML::Node& node, const std::string& key, const ZoneContext& ctx,
                  std::vector<zone::Record>& out) {
    if (!expectMap(node, key)) return;
    Fields f = fields(node, key, {"name", "type", "ttl", "value", "values"});

    std::optional<std::string> owner;
    if (auto name = f.get("name")) {
      const std::string name_key = joinKey(key, "name");
      if (auto text = scalar(*name, name_key)) {
        std::string reason;
        owner = nameFromText(*text, ctx.origin, &reason);
        if (!owner) {
          error(*name, name_key, "invalid domain name '" + *text + "': " + reason);
        } else if (ctx.origin_valid && !isSubdomain(lowered(*owner), ctx.origin_lower)) {
          error(*name, name_key,
                "record owner '" + nameToText(*owner) + "' is outside zone '" +
                    nameToText(ctx.origin_lower) + "'");
          owner.reset();
        }
      }
    } else if (!f.given("name")) {
      error(node, key, "missing required key 'name'");
    }

    uint16_t type = 0;  // 0 = not usable
    if (auto type_node = f.get("type")) {
      const std::string type_key = joinKey(key, "type");
      if (auto text = scalar(*type_node, type_key)) {
        auto parsed = zone::typeFromText(*text);
        if (!parsed) {
          error(*type_node, type_key, "unknown record type '" + *text + "'");
        } else if (*parsed == kTypeSoa) {
          error(*type_node, type_key, "use the zone's soa: key instead of an SOA record");
        } else if (*parsed == kTypeOpt || (*parsed >= 128 && *parsed <= 255)) {
          // RFC 6895 §3.1: OPT and the meta/query types never appear in zone data.
          error(*type_node, type_key, "type " + *text + " cannot appear in zone data");
        } else {
          type = *parsed;
        }
      }
    } else if (!f.given("type")) {
      error(node, key, "missing required key 'type'");
    }

    uint32_t record_ttl = ctx.default_ttl;
    bool ttl_ok = true;
    if (auto ttl_node = f.get("ttl")) {
      auto value = ttl(*ttl_node, joinKey(key, "ttl"));
      if (value) {
        record_ttl = *value;
      } else {
        ttl_ok = false;
      }
    }

    // (value node, key path) for each RDATA.
    std::vector<std::pair<YAML::Node, std::string>> values;
    auto value = f.get("value");
    auto list = f.get("values");
    if (value && list) {
      error(node, key, "use either 'value' or 'values', not both");
      return;
    }
    if (!value && !list) {
      if (!f.given("value") && !f.given("values")) error(node, key, "missing 'value' or 'values'");
      return;
    }
    if (value) {
      values.emplace_back(*value, joinKey(key, "value"));
    } else {
      const std::string list_key = joinKey(key, "values");
      if (!expectList(*list, list_key)) return;
      if (list->size() == 0) {
        error(*list, list_key, "expected at least one value");
        return;
      }
      for (size_t i = 0; i < list->size(); ++i)
        values.emplace_back((*list)[i], indexKey(list_key, i));
    }

    for (const auto& [value_node, value_key] : values) {
      auto text = scalar(value_node, value_key);
      if (!text || type == 0) continue;
      std::string reason;
      auto rdata = zone::parseRdata(type, *text, ctx.origin, &reason);
      if (!rdata) {
        error(value_node, value_key, reason);
        continue;
      }
      if (!owner || !ttl_ok) continue;
      zone::Record record;
      record.owner = *owner;
      record.type = type;
      record.ttl = record_ttl;
      record.rdata = std::move(*rdata);
      record.where = at(value_node);
      record.key = key;
      out.push_back(std::move(record));
    }
  }

  std::string file_;
  std::string base_dir_;
  bool listen_given_ = false;
  std::vector<Diagnostic> errors_;
};

}  // namespace

Config loadString(std::string_view yaml, const std::string& name, const std::string& base_dir) {
  return Loader(name, base_dir).load(yaml);
}

Config loadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(Diagnostic{
        {path, 0, 0}, "", std::string("cannot open config file: ") + std::strerror(errno)});
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    throw ConfigError(Diagnostic{
        {path, 0, 0}, "", std::string("cannot read config file: ") + std::strerror(errno)});
  }
  std::string base_dir = std::filesystem::path(path).parent_path().string();
  if (base_dir.empty()) base_dir = ".";
  return loadString(text.str(), path, base_dir);
}

}  // namespace understudy::config
