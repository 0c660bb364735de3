// The control endpoint (issue 5): a small HTTP/1.1 server (Boost.Beast) on an io_context of its
// own, run by the control thread: never a serving thread, never the health thread (issue 12).
// Reads answer from the Status the health thread publishes; writes are posted to the health
// thread. GET /metrics, /status, /explain are open; POSTs that change overrides or trigger a
// reload need the bearer token from control.token_file. Not thread-safe: every call but start()
// (made before the loop runs) happens on the control thread.
//
// Bounded on every axis so a misbehaving client cannot hurt the daemon (issue 12): requests over
// 64 KiB (or with headers over 8 KiB) get 413; a request header must arrive within 5 s, a body
// and a response within 10 s, and a kept-alive connection is closed after 10 s without a request;
// at most 64 connections are open at once, and at most control.max_connections_per_client (8)
// from one client address, so one client cannot lock out Prometheus or `ctl` (more get a short
// 503 or 429 at accept). Every refusal is counted in /metrics and logged, rate-limited.
#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "understudy/config/config.h"
#include "understudy/control/sources.h"

namespace understudy::control {

struct ServerLimits {
  size_t max_body = 64 * 1024;
  size_t max_header = 8 * 1024;
  // From the connection (or the first byte of a kept-alive connection's next request) to the
  // end of the request header: a client that sends its header slowly is cut off (slowloris).
  std::chrono::milliseconds header_timeout{5000};
  // A kept-alive connection waiting for its next request.
  std::chrono::milliseconds idle_timeout{10000};
  // Reading a request body, writing a response.
  std::chrono::milliseconds timeout{10000};
  size_t max_connections = 64;
  unsigned max_requests_per_connection = 1000;
  // Refusals (caps, timeouts, 401, 421) are logged at once for the first of a kind from a client
  // address, then summed up once per this interval.
  std::chrono::milliseconds report_interval{10000};
  // Local clients counted by the user owning their socket (LoopbackPeers) rather than by their
  // loopback address; off in tests that need several clients on one host and one user.
  bool local_clients_by_user = true;
};

class Router;

class ControlServer {
 public:
  ControlServer(boost::asio::io_context& io, Sources& sources, const config::ControlConfig& config,
                ServerLimits limits = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds and starts accepting. Throws std::runtime_error naming the address on failure.
  void start();
  // Closes the listener and every open connection; no handler touches Sources afterwards.
  void stop();

  // "127.0.0.1:8053" (the real port when the config asked for 0).
  std::string boundAddress() const;

  // On reload: re-reads the token file; a changed address takes effect at restart (logged).
  void reconfigure(const config::ControlConfig& config);

  struct Core;  // shared with the connections, which may outlive a stop()

 private:
  void doAccept();
  void doReport();

  boost::asio::io_context& io_;
  config::ControlConfig config_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer report_timer_;
  std::shared_ptr<Core> core_;
};

}  // namespace understudy::control
