#include "udp_server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace understudy::server {

UdpServer::UdpServer(int fd, const zone::SnapshotHolder& holder, ThreadQueryStats& stats,
                     RateLimiter* limiter, std::chrono::milliseconds idle_wake)
    : fd_(fd), reader_(holder), stats_(stats), limiter_(limiter) {
  auto ms = idle_wake.count();
  timeval idle{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
  // Everything in the message headers but the address lengths stays put from batch to batch.
  Buffers& b = *b_;
  std::memset(b.in.data(), 0, sizeof b.in);
  std::memset(b.out.data(), 0, sizeof b.out);
  for (size_t i = 0; i < kBatch; ++i) {
    b.in_iov[i] = iovec{b.requests[i].data(), kMaxRequest};
    b.in[i].msg_hdr.msg_name = &b.peers[i];
    b.in[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    b.in[i].msg_hdr.msg_iov = &b.in_iov[i];
    b.in[i].msg_hdr.msg_iovlen = 1;
    b.out[i].msg_hdr.msg_iov = &b.out_iov[i];
    b.out[i].msg_hdr.msg_iovlen = 1;
  }
}

UdpServer::~UdpServer() {
  ::close(fd_);
}

void UdpServer::requestStop() noexcept {
  stopping_.store(true, std::memory_order_release);
  // Wakes a thread blocked in recvmmsg at once: on an unconnected UDP socket Linux answers
  // ENOTCONN but still marks the socket shut for reading and wakes its sleepers, and every later
  // receive returns at once with an empty, address-less message (checked in
  // tests/unit/server/udp_server_test.cc). The idle receive timeout is the fallback.
  ::shutdown(fd_, SHUT_RD);
}

void UdpServer::run() noexcept {
  Buffers& b = *b_;
  unsigned used = 0;  // headers whose address length the last receive overwrote
  while (!stopping_.load(std::memory_order_acquire)) {
    for (unsigned i = 0; i < used; ++i) b.in[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    int received = ::recvmmsg(fd_, b.in.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (received > 0) {
      used = static_cast<unsigned>(received);
      serveBatch(used);
      continue;
    }
    used = 0;
    if (received == 0) continue;
    switch (errno) {
      case EAGAIN:  // the idle timeout: nothing arrived
#if EWOULDBLOCK != EAGAIN
      case EWOULDBLOCK:
#endif
        reader_.get();  // lets go of a snapshot a reload replaced, if any
        break;
      case EINTR:
        break;
      case EBADF:
      case ENOTSOCK:
      case EFAULT:
      case EINVAL:
        // Not a network condition but a bug: this socket cannot be served any more.
        spdlog::error("UDP receive failed: {}; this socket is no longer served",
                      std::strerror(errno));
        return;
      case ENOMEM:
      case ENOBUFS: {
        timespec pause{0, 1000000};  // the kernel is short of memory: do not spin on it
        ::nanosleep(&pause, nullptr);
        break;
      }
      default:
        // A pending socket error (ECONNREFUSED and friends from ICMP, should the socket ever get
        // them) is reported once and cleared by the call that returns it: keep serving.
        break;
    }
  }
}

void UdpServer::serveBatch(unsigned received) noexcept {
  Buffers& b = *b_;
  const zone::Snapshot* snapshot = reader_.get();
  uint32_t now = 0;
  if (limiter_) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // vDSO, no system call
    now = static_cast<uint32_t>(ts.tv_sec);
  }
  unsigned replies = 0;
  for (unsigned i = 0; i < received; ++i) {
    const socklen_t peer_size = b.in[i].msg_hdr.msg_namelen;
    // No sender: the wake-up of a socket shut for reading by requestStop(), not a datagram.
    if (peer_size == 0) continue;
    const size_t size = b.in[i].msg_len;
    query::AnswerInfo info;
    size_t n = query::answer(std::span<const uint8_t>(b.requests[i].data(), size), snapshot,
                             query::Transport::kUdp,
                             std::span<uint8_t>(b.responses[i].data(), kMaxUdpResponse), &info);
    stats_.count(query::Transport::kUdp, n, info);
    if (n == 0) continue;
    if (limiter_) {
      RateLimiter::Verdict v = limiter_->check(b.peers[i], now);
      if (v == RateLimiter::Verdict::kDrop) continue;
      if (v == RateLimiter::Verdict::kSlip) n = truncateToQuestion(b.responses[i].data(), n);
      if (n == 0) continue;
    }
    b.out_iov[replies] = iovec{b.responses[i].data(), n};
    b.out[replies].msg_hdr.msg_name = &b.peers[i];
    b.out[replies].msg_hdr.msg_namelen = peer_size;
    ++replies;
  }
  unsigned sent = 0;
  bool retried = false;
  while (sent < replies) {
    // MSG_DONTWAIT: a full socket buffer drops the reply (the client retries) instead of
    // stalling every other query behind it.
    int r = ::sendmmsg(fd_, b.out.data() + sent, replies - sent, MSG_DONTWAIT);
    if (r > 0) {
      sent += static_cast<unsigned>(r);
      retried = false;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    // The error may be a pending one that belongs to an earlier datagram (an ICMP error, when
    // the socket reports them) and that this call has now cleared: try the reply once more.
    // EAGAIN (send buffer full) or the same error again: skip that one reply rather than stall;
    // UDP clients retry.
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && !retried) {
      retried = true;
      continue;
    }
    ++sent;
    retried = false;
  }
}

}  // namespace understudy::server
