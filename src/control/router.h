// Maps control requests to responses, on the control thread: no sockets here, so the HTTP session
// stays a transport and the routes stay readable. Reads answer at once from the published Status;
// writes go to the health thread as messages and answer when it has carried them out.
#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
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
  // Called once per request, on the control thread: at once for reads, later for writes.
  using Reply = std::function<void(Response)>;

  // `control` is the control thread's executor: answers from the health thread come back
  // through it.
  Router(Sources& sources, ControlStats& stats, boost::asio::any_io_executor control)
      : sources_(sources), stats_(stats), control_(std::move(control)) {}

  // The bearer token for mutations; nullopt = mutations disabled (403).
  void setToken(std::optional<std::string> token) { token_ = std::move(token); }
  // Which Host headers name this endpoint (DNS rebinding); until set, none do.
  void setHostCheck(HostCheck check) { host_check_ = std::move(check); }

  void handle(const Request& request, const Peer& peer, Reply reply);

 private:
  std::optional<Response> mutate(const Request& request, const Peer& peer, const std::string& path,
                                 const std::string& query, Reply& reply);
  std::optional<Response> setOverride(const Request& request, const std::string& pool,
                                      const std::string& endpoint, const std::string& action,
                                      const std::string& query, Reply& reply);
  // Wraps `reply` so that calling it from the health thread answers on the control thread.
  template <typename Result, typename Render>
  std::function<void(Result)> answerLater(Reply& reply, Render render);

  Sources& sources_;
  ControlStats& stats_;
  boost::asio::any_io_executor control_;
  std::optional<std::string> token_;
  HostCheck host_check_;
};

// Percent-decoding of a path segment or query value ("%3A" -> ":", and "+" -> " " in queries).
// nullopt on a malformed escape.
std::optional<std::string> percentDecode(std::string_view text, bool plus_is_space);

}  // namespace understudy::control
