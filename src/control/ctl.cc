#include "understudy/control/ctl.h"

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "duration.h"
#include "router.h"
#include "token.h"
#include "understudy/common/diagnostic.h"
#include "understudy/common/host_port.h"
#include "understudy/config/config.h"

namespace understudy::control {

namespace {

namespace http = boost::beast::http;
using Json = nlohmann::json;

constexpr const char* kDefaultUrl = "http://127.0.0.1:8053";

struct Target {
  std::string host;  // without brackets
  std::string port;
  std::string authority;  // "127.0.0.1:8053", "[::1]:8053": the Host header
  std::string base;       // "http://127.0.0.1:8053", for messages
};

std::optional<Target> parseUrl(const std::string& url, std::string* error) {
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    *error = "only http:// URLs are supported: " + url;
    return std::nullopt;
  }
  rest = rest.substr(0, rest.find('/'));
  Target t;
  if (rest.starts_with("[")) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      *error = "invalid URL " + url;
      return std::nullopt;
    }
    t.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (rest.starts_with(":")) t.port = std::string(rest.substr(1));
  } else {
    size_t colon = rest.find(':');
    t.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) t.port = std::string(rest.substr(colon + 1));
  }
  if (t.port.empty()) t.port = "80";
  if (t.host.empty()) {
    *error = "invalid URL " + url;
    return std::nullopt;
  }
  t.authority = hostPort(t.host, t.port);
  t.base = "http://";
  t.base += t.authority;
  return t;
}

// What ctl prints for a problem with the config: the file and the key, as it always has. Without a
// key the message names the file itself (an unreadable file), or the problem has a line and a
// column (YAML syntax).
std::string configProblem(const Diagnostic& d) {
  if (d.key.empty()) return d.where.line == 0 ? d.message : d.str();
  std::string out = d.where.file;
  out += ": ";
  out += d.key;
  out += ": ";
  out += d.message;
  return out;
}

// control.listen and control.token_file, read by the config loader and nothing else of the file:
// ctl must work even while the config on disk is being edited. A config that does not say where
// the endpoint is sets `url_problem` (fine when --url is given); an unreadable one is an error.
bool readConfig(const CtlOptions& o, std::string* url, std::string* token_file,
                std::string* url_problem, std::string* error) {
  if (!std::filesystem::exists(o.config_path)) {
    if (o.config_given) {
      *error = o.config_path + ": no such file";
      return false;
    }
    return true;  // the defaults
  }
  config::ControlEndpoint endpoint;
  try {
    // The same limits as the daemon's (a FIFO or a device named here must not hang ctl), the
    // same parser of control.listen and the same default port.
    endpoint = config::loadControlEndpoint(o.config_path);
  } catch (const ConfigError& e) {
    *error = e.diagnostics().empty() ? std::string(e.what()) : configProblem(e.diagnostics()[0]);
    return false;
  }
  if (!endpoint.configured) {
    *url_problem =
        o.config_path + " has no control: section (the control endpoint is off); use --url";
    return true;
  }
  config::ListenAddress address = endpoint.listen;
  // A wildcard listener is reached on loopback.
  if (address.address == "0.0.0.0") address.address = "127.0.0.1";
  if (address.address == "::") address.address = "::1";
  if (address.port == 0) {
    *url_problem = o.config_path + ": control.listen has port 0 (chosen at start-up); use --url";
  } else {
    *url = "http://" + address.str();
  }
  *token_file = endpoint.token_file;
  return true;
}

struct Reply {
  unsigned status = 0;
  std::string body;
};

std::optional<Reply> exchange(const Target& t, http::verb method, const std::string& target,
                              const std::string& token, int timeout_ms, std::string* error) {
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    boost::beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::milliseconds(timeout_ms));
    stream.connect(resolver.resolve(t.host, t.port));
    Request req{method, target, 11};
    // RFC 9110 §7.2: host and port as in the URL, an IPv6 address in brackets. The endpoint
    // answers 421 to a Host that is not its own (DNS rebinding).
    req.set(http::field::host, t.authority);
    req.set(http::field::user_agent, "understudy-ctl");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    req.prepare_payload();
    http::write(stream, req);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer, parser);
    boost::system::error_code ec;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    return Reply{parser.get().result_int(), parser.get().body()};
  } catch (const boost::system::system_error& e) {
    *error = "cannot reach the control endpoint at " + t.base + ": " + e.code().message();
    return std::nullopt;
  } catch (const std::exception& e) {
    *error = "cannot reach the control endpoint at " + t.base + ": " + e.what();
    return std::nullopt;
  }
}

std::string pathEscape(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string str(const Json& j, const char* key, const std::string& otherwise = "-") {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return otherwise;
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

// Aligned columns; the last column is not padded.
void printTable(std::FILE* out, const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return;
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    std::fprintf(out, "%s\n", line.c_str());
  }
}

std::string shortTime(const std::string& rfc3339) {
  // "2024-05-01T12:01:07Z" -> "2024-05-01 12:01:07Z"
  std::string t = rfc3339;
  if (t.size() > 10 && t[10] == 'T') t[10] = ' ';
  return t;
}

// Overrides on endpoints a reload removed: shown so they are not forgotten (`ctl clear` ends
// them).
void printOrphans(std::FILE* out, const Json& status) {
  const Json orphans = status.value("orphaned_overrides", Json::array());
  if (orphans.empty()) return;
  std::vector<std::vector<std::string>> rows = {{"POOL", "ENDPOINT", "OVERRIDE"}};
  for (const auto& o : orphans) {
    std::string expires = str(o, "expires");
    std::string what = str(o, "kind");
    what += " until ";
    what += expires == "-" ? std::string("cleared") : shortTime(expires);
    rows.push_back({str(o, "pool"), str(o, "endpoint"), what});
  }
  std::fprintf(out,
               "\noverrides on endpoints no longer in the configuration (ctl clear POOL "
               "ENDPOINT ends them):\n");
  printTable(out, rows);
}

void printStatus(std::FILE* out, const Json& status) {
  const Json reloads = status.value("reloads", Json::object());
  std::fprintf(out, "understudy %s, serial %s, generation %s, reloads ok %s / failed %s\n\n",
               str(status, "version").c_str(), str(status, "serial").c_str(),
               str(status, "generation").c_str(), str(reloads, "ok").c_str(),
               str(reloads, "failed").c_str());
  std::vector<std::vector<std::string>> endpoints = {
      {"POOL", "ENDPOINT", "PRIO", "STATE", "SERVING", "SINCE", "LAST-PROBE", "OVERRIDE"}};
  std::vector<std::vector<std::string>> records = {{"RECORD", "TYPE", "ANSWER", "WHY"}};
  for (const auto& pool : status.value("pools", Json::array())) {
    std::string name = str(pool, "name");
    for (const auto& e : pool.value("endpoints", Json::array())) {
      std::string last = "-";
      if (e.contains("last_probe") && !e["last_probe"].is_null()) {
        const auto& p = e["last_probe"];
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.1f ms", p.value("duration_ms", 0.0));
        last = str(p, "detail") + " (" + ms + ")";
      }
      std::string over = "-";
      if (e.contains("override") && !e["override"].is_null()) {
        const auto& o = e["override"];
        over = str(o, "kind");
        std::string expires = str(o, "expires");
        over += expires == "-" ? " until cleared" : " until " + shortTime(expires);
      }
      endpoints.push_back({name, str(e, "address"), str(e, "priority"), str(e, "state"),
                           e.value("serving", false) ? "yes" : "no", shortTime(str(e, "since")),
                           last, over});
    }
    for (const auto& r : pool.value("records", Json::array())) {
      records.push_back({str(r, "name"), str(r, "type"), str(r, "answer"), str(r, "why")});
    }
  }
  if (endpoints.size() == 1) {
    std::fprintf(out, "no pools configured\n");
    printOrphans(out, status);
    return;
  }
  printTable(out, endpoints);
  std::fprintf(out, "\n");
  printTable(out, records);
  printOrphans(out, status);
}

void printExplain(std::FILE* out, const Json& e) {
  std::fprintf(out, "%s %s -> %s", str(e, "name").c_str(), str(e, "type").c_str(),
               str(e, "rcode").c_str());
  if (str(e, "ttl") != "-") std::fprintf(out, ", ttl %s", str(e, "ttl").c_str());
  std::fprintf(out, "\n");
  for (const auto& rr : e.value("answer", Json::array())) {
    std::fprintf(out, "  %s\n", rr.get<std::string>().c_str());
  }
  if (e.value("pooled", false)) {
    std::fprintf(out, "pool %s: %s\n", str(e, "pool").c_str(), str(e, "why").c_str());
  } else {
    std::fprintf(out, "%s\n", str(e, "why").c_str());
  }
}

}  // namespace

int runCtl(const CtlOptions& o, std::FILE* out, std::FILE* err) {
  auto fail = [&](const std::string& message) {
    std::fprintf(err, "understudy ctl: %s\n", message.c_str());
    return 1;
  };
  const bool mutating = o.command != "status" && o.command != "explain";
  std::string url = kDefaultUrl;
  std::string token_file = o.token_file;
  std::string error;
  if (o.url.empty() || (mutating && o.token_file.empty())) {
    std::string config_url, config_token, url_problem;
    if (!readConfig(o, &config_url, &config_token, &url_problem, &error)) return fail(error);
    if (o.url.empty() && !url_problem.empty()) return fail(url_problem);
    if (!config_url.empty()) url = config_url;
    if (token_file.empty()) token_file = config_token;
  }
  if (!o.url.empty()) url = o.url;
  auto target = parseUrl(url, &error);
  if (!target) return fail(error);

  http::verb method = http::verb::get;
  std::string path;
  if (o.command == "status") {
    path = "/status";
  } else if (o.command == "explain") {
    if (o.args.empty()) return fail("explain needs NAME [TYPE]");
    path = "/explain?name=" + pathEscape(o.args[0]) +
           "&type=" + pathEscape(o.args.size() > 1 ? o.args[1] : "A");
  } else if (o.command == "reload") {
    method = http::verb::post;
    path = "/reload";
  } else {
    std::string action = o.command == "undrain" ? "clear" : o.command;
    if (action != "drain" && action != "force-down" && action != "force-up" && action != "clear") {
      return fail("unknown command '" + o.command + "'");
    }
    if (o.args.size() != 2) return fail(o.command + " needs POOL ENDPOINT");
    method = http::verb::post;
    path = "/pools/" + pathEscape(o.args[0]) + "/endpoints/" + pathEscape(o.args[1]) + "/" + action;
    if (!o.duration.empty()) {
      if (action == "clear") return fail("--for does not apply to " + o.command);
      if (!parseDuration(o.duration, &error)) return fail(error);
      path += "?for=" + pathEscape(o.duration);
    }
  }

  std::string token;
  if (method == http::verb::post) {
    if (!token_file.empty()) {
      // The same rule as the daemon's, so what ctl sends is what the daemon compares; the mode
      // is the daemon's to check (--token-file may be a client's own copy).
      auto t = readTokenFile(token_file, &error, false);
      if (!t) return fail(error);
      token = *t;
    }
  }
  auto reply = exchange(*target, method, path, token, o.timeout_ms, &error);
  if (!reply) return fail(error);
  Json body = Json::parse(reply->body, nullptr, false);
  if (reply->status >= 300) {
    std::string message = body.is_object() && body.contains("error") ? str(body, "error")
                                                                     : reply->body.substr(0, 2000);
    return fail(message + " (HTTP " + std::to_string(reply->status) + ")");
  }
  if (o.json || body.is_discarded()) {
    std::fprintf(out, "%s", reply->body.c_str());
    if (!reply->body.empty() && reply->body.back() != '\n') std::fprintf(out, "\n");
    return 0;
  }
  if (o.command == "status") {
    printStatus(out, body);
  } else if (o.command == "explain") {
    printExplain(out, body);
  } else {
    std::fprintf(out, "%s\n", str(body, "message").c_str());
  }
  return 0;
}

}  // namespace understudy::control
