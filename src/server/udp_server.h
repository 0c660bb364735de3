#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "understudy/query/answer.h"
#include "understudy/server/query_stats.h"
#include "understudy/server/rate_limiter.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::server {

// One UDP socket served by a thread of its own, the way gdnsd serves UDP: the thread blocks in
// recvmmsg(2) with MSG_WAITFORONE (sleep until one datagram is there, then take whatever else is
// queued, up to kBatch), answers each datagram into its own fixed buffer and sends the answers
// with one sendmmsg(2). Under load that is two system calls per batch; an event loop needs four
// (epoll_wait, recvmmsg, sendmmsg and the re-arm), and on a VM where 85-90% of the CPU per query
// is kernel time, that difference is most of what there is to win. The steady state allocates
// nothing and takes no lock: the thread has its own snapshot reader and its own stats block.
class UdpServer {
 public:
  // A blocked receive also wakes up after `idle_wake` without a datagram: a fallback for
  // stopping, in case shutdown(2) ever fails to wake it, and so an idle thread lets go of a
  // snapshot a reload replaced.
  static constexpr std::chrono::milliseconds kIdleWake{1000};

  // Takes ownership of `fd`: a bound, blocking UDP socket.
  UdpServer(int fd, const zone::SnapshotHolder& holder, ThreadQueryStats& stats,
            RateLimiter* limiter = nullptr, std::chrono::milliseconds idle_wake = kIdleWake);
  ~UdpServer();
  UdpServer(const UdpServer&) = delete;
  UdpServer& operator=(const UdpServer&) = delete;

  // The serving loop; returns after requestStop(). Run it on a thread of its own.
  void run() noexcept;
  // From any thread: the loop finishes the batch in hand (its answers still go out) and returns.
  void requestStop() noexcept;

  static constexpr size_t kBatch = 32;
  // Requests longer than this are cut (MSG_TRUNC) and answered FORMERR; DNS queries are tiny.
  static constexpr size_t kMaxRequest = 4096;
  // The most a UDP answer can be: edns_udp_size is capped at 4096 by the config.
  static constexpr size_t kMaxUdpResponse = 4096;

 private:
  // Answers and sends the `received` datagrams now in the request buffers.
  void serveBatch(unsigned received) noexcept;

  int fd_;
  zone::SnapshotHolder::Reader reader_;
  ThreadQueryStats& stats_;
  RateLimiter* limiter_;  // null unless rate limiting is configured
  std::atomic<bool> stopping_{false};
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
