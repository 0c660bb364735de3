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
#include "understudy/zone/snapshot_holder.h"

namespace understudy::server {

class TcpServer;

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
            std::atomic<unsigned>& connections, std::atomic<uint64_t>& accepted,
            std::atomic<uint64_t>& refused);
  void start() { doAccept(); }
  void stop();

 private:
  friend class TcpConnection;
  void doAccept();
  void onAccept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
  void remove(TcpConnection* connection);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  zone::SnapshotHolder::Reader& reader_;
  ThreadQueryStats& stats_;
  std::chrono::milliseconds idle_timeout_;
  unsigned max_connections_;
  std::atomic<unsigned>& connections_;  // shared by every thread: the cap is global
  std::atomic<uint64_t>& accepted_;
  std::atomic<uint64_t>& refused_;
  std::unordered_map<TcpConnection*, std::shared_ptr<TcpConnection>> live_;
  bool stopping_ = false;
};

}  // namespace understudy::server
