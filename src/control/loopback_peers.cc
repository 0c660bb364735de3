#include "loopback_peers.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>

namespace understudy::control {

namespace {

using boost::asio::ip::address;

// An IPv4 client of a dual-stack listener has an IPv4 socket: look it up as one.
address unmapped(const address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  }
  return a;
}

void copyAddress(const address& a, __be32 out[4]) {
  std::memset(out, 0, 16);
  if (a.is_v4()) {
    auto bytes = a.to_v4().to_bytes();
    std::memcpy(out, bytes.data(), bytes.size());
  } else {
    auto bytes = a.to_v6().to_bytes();
    std::memcpy(out, bytes.data(), bytes.size());
  }
}

}  // namespace

LoopbackPeers::LoopbackPeers() {
  fd_ = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd_ < 0) return;
  // The kernel answers at once; the bound is only a guard against a kernel that does not.
  timeval tv{0, 100000};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

LoopbackPeers::~LoopbackPeers() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<uint32_t> LoopbackPeers::uid(const boost::asio::ip::tcp::endpoint& local,
                                           const boost::asio::ip::tcp::endpoint& remote) const {
  if (fd_ < 0) return std::nullopt;
  address client = unmapped(remote.address());
  address server = unmapped(local.address());
  if (!client.is_loopback() || client.is_v4() != server.is_v4()) return std::nullopt;

  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof message;
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST;  // no NLM_F_DUMP: one exact lookup
  message.header.nlmsg_seq = ++seq_;
  message.request.sdiag_family = client.is_v4() ? AF_INET : AF_INET6;
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = ~0u;
  // The socket looked up is the client's: its source is the client, its destination us.
  message.request.id.idiag_sport = htons(remote.port());
  message.request.id.idiag_dport = htons(local.port());
  copyAddress(client, message.request.id.idiag_src);
  copyAddress(server, message.request.id.idiag_dst);
  message.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  message.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_, &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) != static_cast<ssize_t>(sizeof message)) {
    return std::nullopt;
  }
  alignas(nlmsghdr) char buf[8192];
  // An answer to an earlier lookup that came after its timeout may be queued first: skip it.
  for (int attempt = 0; attempt < 4; ++attempt) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq_) continue;
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
          h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
        return std::nullopt;  // NLMSG_ERROR: the client is gone already, or not on this host
      }
      const auto* diag = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      return diag->idiag_uid;
    }
  }
  return std::nullopt;
}

}  // namespace understudy::control
