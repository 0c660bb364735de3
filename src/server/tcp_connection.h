#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tcp_framer.h"

namespace understudy::server {

class TcpServer;

// One DNS-over-TCP connection (RFC 7766): queries answered in order, as many as the client
// sends. A whole message must arrive, and each answer must be taken by the client, within the
// idle timeout, so a slow or silent client only ever costs its own socket. The framing is the
// TcpFramer's; this class only moves bytes between it, query::answer and the socket.
class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(boost::asio::ip::tcp::socket socket, TcpServer& server);
  void start();
  void close();
  // Graceful stop: close now if waiting for a query, else after the answer in progress is sent.
  void closeWhenIdle();

 private:
  // Waiting for the next query starts here (and the idle timeout with it).
  void doNextQuery();
  // Answers the next query if the framer holds it whole, else reads. True when that query was
  // dropped unanswered, so the one after it is next; false once a read or write is under way or
  // the connection is closed.
  bool takeQuery();
  void doRead();
  void onRead(const boost::system::error_code& ec, size_t n);
  // Answers `message` and starts writing the answer; false when there is none to send.
  bool doWrite(std::span<const uint8_t> message);
  void onWrite(const boost::system::error_code& ec);
  void armTimer();

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  TcpServer& server_;
  TcpFramer framer_;
  std::vector<uint8_t> response_;  // 2-octet length + message
  bool busy_ = false;              // a query has begun arriving, or its answer is being written
  bool closing_ = false;
  bool closed_ = false;
};

}  // namespace understudy::server
