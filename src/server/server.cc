#include "understudy/server/server.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <csignal>
#include <fstream>
#include <optional>
#include <stdexcept>

#include "tcp_server.h"
#include "udp_server.h"
#include "understudy/common/host_port.h"

namespace understudy::server {

namespace asio = boost::asio;

namespace {

std::string formatEndpoint(const asio::ip::address& address, uint16_t port) {
  return hostPort(address.to_string(), port);
}

[[noreturn]] void bindFailed(const std::string& what, const asio::ip::address& a, uint16_t port,
                             const boost::system::error_code& ec) {
  throw std::runtime_error("cannot " + what + " " + formatEndpoint(a, port) + ": " + ec.message());
}

[[noreturn]] void bindFailed(const std::string& what, const asio::ip::address& a, uint16_t port,
                             int error) {
  bindFailed(what, a, port, boost::system::error_code(error, boost::system::system_category()));
}

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

// Once per listen address at start: what the sockets got, and in words what to do when it is
// less than asked for.
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

// One of the SO_REUSEPORT UDP sockets on `address:port`, blocking (its thread sleeps in
// recvmmsg). Returns the descriptor; `*bound` is the port it got and `*granted` its receive
// buffer as read back.
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

// Serving threads take no asynchronous signal: SIGHUP/SIGTERM go to the daemon's control thread
// (Asio's signal_set there), and a blocked recvmmsg is never cut short by one. The signals a fault
// raises stay unblocked: blocked, they would bypass any handler (a sanitizer's report) and kill.
class ServingThreadSignalMask {
 public:
  ServingThreadSignalMask() {
    sigset_t block;
    sigfillset(&block);
    for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) sigdelset(&block, fault);
    pthread_sigmask(SIG_BLOCK, &block, &saved_);
  }
  ~ServingThreadSignalMask() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  ServingThreadSignalMask(const ServingThreadSignalMask&) = delete;
  ServingThreadSignalMask& operator=(const ServingThreadSignalMask&) = delete;

 private:
  sigset_t saved_;
};

// "udp-3": what top -H, ps -L and perf show for the thread. Named by start() itself, so the names
// are there when it returns.
void nameThread(std::thread& thread, const char* kind, size_t index) {
  std::string name = std::string(kind) + "-" + std::to_string(index);
  name.resize(std::min<size_t>(name.size(), 15));  // the kernel keeps 15 characters
  pthread_setname_np(thread.native_handle(), name.c_str());
}

}  // namespace

class Server::Worker {
 public:
  Worker(const zone::SnapshotHolder& holder, ThreadQueryStats& stats)
      : reader_(holder), stats_(stats), guard_(io_.get_executor()), refresh_(io_) {}

  // Binds one TCP acceptor on `address:port` (the port the UDP sockets got).
  void bind(const asio::ip::address& address, uint16_t port, const ServerOptions& options,
            TcpCounters& counters) {
    boost::system::error_code ec;
    asio::ip::tcp::endpoint tcp_ep(address, port);
    asio::ip::tcp::acceptor acceptor(io_);
    if (acceptor.open(tcp_ep.protocol(), ec)) bindFailed("open TCP socket for", address, port, ec);
    if (address.is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    int one = 1;
    ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    ec.clear();
    if (acceptor.bind(tcp_ep, ec)) bindFailed("bind TCP", address, port, ec);
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec))
      bindFailed("listen on TCP", address, port, ec);
    tcp_.push_back(std::make_unique<TcpServer>(io_, std::move(acceptor), reader_, stats_,
                                               options.tcp_idle_timeout,
                                               options.tcp_max_connections, counters));
  }

  void run() {
    for (auto& t : tcp_) t->start();
    refreshSnapshot();
    // Catch everything at the top of the thread: a bug costs a packet, not the daemon.
    while (true) {
      try {
        io_.run();
        break;
      } catch (...) {
      }
    }
  }

  void requestStop() {
    asio::post(io_, [this] {
      for (auto& t : tcp_) t->stop();
      refresh_.cancel();
      guard_.reset();
    });
  }

  void forceStop() { io_.stop(); }

 private:
  // A TCP thread refreshes its snapshot only when it answers a query; an idle one would hold the
  // snapshot a reload replaced (a whole zone set) for as long as no TCP query comes. Look once a
  // second, as the UDP threads do when idle.
  void refreshSnapshot() {
    reader_.get();
    refresh_.expires_after(UdpServer::kIdleWake);
    refresh_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) refreshSnapshot();
    });
  }

  asio::io_context io_{1};
  zone::SnapshotHolder::Reader reader_;
  ThreadQueryStats& stats_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  asio::steady_timer refresh_;
  std::vector<std::unique_ptr<TcpServer>> tcp_;
};

const char* acceptErrorName(AcceptError kind) noexcept {
  switch (kind) {
    case AcceptError::kEmfile:
      return "emfile";
    case AcceptError::kEnfile:
      return "enfile";
    case AcceptError::kNoMemory:
      return "nomem";
    case AcceptError::kOther:
      break;
  }
  return "other";
}

Server::Server(ServerOptions options, const zone::SnapshotHolder& holder)
    : options_(std::move(options)), holder_(holder), tcp_(std::make_unique<TcpCounters>()) {}

unsigned Server::tcpConnections() const {
  return tcp_->connections.load(std::memory_order_relaxed);
}
uint64_t Server::tcpAccepted() const {
  return tcp_->accepted.load(std::memory_order_relaxed);
}
uint64_t Server::tcpRefused() const {
  return tcp_->refused.load(std::memory_order_relaxed);
}
uint64_t Server::tcpAcceptErrors(AcceptError kind) const {
  return tcp_->accept_errors[static_cast<size_t>(kind)].load(std::memory_order_relaxed);
}

Server::~Server() {
  stop();
}

void Server::setRrl(RrlConfig rrl) {
  options_.rrl = rrl;
  if (limiter_) limiter_->reconfigure(std::move(rrl));
}

void Server::start() {
  unsigned threads =
      options_.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : options_.threads;
  const size_t udp_threads = options_.listen.size() * threads;
  udp_threads_ = udp_threads;
  // UDP threads' counters first, then the TCP threads'; /metrics sums them all.
  stats_ = std::make_unique<QueryStats>(udp_threads + threads);
  // Always there, off or on: a reload may turn rate limiting on (setRrl).
  limiter_ = std::make_unique<RateLimiter>(options_.rrl);
  for (unsigned i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(holder_, stats_->thread(udp_threads + i)));
  }
  for (const ListenSpec& spec : options_.listen) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(spec.address, ec);
    if (ec) throw std::runtime_error("invalid listen address '" + spec.address + "'");
    uint16_t port = spec.port;
    if (port == 0) {
      port = pickFreePort(address);
    } else {
      ensureNotTaken(address, port);
    }
    int smallest_buffer = 0;
    for (unsigned i = 0; i < threads; ++i) {
      int granted = 0;
      int fd = openUdpSocket(address, port, options_.udp_receive_buffer, &port, &granted);
      udp_.push_back(
          std::make_unique<UdpServer>(fd, holder_, stats_->thread(udp_.size()), limiter_.get()));
      smallest_buffer = i == 0 ? granted : std::min(smallest_buffer, granted);
    }
    for (auto& worker : workers_) {
      worker->bind(address, port, options_, *tcp_);
    }
    const std::string where = formatEndpoint(address, port);
    bound_.push_back({"udp", where, smallest_buffer});
    bound_.push_back({"tcp", where});
    logReceiveBuffer(where, smallest_buffer, options_.udp_receive_buffer);
  }
  started_ = true;  // from here on stop() joins whatever was started, should a spawn fail
  ServingThreadSignalMask mask;  // inherited by every thread created in this scope
  try {
    for (size_t i = 0; i < udp_.size(); ++i) {
      UdpServer* u = udp_[i].get();
      threads_.emplace_back([u] { u->run(); });
      nameThread(threads_.back(), "udp", i);
    }
    for (size_t i = 0; i < workers_.size(); ++i) {
      Worker* w = workers_[i].get();
      threads_.emplace_back([w] { w->run(); });
      nameThread(threads_.back(), "tcp", i);
    }
  } catch (...) {
    stop(std::chrono::milliseconds(0));
    throw;
  }
}

void Server::stop(std::chrono::milliseconds grace) {
  if (!started_) return;
  started_ = false;
  for (auto& u : udp_) u->requestStop();
  for (auto& w : workers_) w->requestStop();
  // Give in-flight TCP answers until the grace period ends, then cut the rest.
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline && tcp_->connections.load() != 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& w : workers_) w->forceStop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Close the UDP sockets now, not at destruction: a socket left in the SO_REUSEPORT group
  // would still be handed its share of the queries, and nobody would read them.
  udp_.clear();
}

}  // namespace understudy::server
