// Typed values shared by the sections of the config loader: maps and their keys, lists,
// strings, integers, TTLs, durations, booleans, IP addresses and HTTP headers, each reported at
// its own location when it is not what the key needs.
#include <arpa/inet.h>

#include <algorithm>

#include "loader.h"

namespace understudy::config::detail {

bool Loader::expectMap(const YAML::Node& node, const std::string& key) {
  if (node.IsMap()) return true;
  error(node, key, "expected a map");
  return false;
}

bool Loader::expectList(const YAML::Node& node, const std::string& key) {
  if (node.IsSequence()) return true;
  error(node, key, "expected a list");
  return false;
}

std::optional<std::string> Loader::scalar(const YAML::Node& node, const std::string& key) {
  if (node.IsScalar()) return node.Scalar();
  error(node, key, "expected a string");
  return std::nullopt;
}

// Reports unknown and repeated keys (yaml-cpp keeps both copies of a repeated key, and silently
// using one of them hides a typo) at the key's own location.
Fields Loader::fields(const YAML::Node& map, const std::string& key,
                      std::initializer_list<std::string_view> allowed) {
  // Sections that may be written empty ("records:" with nothing under it) mean "none".
  static constexpr std::string_view kMayBeEmpty[] = {"server", "log",    "zones", "records",
                                                     "soa",    "checks", "pools", "headers"};
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

std::optional<uint64_t> Loader::integer(const YAML::Node& node, const std::string& key,
                                        uint64_t min, uint64_t max) {
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
std::optional<uint32_t> Loader::ttl(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) {
    error(node, key, "expected a TTL");
    return std::nullopt;
  }
  const std::string& text = node.Scalar();
  const DurationParse parsed = parseDuration(text, kTtlSyntax);
  if (!parsed && !looksLikeInteger(text)) {
    error(node, key, "invalid TTL '" + text + "' (expected seconds or e.g. 300, 5m, 1h, 1d)");
    return std::nullopt;
  }
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(parsed.value).count();
  if (!parsed || static_cast<uint64_t>(seconds) > kMaxTtl) {
    error(node, key, "TTL " + text + " out of range (0.." + std::to_string(kMaxTtl) + ")");
    return std::nullopt;
  }
  return static_cast<uint32_t>(seconds);
}

std::optional<std::chrono::milliseconds> Loader::duration(const YAML::Node& node,
                                                          const std::string& key,
                                                          std::chrono::milliseconds min,
                                                          std::chrono::milliseconds max) {
  if (!node.IsScalar()) {
    error(node, key, "expected a duration");
    return std::nullopt;
  }
  const std::string& text = node.Scalar();
  const DurationParse parsed = parseDuration(text, kDurationSyntax);
  if (!parsed) {
    error(node, key, "invalid duration '" + text + "' (expected e.g. 500ms, 10s, 2m, 1h)");
    return std::nullopt;
  }
  if (parsed.value < min || parsed.value > max) {
    error(node, key,
          "duration " + text + " out of range (" + durationText(min) + ".." + durationText(max) +
              ")");
    return std::nullopt;
  }
  return parsed.value;
}

// `headers: {Name: value, ...}` for probes and webhooks.
void Loader::loadHeaders(const YAML::Node& node, const std::string& key,
                         std::vector<std::pair<std::string, std::string>>& out) {
  if (!expectMap(node, key)) return;
  for (const auto& h : node) {
    auto name = scalar(h.first, key);
    const std::string value_key = name ? joinKey(key, printable(*name)) : key;
    auto value = scalar(h.second, value_key);
    if (!name || !value) continue;
    if (name->empty()) {
      error(h.first, key, "empty header name");
      continue;
    }
    if (auto c = firstRefused(*name, isTokenChar)) {
      error(h.first, key,
            "invalid header name '" + printable(*name) + "': it contains " + describeChar(*c) +
                " (a name is letters, digits and !#$%&'*+-.^_`|~)");
      continue;
    }
    // RFC 9110 §5.5: a field value is visible characters, spaces and tabs.
    if (auto c = firstRefused(*value, [](unsigned char c) { return c == '\t' || !isControl(c); })) {
      error(h.second, value_key,
            "header value contains " + describeChar(*c) +
                ": line breaks and control characters would end the header line");
      continue;
    }
    out.emplace_back(*name, *value);
  }
}

std::optional<std::string> Loader::ipAddress(const YAML::Node& node, const std::string& key) {
  auto text = scalar(node, key);
  if (!text) return std::nullopt;
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text->c_str(), buf) == 1) {
    inet_ntop(AF_INET, buf, out, sizeof out);
    return std::string(out);
  }
  if (inet_pton(AF_INET6, text->c_str(), buf) == 1) {
    inet_ntop(AF_INET6, buf, out, sizeof out);
    return std::string(out);
  }
  error(node, key, "not a valid IPv4 or IPv6 address '" + *text + "'");
  return std::nullopt;
}

std::optional<bool> Loader::boolean(const YAML::Node& node, const std::string& key) {
  if (node.IsScalar()) {
    const std::string& t = node.Scalar();
    if (t == "true" || t == "yes" || t == "on") return true;
    if (t == "false" || t == "no" || t == "off") return false;
  }
  error(node, key, "expected true or false");
  return std::nullopt;
}

}  // namespace understudy::config::detail
