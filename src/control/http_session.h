// One control connection: read a request (bounded), answer it through the Router, repeat while
// the client keeps the connection alive. Every read and write has a deadline: the request header
// must be complete within ServerLimits::header_timeout of the connection or of its first byte,
// and a kept-alive connection waits at most idle_timeout for the next request (issue 12: slow or
// idle clients must not hold the endpoint's connections).
#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "control_stats.h"
#include "loopback_peers.h"
#include "router.h"
#include "understudy/control/control_server.h"

namespace understudy::control {

class HttpSession;

struct ControlServer::Core {
  Core(Sources& sources, ServerLimits l, unsigned per_client, boost::asio::any_io_executor control)
      : stats(l.report_interval),
        router(sources, stats, std::move(control)),
        limits(l),
        max_connections_per_client(per_client) {}
  ControlStats stats;
  Router router;
  ServerLimits limits;
  unsigned max_connections_per_client;  // control.max_connections_per_client
  bool stopped = false;
  std::unordered_set<HttpSession*> sessions;   // open connections, for the cap and for stop()
  std::map<std::string, unsigned> per_client;  // open connections by Peer::client
  // Sessions waiting for a write's answer from the health thread. They have no I/O pending, so
  // this is what keeps them alive; the health thread never holds one (it gets a weak_ptr).
  std::map<HttpSession*, std::shared_ptr<HttpSession>> awaiting;
  LoopbackPeers loopback;
};

// "192.0.2.7" and "192.0.2.7:41234"; for a local client whose socket's owner the kernel names,
// "local uid 1000" and "127.0.0.1:41234 (uid 1000)". An IPv4 client of a dual-stack listener is
// named as IPv4.
Peer peerOf(const boost::asio::ip::tcp::endpoint& endpoint, std::optional<uint32_t> uid);

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket socket, Peer peer,
              std::shared_ptr<ControlServer::Core> core);
  ~HttpSession();

  void start() { doReadHeader(); }
  // Aborts whatever is in flight; the pending handlers then see Core::stopped and end.
  void close();

 private:
  // Between requests: waits (idle_timeout) for the first byte of the next one.
  void doWaitForRequest();
  void onWaitForRequest(boost::beast::error_code ec, size_t bytes);
  void doReadHeader();
  void onReadHeader(boost::beast::error_code ec);
  void onReadBody(boost::beast::error_code ec);
  // Answers a read error (413, 431, 400) or counts a timeout; the connection is then done with.
  void readFailed(boost::beast::error_code ec, const char* what,
                  std::chrono::milliseconds deadline);
  void respond();
  // The answer to request number `request` (served_ + 1 when it arrived), now or from the
  // health thread (via the control thread). The first of the answer and the reply timeout wins;
  // an answer for an earlier request (it came after its timeout) is dropped.
  void answer(Response response, unsigned request);
  void doWrite(Response response, bool close_after);
  void onWrite(bool close_after, boost::beast::error_code ec);
  void shutdown();
  // The 500 for a request whose route threw; logs the request, the client and `what`.
  Response internalError(const Request& request, std::string_view what) const;

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Request request_;
  bool answering_ = false;  // request_ is being served
  // A write whose answer the health thread has not sent within ServerLimits::timeout gets 503.
  boost::asio::steady_timer reply_timer_;
  Response response_;
  Peer peer_;
  unsigned served_ = 0;
  std::shared_ptr<ControlServer::Core> core_;
};

}  // namespace understudy::control
