// One control connection: read a request (bounded), answer it through the Router, repeat while
// the client keeps the connection alive. Every read and write has a deadline.
#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "router.h"
#include "understudy/control/control_server.h"

namespace understudy::control {

class HttpSession;

struct ControlServer::Core {
  Core(Sources& sources, ServerLimits l) : router(sources), limits(l) {}
  Router router;
  ServerLimits limits;
  bool stopped = false;
  std::unordered_set<HttpSession*> sessions;  // open connections, for the cap and for stop()
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<ControlServer::Core> core);
  ~HttpSession();

  void start() { doRead(); }
  // Aborts whatever is in flight; the pending handlers then see Core::stopped and end.
  void close();

 private:
  void doRead();
  void onRead(boost::beast::error_code ec);
  void doWrite(Response response, bool close_after);
  void onWrite(bool close_after, boost::beast::error_code ec);
  void shutdown();
  // The 500 for a request whose route threw; logs the request, the client and `what`.
  Response internalError(const Request& request, std::string_view what) const;

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Response response_;
  std::string peer_;
  unsigned served_ = 0;
  std::shared_ptr<ControlServer::Core> core_;
};

}  // namespace understudy::control
