#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "tcp_counters.h"
#include "tcp_server.h"
#include "understudy/server/query_stats.h"
#include "understudy/server/server.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::server {

// One TCP thread of a Server: its own io_context, snapshot reader and stats block, and a
// TcpServer for each listen address, each on its own SO_REUSEPORT acceptor.
class TcpWorker {
 public:
  TcpWorker(const zone::SnapshotHolder& holder, ThreadQueryStats& stats);
  TcpWorker(const TcpWorker&) = delete;
  TcpWorker& operator=(const TcpWorker&) = delete;

  // Binds one TCP acceptor on `address:port` (the port the UDP sockets got); throws
  // std::runtime_error naming the address on failure.
  void bind(const boost::asio::ip::address& address, uint16_t port, const ServerOptions& options,
            TcpCounters& counters);
  // The thread's loop; returns once requestStop() let every connection finish, or forceStop().
  void run();
  // From any thread: stop accepting, and close each connection once its answer in hand is sent.
  void requestStop();
  // From any thread: return from run() now.
  void forceStop() { io_.stop(); }

 private:
  void refreshSnapshot();

  boost::asio::io_context io_{1};
  zone::SnapshotHolder::Reader reader_;
  ThreadQueryStats& stats_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  boost::asio::steady_timer refresh_;
  std::vector<std::unique_ptr<TcpServer>> tcp_;
};

}  // namespace understudy::server
