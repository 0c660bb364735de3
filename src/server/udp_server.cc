#include "udp_server.h"

#include <cerrno>
#include <cstring>
#include <ctime>

namespace understudy::server {

UdpServer::UdpServer(boost::asio::io_context&, boost::asio::ip::udp::socket socket,
                     zone::SnapshotHolder::Reader& reader, ThreadQueryStats& stats,
                     RateLimiter* limiter)
    : socket_(std::move(socket)), reader_(reader), stats_(stats), limiter_(limiter) {
  // Replies go out with a non-blocking send: a full socket buffer drops the reply (the client
  // retries) instead of stalling every other query on this thread.
  socket_.non_blocking(true);
}

void UdpServer::close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void UdpServer::doWait() {
  socket_.async_wait(boost::asio::ip::udp::socket::wait_read,
                     [this](const boost::system::error_code& ec) { onReadable(ec); });
}

void UdpServer::onReadable(const boost::system::error_code& ec) {
  if (ec == boost::asio::error::operation_aborted || !socket_.is_open()) return;
  // Drain what is queued, a batch at a time; a short batch means the queue is empty. The bound
  // keeps one busy socket from starving the other sockets (and TCP) of this thread.
  for (int rounds = 0; rounds < 64; ++rounds) {
    if (serveBatch() < static_cast<int>(kBatch)) break;
  }
  doWait();
}

int UdpServer::serveBatch() {
  Buffers& b = *b_;
  const int fd = socket_.native_handle();
  for (size_t i = 0; i < kBatch; ++i) {
    b.in_iov[i] = iovec{b.requests[i].data(), kMaxRequest};
    std::memset(&b.in[i].msg_hdr, 0, sizeof(msghdr));
    b.in[i].msg_hdr.msg_name = &b.peers[i];
    b.in[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    b.in[i].msg_hdr.msg_iov = &b.in_iov[i];
    b.in[i].msg_hdr.msg_iovlen = 1;
  }
  int received = ::recvmmsg(fd, b.in.data(), kBatch, MSG_DONTWAIT, nullptr);
  if (received <= 0) return 0;

  const zone::Snapshot* snapshot = reader_.get();
  uint32_t now = 0;
  if (limiter_) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // vDSO, no system call
    now = static_cast<uint32_t>(ts.tv_sec);
  }
  unsigned replies = 0;
  for (int i = 0; i < received; ++i) {
    size_t size = b.in[i].msg_len;
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
    std::memset(&b.out[replies].msg_hdr, 0, sizeof(msghdr));
    b.out[replies].msg_hdr.msg_name = &b.peers[i];
    b.out[replies].msg_hdr.msg_namelen = b.in[i].msg_hdr.msg_namelen;
    b.out[replies].msg_hdr.msg_iov = &b.out_iov[replies];
    b.out[replies].msg_hdr.msg_iovlen = 1;
    ++replies;
  }
  unsigned sent = 0;
  while (sent < replies) {
    int r = ::sendmmsg(fd, b.out.data() + sent, replies - sent, MSG_DONTWAIT);
    if (r > 0) {
      sent += static_cast<unsigned>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    // EAGAIN (send buffer full) or a per-destination error on the first message: skip that one
    // reply rather than stall; UDP clients retry.
    ++sent;
  }
  return received;
}

}  // namespace understudy::server
