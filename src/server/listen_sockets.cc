#include "listen_sockets.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>

#include "understudy/common/host_port.h"

namespace understudy::server {

namespace asio = boost::asio;

std::string formatEndpoint(const asio::ip::address& address, uint16_t port) {
  return hostPort(address.to_string(), port);
}

namespace {

[[noreturn]] void bindFailed(const std::string& what, const asio::ip::address& a, uint16_t port,
                             const boost::system::error_code& ec) {
  throw std::runtime_error("cannot " + what + " " + formatEndpoint(a, port) + ": " + ec.message());
}

[[noreturn]] void bindFailed(const std::string& what, const asio::ip::address& a, uint16_t port,
                             int error) {
  bindFailed(what, a, port, boost::system::error_code(error, boost::system::system_category()));
}

// SO_RCVBUF is capped at net.core.rmem_max (208 KiB by default), far below the 2 MiB a burst
// needs; SO_RCVBUFFORCE is not capped but needs CAP_NET_ADMIN. Try it, fall back to the capped
// request, and return what the kernel granted (as getsockopt reports it: doubled, on Linux).
int setReceiveBuffer(int fd, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  int granted = 0;
  socklen_t size = sizeof granted;
  if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &size) != 0) return 0;
  return granted;
}

std::string rmemMax() {
  std::ifstream in("/proc/sys/net/core/rmem_max");
  std::string value;
  in >> value;
  return value.empty() ? std::string("unknown") : value;
}

}  // namespace

// For a listen entry with port 0: a port the OS hands out for UDP that is also free for TCP.
// Tests use this to run many servers side by side without choosing ports themselves.
uint16_t pickFreePort(const asio::ip::address& address) {
  asio::io_context io;
  for (int attempt = 0; attempt < 50; ++attempt) {
    boost::system::error_code ec;
    asio::ip::udp::socket udp(io);
    udp.open(address.is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4(), ec);
    if (ec || udp.bind(asio::ip::udp::endpoint(address, 0), ec)) break;
    uint16_t port = udp.local_endpoint().port();
    asio::ip::tcp::acceptor tcp(io);
    tcp.open(address.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), ec);
    if (!ec && !tcp.bind(asio::ip::tcp::endpoint(address, port), ec)) return port;
  }
  return 0;
}

// SO_REUSEPORT would let us bind next to another server (another understudy, a forgotten test
// instance) and silently split its traffic with it. So first bind once without it: if that fails,
// the address is taken and we say so instead of sharing it.
void ensureNotTaken(const asio::ip::address& address, uint16_t port) {
  asio::io_context io;
  boost::system::error_code ec;
  asio::ip::udp::socket udp(io);
  udp.open(address.is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4(), ec);
  if (address.is_v6()) udp.set_option(asio::ip::v6_only(true), ec);
  if (!ec && udp.bind(asio::ip::udp::endpoint(address, port), ec)) {
    bindFailed("bind UDP", address, port, ec);
  }
  asio::ip::tcp::acceptor tcp(io);
  tcp.open(address.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), ec);
  if (address.is_v6()) tcp.set_option(asio::ip::v6_only(true), ec);
  tcp.set_option(asio::socket_base::reuse_address(true), ec);
  ec.clear();
  if (tcp.bind(asio::ip::tcp::endpoint(address, port), ec))
    bindFailed("bind TCP", address, port, ec);
}

void logReceiveBuffer(const std::string& where, int granted, int asked) {
  // Linux reports twice the size in place (socket(7)): compare like with like.
  if (granted / 2 >= asked) {
    spdlog::info("UDP {}: receive buffer {} bytes per socket", where, granted);
    return;
  }
  spdlog::warn(
      "UDP {}: receive buffer {} bytes per socket (as the kernel reports it, doubled), not the "
      "{} that asking for {} gives; bursts may be dropped. SO_RCVBUFFORCE needs CAP_NET_ADMIN, "
      "and without it the size is capped by net.core.rmem_max ({}): set it to {} or more",
      where, granted, 2 * int64_t{asked}, asked, rmemMax(), asked);
}

int openUdpSocket(const asio::ip::address& address, uint16_t port, int receive_buffer,
                  uint16_t* bound, int* granted) {
  asio::ip::udp::endpoint endpoint(address, port);
  int fd = ::socket(address.is_v6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) bindFailed("open UDP socket for", address, port, errno);
  int one = 1;
  if (address.is_v6()) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // SO_REUSEPORT: every UDP thread binds its own socket; the kernel spreads the load.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  *granted = setReceiveBuffer(fd, receive_buffer);
  if (::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
    int error = errno;
    ::close(fd);
    bindFailed("bind UDP", address, port, error);
  }
  sockaddr_storage local{};
  socklen_t size = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size);
  *bound = ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(local).sin6_port
                                             : reinterpret_cast<sockaddr_in&>(local).sin_port);
  return fd;
}

asio::ip::tcp::acceptor openTcpAcceptor(asio::io_context& io, const asio::ip::address& address,
                                        uint16_t port) {
  boost::system::error_code ec;
  asio::ip::tcp::endpoint tcp_ep(address, port);
  asio::ip::tcp::acceptor acceptor(io);
  if (acceptor.open(tcp_ep.protocol(), ec)) bindFailed("open TCP socket for", address, port, ec);
  if (address.is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  int one = 1;
  ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  ec.clear();
  if (acceptor.bind(tcp_ep, ec)) bindFailed("bind TCP", address, port, ec);
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec))
    bindFailed("listen on TCP", address, port, ec);
  return acceptor;
}

}  // namespace understudy::server
