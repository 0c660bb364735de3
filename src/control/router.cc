#include "router.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "control_stats.h"
#include "duration.h"
#include "metrics.h"
#include "prometheus.h"
#include "status.h"
#include "token.h"

namespace understudy::control {

namespace http = boost::beast::http;
using Json = nlohmann::ordered_json;

namespace {

// What a response needs from its request, kept for answers that come later.
struct Asked {
  unsigned v = 11;
  bool k = false;
  unsigned version() const { return v; }
  bool keep_alive() const { return k; }
};

template <typename Req>
Response make(const Req& req, http::status status, std::string body,
              std::string_view content_type) {
  Response res{status, req.version()};
  res.set(http::field::server, "understudy");
  res.set(http::field::content_type, std::string(content_type));
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string dump(const Json& j) {
  // Names and reasons come from configs, zones and probe answers: invalid UTF-8 must cost a
  // replacement character, not the response.
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

template <typename Req>
Response json(const Req& req, http::status status, const Json& body) {
  return make(req, status, dump(body), "application/json");
}

template <typename Req>
Response error(const Req& req, http::status status, std::string message) {
  return json(req, status, Json{{"error", std::move(message)}});
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// "a=1&b=x%20y" -> {a: 1, b: x y}. nullopt on a malformed escape.
std::optional<std::map<std::string, std::string>> parseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  if (query.empty()) return out;
  for (auto part : split(query, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto key = percentDecode(part.substr(0, eq), true);
    auto value = percentDecode(eq == std::string_view::npos ? "" : part.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    out[*key] = *value;
  }
  return out;
}

// The config normalises endpoint addresses ("2001:DB8::1" -> "2001:db8::1"); so do we, so an
// operator can type either.
std::string normalizeAddress(const std::string& text) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(text, ec);
  return ec ? text : address.to_string();
}

}  // namespace

std::optional<std::string> percentDecode(std::string_view text, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (plus_is_space && text[i] == '+') {
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

void Router::handle(const Request& req, const Peer& peer, Reply reply) {
  std::string_view target(req.target().data(), req.target().size());
  size_t q = target.find('?');
  std::string path(target.substr(0, q));
  std::string query(q == std::string_view::npos ? std::string_view() : target.substr(q + 1));
  const bool get = req.method() == http::verb::get;
  const bool post = req.method() == http::verb::post;

  // Before any route (DNS rebinding): a page reached through a rebound name reads nothing.
  // RFC 9112 §3.2: a request with no Host (HTTP/1.1) or more than one gets 400. HTTP/1.0 needs
  // none, and a request without one cannot come from a browser, whose requests all carry one.
  if (size_t hosts = req.count(http::field::host); hosts > 1) {
    return reply(error(req, http::status::bad_request, "more than one Host header"));
  } else if (hosts == 0 && req.version() >= 11) {
    return reply(error(req, http::status::bad_request, "missing Host header"));
  } else if (hosts == 1) {
    auto value = req[http::field::host];
    std::string_view host(value.data(), value.size());
    if (auto why = host_check_.misdirected(host)) {
      std::string detail = *why;
      detail += " ('";
      detail += printableHeader(host);
      detail += "')";
      std::string message = "421 for ";
      message += std::string_view(req.method_string().data(), req.method_string().size());
      message += " ";
      message += printableHeader(target);
      message += " from ";
      message += peer.text;
      message += ": ";
      message += detail;
      stats_.refuse(Refusal::kHost, peer.client, message);
      detail += ": use the endpoint's own address, or add the name to control.hostnames";
      return reply(error(req, http::status::misdirected_request, std::move(detail)));
    }
  }

  auto method_not_allowed = [&](const char* allow) {
    Response res = error(req, http::status::method_not_allowed,
                         std::string(req.method_string()) + " not allowed on " + path);
    res.set(http::field::allow, allow);
    return res;
  };

  Response res;
  if (path == "/metrics" || path == "/status" || path == "/explain") {
    if (!get) return reply(method_not_allowed("GET"));
    if (path == "/metrics") {
      res = make(req, http::status::ok, renderMetrics(sources_, &stats_), Exposition::kContentType);
    } else if (path == "/status") {
      res = json(req, http::status::ok, statusJson(sources_));
    } else {
      auto params = parseQuery(query);
      if (!params) return reply(error(req, http::status::bad_request, "malformed query string"));
      ExplainResult r = explainJson(sources_, (*params)["name"], (*params)["type"]);
      res = json(req, static_cast<http::status>(r.http_status), r.body);
    }
  } else if (path == "/reload" || path.starts_with("/pools/")) {
    if (!post) return reply(method_not_allowed("POST"));
    if (auto now = mutate(req, peer, path, query, reply)) reply(std::move(*now));
    return;
  } else if (path == "/") {
    if (!get) return reply(method_not_allowed("GET"));
    res =
        json(req, http::status::ok,
             Json{{"endpoints",
                   {"GET /metrics", "GET /status", "GET /explain?name=NAME&type=TYPE",
                    "POST /pools/POOL/endpoints/ADDRESS/drain|force-down|force-up|clear[?for=10m]",
                    "POST /reload"}}});
  } else {
    return reply(error(req, http::status::not_found, "no such path: " + path));
  }
  reply(std::move(res));
}

template <typename Result, typename Render>
std::function<void(Result)> Router::answerLater(Reply& reply, Render render) {
  // Called on the health thread: it only posts. The reply and the rendering run on the control
  // thread, and the health thread is left holding nothing of the connection.
  return [control = control_, reply = std::move(reply),
          render = std::move(render)](Result result) mutable {
    boost::asio::post(control,
                      [reply = std::move(reply), render = std::move(render),
                       result = std::move(result)]() mutable { reply(render(std::move(result))); });
  };
}

std::optional<Response> Router::mutate(const Request& req, const Peer& peer,
                                       const std::string& path, const std::string& query,
                                       Reply& reply) {
  std::string what(req.method_string());
  what += " ";
  what += std::string_view(req.target().data(), req.target().size());
  // Refusals are logged once per interval and client address with a count (ControlStats): a
  // client cannot fill the disk with 401 lines.
  if (!token_) {
    stats_.refuse(
        Refusal::kUnauthorized, peer.client,
        "refused " + what + " from " + peer.text + ": mutations disabled (no control.token_file)");
    return error(req, http::status::forbidden, "mutations disabled: set control.token_file");
  }
  auto header = req.find(http::field::authorization);
  std::optional<std::string_view> presented;
  if (header != req.end()) {
    presented = bearerToken(std::string_view(header->value().data(), header->value().size()));
  }
  if (!presented || !tokensEqual(*presented, *token_)) {
    const char* why = header == req.end() ? "missing bearer token"
                      : presented         ? "wrong bearer token"
                                          : "malformed Authorization (expected: Bearer TOKEN)";
    stats_.refuse(Refusal::kUnauthorized, peer.client,
                  "401 for " + what + " from " + peer.text + ": " + why);
    Response res = error(req, http::status::unauthorized, why);
    res.set(http::field::www_authenticate, "Bearer realm=\"understudy\"");
    return res;
  }
  // Who asked; the Monitor logs what changed, with the same WARN level.
  spdlog::warn("control: {} from {}", what, peer.text);

  if (path == "/reload") {
    if (!query.empty()) return error(req, http::status::bad_request, "/reload takes no parameters");
    Asked asked{req.version(), req.keep_alive()};
    sources_.reload(
        "control request", answerLater<ReloadAnswer>(reply, [asked](ReloadAnswer answer) {
          if (!answer.accepted) {
            return error(asked, http::status::service_unavailable, answer.message);
          }
          return json(
              asked, http::status::accepted,
              Json{{"message", answer.message + "; watch /status or the log for the result"}});
        }));
    return std::nullopt;
  }
  // /pools/{pool}/endpoints/{address}/{action}
  auto parts = split(std::string_view(path).substr(1), '/');
  if (parts.size() != 5 || parts[0] != "pools" || parts[2] != "endpoints") {
    return error(req, http::status::not_found,
                 "no such path: " + path +
                     " (expected /pools/POOL/endpoints/ADDRESS/drain|force-down|force-up|clear)");
  }
  auto pool = percentDecode(parts[1], false);
  auto endpoint = percentDecode(parts[3], false);
  if (!pool || !endpoint) return error(req, http::status::bad_request, "malformed escape in path");
  return setOverride(req, *pool, normalizeAddress(*endpoint), std::string(parts[4]), query, reply);
}

std::optional<Response> Router::setOverride(const Request& req, const std::string& pool,
                                            const std::string& endpoint, const std::string& action,
                                            const std::string& query, Reply& reply) {
  std::optional<failover::OverrideKind> kind;
  if (action == "drain") {
    kind = failover::OverrideKind::kDrain;
  } else if (action == "force-down") {
    kind = failover::OverrideKind::kForceDown;
  } else if (action == "force-up") {
    kind = failover::OverrideKind::kForceUp;
  } else if (action != "clear") {
    return error(req, http::status::not_found,
                 "unknown action '" + action + "' (drain, force-down, force-up or clear)");
  }
  auto params = parseQuery(query);
  if (!params) return error(req, http::status::bad_request, "malformed query string");
  std::optional<std::chrono::seconds> duration;
  for (const auto& [key, value] : *params) {
    if (key != "for" || !kind) {
      return error(req, http::status::bad_request,
                   "unknown parameter '" + key + "'" + (kind ? " (only 'for')" : ""));
    }
    std::string why;
    duration = parseDuration(value, &why);
    if (!duration) return error(req, http::status::bad_request, why);
  }

  failover::OverrideChange change{pool, endpoint, kind, duration};
  Asked asked{req.version(), req.keep_alive()};
  auto render = [asked, change](std::optional<failover::OverrideChangeResult> r) {
    using Result = failover::OverrideChangeResult::Result;
    if (!r) return error(asked, http::status::service_unavailable, "not running");
    if (r->result == Result::kNotFound) return error(asked, http::status::not_found, r->message);
    const std::string where = change.pool + "/" + change.address;
    Json body;
    if (!change.kind) {
      body["message"] =
          r->result == Result::kNothingToClear ? r->message : "override on " + where + " cleared";
    } else {
      body["message"] = std::string(failover::overrideName(*change.kind)) + " on " + where +
                        (change.duration ? " for " + durationText(*change.duration)
                                         : std::string(" until cleared"));
    }
    body["pool"] = change.pool;
    body["endpoint"] = change.address;
    body["override"] = nullptr;
    if (r->serving) body["serving"] = *r->serving;
    if (r->override && r->serving) {
      body["override"] = {
          {"kind", failover::overrideName(r->override->kind)},
          {"since", rfc3339(r->override->since)},
          {"expires", r->override->expires ? Json(rfc3339(*r->override->expires)) : Json(nullptr)}};
    }
    return json(asked, http::status::ok, body);
  };
  sources_.changeOverride(
      std::move(change),
      answerLater<std::optional<failover::OverrideChangeResult>>(reply, std::move(render)));
  return std::nullopt;
}

}  // namespace understudy::control
