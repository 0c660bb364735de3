#include "understudy/server/server.h"

#include <pthread.h>

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <algorithm>
#include <boost/asio.hpp>
#include <csignal>
#include <stdexcept>
#include <string>

#include "listen_sockets.h"
#include "tcp_counters.h"
#include "tcp_worker.h"
#include "udp_server.h"

namespace understudy::server {

namespace asio = boost::asio;

namespace {

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
    workers_.push_back(std::make_unique<TcpWorker>(holder_, stats_->thread(udp_threads + i)));
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
      TcpWorker* w = workers_[i].get();
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
