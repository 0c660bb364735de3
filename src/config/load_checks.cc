// `checks:`: health checks (http, https, tcp). Their settings end up in an HTTP request line or
// header, so characters that would break one are refused here, not on the health thread.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "loader.h"
#include "understudy/common/bounded_file.h"

namespace understudy::config::detail {

// A check's `host`: the Host header, the TLS name and the URL's host, so a name or a numeric
// address and nothing else. "app.example.com/x" or "user@app" would probe another URL.
bool Loader::validHost(const YAML::Node& node, const std::string& key, const std::string& host) {
  if (host.empty()) {
    error(node, key, "empty host");
    return false;
  }
  // '%' only as an IPv6 zone id ("fe80::1%eth0").
  const bool v6 = host.find(':') != std::string::npos;
  auto c = firstRefused(host, [v6](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c >= 0x80 || c == ':' ||
           (v6 && c == '%');
  });
  if (c) {
    error(node, key,
          "host '" + printable(host) + "' contains " + describeChar(*c) +
              ": give the host name only (the port goes in 'port', the path in 'path')");
    return false;
  }
  if (v6) {
    // Only an IPv6 address has colons (a port goes in `port`); it may carry a zone id.
    std::string address = host.substr(0, host.find('%'));
    unsigned char buf[16];
    if (inet_pton(AF_INET6, address.c_str(), buf) != 1) {
      error(node, key,
            "host '" + printable(host) +
                "' contains ':' but is not an IPv6 address: give the host name only (the port "
                "goes in 'port')");
      return false;
    }
  }
  return true;
}

// "checks: { name: {type: http, ...}, ... }"
void Loader::loadChecks(const YAML::Node& node, std::vector<health::CheckSpec>& checks) {
  if (!expectMap(node, "checks")) return;
  for (const auto& entry : node) {
    auto name = scalar(entry.first, "checks");
    if (!name) continue;
    const std::string key = joinKey("checks", *name);
    if (*name == "none") {
      error(entry.first, "checks", "'none' is reserved (it means: no health check)");
      continue;
    }
    if (std::any_of(checks.begin(), checks.end(),
                    [&](const health::CheckSpec& c) { return c.name == *name; })) {
      error(entry.first, "checks", "duplicate check '" + *name + "'");
      continue;
    }
    if (auto check = loadCheck(entry.second, key, *name)) checks.push_back(std::move(*check));
  }
}

std::optional<health::CheckSpec> Loader::loadCheck(const YAML::Node& node, const std::string& key,
                                                   const std::string& name) {
  if (!expectMap(node, key)) return std::nullopt;
  Fields f =
      fields(node, key,
             {"type", "port", "path", "method", "host", "headers", "expect_status", "expect_body",
              "tls_verify", "ca_file", "interval", "timeout", "rise", "fall"});
  health::CheckSpec c;
  c.name = name;
  size_t errors_before = error_count_;
  if (auto type = f.get("type")) {
    auto text = scalar(*type, joinKey(key, "type"));
    if (text && *text == "http") {
      c.type = health::CheckType::kHttp;
    } else if (text && *text == "https") {
      c.type = health::CheckType::kHttps;
      c.port = 443;
    } else if (text && *text == "tcp") {
      c.type = health::CheckType::kTcp;
    } else if (text) {
      error(*type, joinKey(key, "type"),
            "unknown check type '" + *text + "' (expected http, https or tcp)");
    }
  } else {
    error(node, key, "missing required key 'type'");
  }
  const bool http = c.type != health::CheckType::kTcp;
  if (auto port = f.get("port")) {
    if (auto v = integer(*port, joinKey(key, "port"), 1, 65535)) c.port = static_cast<uint16_t>(*v);
  } else if (!http && !f.given("port")) {
    error(node, key, "missing required key 'port' (a tcp check needs one)");
  }
  static constexpr const char* kHttpOnly[] = {
      "path", "method", "host", "headers", "expect_status", "expect_body", "tls_verify", "ca_file"};
  for (const char* k : kHttpOnly) {
    if (!http && f.given(k)) {
      if (auto v = f.get(k)) {
        error(*v, joinKey(key, k),
              std::string("'") + k + "' applies to http and https checks only");
      }
    }
  }
  if (http) {
    if (auto path = f.get("path")) {
      auto text = scalar(*path, joinKey(key, "path"));
      // Spaces and control characters would break the request line; '#' starts a fragment,
      // which is never sent, so the probe would ask for another path than the one written.
      auto refused =
          text ? firstRefused(*text,
                              [](unsigned char c) { return !isControl(c) && c != ' ' && c != '#'; })
               : std::nullopt;
      if (text && (text->empty() || (*text)[0] != '/')) {
        error(*path, joinKey(key, "path"), "path must start with '/': '" + printable(*text) + "'");
      } else if (refused) {
        error(*path, joinKey(key, "path"),
              "path '" + printable(*text) + "' contains " + describeChar(*refused) +
                  (*refused == '#' ? ": a fragment is never sent to the server"
                                   : ": percent-encode it (a space is %20)"));
      } else if (text) {
        c.path = *text;
      }
    }
    if (auto method = f.get("method")) {
      auto text = scalar(*method, joinKey(key, "method"));
      if (text && (*text == "GET" || *text == "HEAD")) {
        c.method = *text;
      } else if (text) {
        error(*method, joinKey(key, "method"), "method must be GET or HEAD, not '" + *text + "'");
      }
    }
    if (auto host = f.get("host")) {
      auto text = scalar(*host, joinKey(key, "host"));
      if (text && validHost(*host, joinKey(key, "host"), *text)) c.host = *text;
    }
    if (auto headers = f.get("headers")) loadHeaders(*headers, joinKey(key, "headers"), c.headers);
    if (auto expect = f.get("expect_status"))
      loadExpectStatus(*expect, joinKey(key, "expect_status"), c);
    if (auto body = f.get("expect_body")) {
      if (auto text = scalar(*body, joinKey(key, "expect_body"))) c.expect_body = *text;
    }
    if (auto verify = f.get("tls_verify")) {
      if (auto v = boolean(*verify, joinKey(key, "tls_verify"))) c.tls_verify = *v;
    }
    if (auto ca = f.get("ca_file")) {
      if (auto text = scalar(*ca, joinKey(key, "ca_file"))) {
        std::filesystem::path path(*text);
        if (path.is_relative()) path = std::filesystem::path(base_dir_) / path;
        // Read now, within the CA limit: a FIFO, a device or an oversized file fails the load
        // here, not in the TLS library, which reads this path for HTTPS probes on the health
        // thread. Once per file and load, however many checks share it.
        auto [checked, first] = ca_files_checked_.try_emplace(path.string());
        if (first) readBoundedFile(path.string(), file_kind::kCa, &checked->second);
        if (!checked->second.empty()) error(*ca, joinKey(key, "ca_file"), checked->second);
        c.ca_file = path.string();
      }
    }
  }
  if (c.method == "HEAD" && !c.expect_body.empty()) {
    error(*f.get("expect_body"), joinKey(key, "expect_body"),
          "expect_body needs method GET: a HEAD response has no body");
  }
  if (auto interval = f.get("interval")) {
    if (auto d = duration(*interval, joinKey(key, "interval"), std::chrono::milliseconds(100),
                          std::chrono::milliseconds(3600 * 1000))) {
      c.interval = *d;
    }
  }
  std::optional<YAML::Node> timeout_node = f.get("timeout");
  if (timeout_node) {
    if (auto d = duration(*timeout_node, joinKey(key, "timeout"), std::chrono::milliseconds(10),
                          std::chrono::milliseconds(3600 * 1000))) {
      c.timeout = *d;
    }
  }
  if (c.timeout >= c.interval) {
    // Otherwise probes of one target would overlap (DESIGN.md: a config error).
    error(timeout_node ? at(*timeout_node) : at(node), joinKey(key, "timeout"),
          "timeout " + durationText(c.timeout) + " must be shorter than interval " +
              durationText(c.interval));
  }
  if (auto rise = f.get("rise")) {
    if (auto v = integer(*rise, joinKey(key, "rise"), 1, 100)) c.rise = static_cast<unsigned>(*v);
  }
  if (auto fall = f.get("fall")) {
    if (auto v = integer(*fall, joinKey(key, "fall"), 1, 100)) c.fall = static_cast<unsigned>(*v);
  }
  if (error_count_ != errors_before) return std::nullopt;
  return c;
}

// `expect_status: 200`, `[200, 204]`, `"200-299"` or `[200-299, 301]`.
void Loader::loadExpectStatus(const YAML::Node& node, const std::string& key,
                              health::CheckSpec& c) {
  std::vector<health::StatusRange> ranges;
  auto one = [&](const YAML::Node& item, const std::string& item_key) {
    auto text = scalar(item, item_key);
    if (!text) return;
    size_t dash = text->find('-');
    auto low = parseUnsigned(text->substr(0, dash));
    auto high = dash == std::string::npos ? low : parseUnsigned(text->substr(dash + 1));
    if (!low || !high || *low < 100 || *high > 599 || *low > *high) {
      error(
          item, item_key,
          "invalid HTTP status '" + *text + "' (expected a code 100..599 or a range like 200-299)");
      return;
    }
    ranges.push_back({static_cast<int>(*low), static_cast<int>(*high)});
  };
  if (node.IsSequence()) {
    if (node.size() == 0) error(node, key, "expected at least one status");
    for (size_t i = 0; i < node.size(); ++i) one(node[i], indexKey(key, i));
  } else {
    one(node, key);
  }
  if (!ranges.empty()) c.expect_status = std::move(ranges);
}

}  // namespace understudy::config::detail
