#include "understudy/server/server.h"

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <optional>
#include <stdexcept>

#include "tcp_server.h"
#include "udp_server.h"

namespace understudy::server {

namespace asio = boost::asio;

namespace {

std::string formatEndpoint(const asio::ip::address& address, uint16_t port) {
  if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(port);
  return address.to_string() + ":" + std::to_string(port);
}

[[noreturn]] void bindFailed(const std::string& what, const asio::ip::address& a, uint16_t port,
                             const boost::system::error_code& ec) {
  throw std::runtime_error("cannot " + what + " " + formatEndpoint(a, port) + ": " + ec.message());
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

}  // namespace

class Server::Worker {
 public:
  Worker(const zone::SnapshotHolder& holder, ThreadQueryStats& stats)
      : reader_(holder), stats_(stats), guard_(io_.get_executor()) {}

  // Binds one UDP socket and one TCP acceptor on `address:port`. Returns the bound port.
  uint16_t bind(const asio::ip::address& address, uint16_t port, const ServerOptions& options,
                std::atomic<unsigned>& connections, std::atomic<uint64_t>& accepted,
                std::atomic<uint64_t>& refused, RateLimiter* limiter) {
    boost::system::error_code ec;
    asio::ip::udp::endpoint udp_ep(address, port);
    asio::ip::udp::socket udp(io_);
    if (udp.open(udp_ep.protocol(), ec)) bindFailed("open UDP socket for", address, port, ec);
    if (address.is_v6()) udp.set_option(asio::ip::v6_only(true), ec);
    udp.set_option(asio::socket_base::reuse_address(true), ec);
    int one = 1;
    // SO_REUSEPORT: every serving thread binds its own socket; the kernel spreads the load.
    ::setsockopt(udp.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    udp.set_option(asio::socket_base::receive_buffer_size(options.udp_receive_buffer), ec);
    ec.clear();
    if (udp.bind(udp_ep, ec)) bindFailed("bind UDP", address, port, ec);
    uint16_t bound = udp.local_endpoint().port();

    asio::ip::tcp::endpoint tcp_ep(address, bound);
    asio::ip::tcp::acceptor acceptor(io_);
    if (acceptor.open(tcp_ep.protocol(), ec)) bindFailed("open TCP socket for", address, bound, ec);
    if (address.is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    ec.clear();
    if (acceptor.bind(tcp_ep, ec)) bindFailed("bind TCP", address, bound, ec);
    if (acceptor.listen(asio::socket_base::max_listen_connections, ec))
      bindFailed("listen on TCP", address, bound, ec);

    udp_.push_back(std::make_unique<UdpServer>(io_, std::move(udp), reader_, stats_, limiter));
    tcp_.push_back(std::make_unique<TcpServer>(
        io_, std::move(acceptor), reader_, stats_, options.tcp_idle_timeout,
        options.tcp_max_connections, connections, accepted, refused));
    return bound;
  }

  void run() {
    for (auto& u : udp_) u->start();
    for (auto& t : tcp_) t->start();
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
      for (auto& u : udp_) u->close();
      for (auto& t : tcp_) t->stop();
      guard_.reset();
    });
  }

  void forceStop() { io_.stop(); }

 private:
  asio::io_context io_{1};
  zone::SnapshotHolder::Reader reader_;
  ThreadQueryStats& stats_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::unique_ptr<UdpServer>> udp_;
  std::vector<std::unique_ptr<TcpServer>> tcp_;
};

Server::Server(ServerOptions options, const zone::SnapshotHolder& holder)
    : options_(std::move(options)), holder_(holder) {}

Server::~Server() {
  stop();
}

void Server::start() {
  unsigned threads =
      options_.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : options_.threads;
  stats_ = std::make_unique<QueryStats>(threads);
  if (options_.rrl.enabled) limiter_ = std::make_unique<RateLimiter>(options_.rrl);
  for (unsigned i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(holder_, stats_->thread(i)));
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
    for (auto& worker : workers_) {
      port = worker->bind(address, port, options_, tcp_connections_, tcp_accepted_, tcp_refused_,
                          limiter_.get());
    }
    bound_.push_back({"udp", formatEndpoint(address, port)});
    bound_.push_back({"tcp", formatEndpoint(address, port)});
  }
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    threads_.emplace_back([w] { w->run(); });
  }
  started_ = true;
}

void Server::stop(std::chrono::milliseconds grace) {
  if (!started_) return;
  started_ = false;
  for (auto& w : workers_) w->requestStop();
  // Give in-flight TCP answers until the grace period ends, then cut the rest.
  auto deadline = std::chrono::steady_clock::now() + grace;
  std::thread killer([this, deadline] {
    while (std::chrono::steady_clock::now() < deadline) {
      if (tcp_connections_.load() == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& w : workers_) w->forceStop();
  });
  killer.join();
  for (auto& w : workers_) w->forceStop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace understudy::server
