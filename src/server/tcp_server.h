#pragma once

#include <array>
#include <atomic>
#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "understudy/query/answer.h"
#include "understudy/server/query_stats.h"
#include "understudy/server/server.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::server {

class TcpServer;

// Shared by every TCP thread of a Server: the connection cap is global, and so are the counters
// /metrics reads and the accept-failure log's rate limit.
struct TcpCounters {
  std::atomic<unsigned> connections{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};
  std::array<std::atomic<uint64_t>, kAcceptErrorKinds> accept_errors{};
  // One log line per kAcceptLogInterval across all threads: when the last went out (steady
  // clock, ns; 0 = never) and the failure total it reported.
  std::atomic<int64_t> accept_logged_at{0};
  std::atomic<uint64_t> accept_errors_logged{0};

  uint64_t acceptErrorTotal() const {
    uint64_t sum = 0;
    for (const auto& c : accept_errors) sum += c.load(std::memory_order_relaxed);
    return sum;
  }
};

// One DNS-over-TCP connection (RFC 7766): 2-octet length framing, queries answered in order, as
// many as the client sends. A whole message must arrive, and each answer must be taken by the
// client, within the idle timeout, so a slow or silent client only ever costs its own socket.
class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(boost::asio::ip::tcp::socket socket, TcpServer& server);
  void start();
  void close();
  // Graceful stop: close now if waiting for a query, else after the answer in progress is sent.
  void closeWhenIdle();

 private:
  void doReadLength();
  void onReadLength(const boost::system::error_code& ec);
  void doReadBody(size_t length);
  void onReadBody(const boost::system::error_code& ec, size_t length);
  void onWrite(const boost::system::error_code& ec);
  void armTimer();

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  TcpServer& server_;
  std::array<uint8_t, 2> length_;
  std::vector<uint8_t> request_;
  std::vector<uint8_t> response_;  // 2-octet length + message
  bool busy_ = false;
  bool closing_ = false;
  bool closed_ = false;
};

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
