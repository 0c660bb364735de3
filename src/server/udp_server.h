#pragma once

#include <sys/socket.h>

#include <array>
#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <cstdint>
#include <memory>

#include "understudy/query/answer.h"
#include "understudy/server/query_stats.h"
#include "understudy/server/rate_limiter.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::server {

// One UDP socket on one serving thread. Asio only tells us the socket is readable; then a batch
// of up to kBatch datagrams comes in with one recvmmsg(2), each is answered into its own fixed
// buffer, and the answers leave with one sendmmsg(2). Under load that is two system calls per
// batch instead of two per query, and the steady state allocates nothing.
class UdpServer {
 public:
  UdpServer(boost::asio::io_context& io, boost::asio::ip::udp::socket socket,
            zone::SnapshotHolder::Reader& reader, ThreadQueryStats& stats,
            RateLimiter* limiter = nullptr);
  void start() { doWait(); }
  void close();

  static constexpr size_t kBatch = 32;
  // Requests longer than this are cut (MSG_TRUNC) and answered FORMERR; DNS queries are tiny.
  static constexpr size_t kMaxRequest = 4096;
  // The most a UDP answer can be: edns_udp_size is capped at 4096 by the config.
  static constexpr size_t kMaxUdpResponse = 4096;

 private:
  void doWait();
  void onReadable(const boost::system::error_code& ec);
  // Receives, answers and sends one batch; returns how many datagrams it received.
  int serveBatch();

  boost::asio::ip::udp::socket socket_;
  zone::SnapshotHolder::Reader& reader_;
  ThreadQueryStats& stats_;
  RateLimiter* limiter_;  // null unless rate limiting is configured
  struct Buffers {
    std::array<std::array<uint8_t, kMaxRequest>, kBatch> requests;
    std::array<std::array<uint8_t, kMaxUdpResponse>, kBatch> responses;
    std::array<sockaddr_storage, kBatch> peers;
    std::array<iovec, kBatch> in_iov;
    std::array<iovec, kBatch> out_iov;
    std::array<mmsghdr, kBatch> in;
    std::array<mmsghdr, kBatch> out;
  };
  std::unique_ptr<Buffers> b_ = std::make_unique<Buffers>();
};

}  // namespace understudy::server
