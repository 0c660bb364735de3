#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "tcp_counters.h"
#include "understudy/server/query_stats.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::server {

class TcpConnection;

// Accepts DNS-over-TCP connections on one listener, up to the cap all TCP threads share, and
// owns them until they close.
class TcpServer {
 public:
  TcpServer(boost::asio::io_context& io, boost::asio::ip::tcp::acceptor acceptor,
            zone::SnapshotHolder::Reader& reader, ThreadQueryStats& stats,
            std::chrono::milliseconds idle_timeout, unsigned max_connections,
            TcpCounters& counters);
  void start() { doAccept(); }
  void stop();

  // After a failed accept (out of descriptors, say) the listener waits before trying again: a
  // connection left in the backlog keeps the socket readable, so retrying at once spins a core
  // and starves the answers of the connections already open. The pause doubles while the
  // failures go on and ends at the first success.
  static constexpr std::chrono::milliseconds kAcceptPauseFirst{100};
  static constexpr std::chrono::milliseconds kAcceptPauseMax{1000};
  static constexpr std::chrono::seconds kAcceptLogInterval{10};

 private:
  friend class TcpConnection;
  void doAccept();
  void onAccept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
  void pauseAccepting(const boost::system::error_code& ec);
  void logAcceptFailure(const boost::system::error_code& ec);
  void remove(TcpConnection* connection);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  zone::SnapshotHolder::Reader& reader_;
  ThreadQueryStats& stats_;
  std::chrono::milliseconds idle_timeout_;
  unsigned max_connections_;
  TcpCounters& counters_;
  boost::asio::steady_timer accept_pause_;
  std::chrono::milliseconds pause_{0};  // 0 while accepting works
  std::unordered_map<TcpConnection*, std::shared_ptr<TcpConnection>> live_;
  bool stopping_ = false;
};

}  // namespace understudy::server
