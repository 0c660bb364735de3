// Maps control requests to responses. Pure request -> response on the control thread: no
// sockets here, so the HTTP session stays a transport and the routes stay readable.
#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>

#include "host_check.h"
#include "understudy/control/sources.h"

namespace understudy::control {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

class ControlStats;

// Who sent a request.
struct Peer {
  // Who counts as one client for the per-client limit and the log reports: the address, or for
  // a client on this host the user that owns its socket ("local uid 1000"), so that local users
  // who all connect from 127.0.0.1 are told apart, and one local user is one client whichever
  // loopback address it uses (LoopbackPeers).
  std::string client;
  std::string text;  // "127.0.0.1:41234", "[::1]:41234 (uid 0)": for log lines
};

class Router {
 public:
  Router(Sources& sources, ControlStats& stats) : sources_(sources), stats_(stats) {}

  // The bearer token for mutations; nullopt = mutations disabled (403).
  void setToken(std::optional<std::string> token) { token_ = std::move(token); }
  // Which Host headers name this endpoint (DNS rebinding); until set, none do.
  void setHostCheck(HostCheck check) { host_check_ = std::move(check); }

  Response handle(const Request& request, const Peer& peer);

 private:
  Response mutate(const Request& request, const Peer& peer, const std::string& path,
                  const std::string& query);
  Response setOverride(const Request& request, const std::string& pool, const std::string& endpoint,
                       const std::string& action, const std::string& query);

  Sources& sources_;
  ControlStats& stats_;
  std::optional<std::string> token_;
  HostCheck host_check_;
};

// Percent-decoding of a path segment or query value ("%3A" -> ":", and "+" -> " " in queries).
// nullopt on a malformed escape.
std::optional<std::string> percentDecode(std::string_view text, bool plus_is_space);

}  // namespace understudy::control
