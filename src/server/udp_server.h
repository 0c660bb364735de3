#pragma once

#include <array>
#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <cstdint>

#include "understudy/query/answer.h"
#include "understudy/server/query_stats.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::server {

// One UDP socket on one serving thread. Receive, answer into a fixed buffer, send, repeat: the
// steady state allocates nothing (Asio recycles the handler memory per thread).
class UdpServer {
 public:
  UdpServer(boost::asio::io_context& io, boost::asio::ip::udp::socket socket,
            zone::SnapshotHolder::Reader& reader, ThreadQueryStats& stats);
  void start() { doReceive(); }
  void close();

 private:
  void doReceive();
  void onReceive(const boost::system::error_code& ec, size_t size);

  boost::asio::ip::udp::socket socket_;
  zone::SnapshotHolder::Reader& reader_;
  ThreadQueryStats& stats_;
  boost::asio::ip::udp::endpoint remote_;
  std::array<uint8_t, 65535> request_;
  std::array<uint8_t, query::kMaxResponseSize> response_;
};

}  // namespace understudy::server
