// Telling local users apart on loopback. The control endpoint listens on loopback by default, so
// Prometheus, `understudy ctl` and any other local user all connect from 127.0.0.1: a limit per
// client address alone would let one local user's 8 connections lock the others out (issue 12).
// TCP has no SO_PEERCRED, but the kernel's socket diagnostics (sock_diag, what `ss -e` reads)
// name the user that owns the client's socket; a loopback client is then counted by address and
// user id.
#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <optional>

namespace understudy::control {

class LoopbackPeers {
 public:
  // Opens a NETLINK_SOCK_DIAG socket; available() is false where that is not allowed (a
  // sandbox without AF_NETLINK), and loopback clients are then counted by address only.
  LoopbackPeers();
  ~LoopbackPeers();
  LoopbackPeers(const LoopbackPeers&) = delete;
  LoopbackPeers& operator=(const LoopbackPeers&) = delete;

  bool available() const { return fd_ >= 0; }

  // The user id owning the client end of the TCP connection `local` <-> `remote`, when both ends
  // are on this host (loopback). One exact lookup by the kernel (no dump of every socket), so
  // its cost does not grow with the number of connections on the host.
  std::optional<uint32_t> uid(const boost::asio::ip::tcp::endpoint& local,
                              const boost::asio::ip::tcp::endpoint& remote) const;

 private:
  int fd_ = -1;
  mutable uint32_t seq_ = 0;  // matches each answer to its request
};

}  // namespace understudy::control
