// The serving side (DESIGN.md). UDP: one thread per UDP socket, `threads` SO_REUSEPORT sockets per
// listen address, each thread blocked in recvmmsg on its own socket (gdnsd's model: two system
// calls per batch of queries). TCP: `threads` threads, each with its own io_context and its own
// SO_REUSEPORT acceptor per listen address. Threads only read the current Snapshot; they never
// lock or log per query.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "understudy/server/accept_error.h"
#include "understudy/server/query_stats.h"
#include "understudy/server/rate_limiter.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::server {

struct ListenSpec {
  std::string address;  // numeric IPv4/IPv6
  uint16_t port = 0;    // 0 = OS chooses (the same port is then used for UDP and TCP)
};

struct ServerOptions {
  std::vector<ListenSpec> listen;
  unsigned threads = 1;
  std::chrono::milliseconds tcp_idle_timeout{10000};
  unsigned tcp_max_connections = 1024;
  // NSD's choice: survives bursts the default drops. Set with SO_RCVBUFFORCE where the process
  // has CAP_NET_ADMIN, else with SO_RCVBUF, which the kernel caps at net.core.rmem_max.
  int udp_receive_buffer = 2 * 1024 * 1024;
  RrlConfig rrl;  // response rate limiting (UDP), off by default
};

struct BoundSocket {
  std::string protocol;  // "udp" or "tcp"
  std::string address;   // "127.0.0.1:5353" or "[::1]:5353"
  // UDP: the receive buffer of the address's sockets (the smallest, should they differ) as
  // getsockopt(SO_RCVBUF) reads it back. Linux doubles what is asked for to cover its own
  // bookkeeping and reports the doubled figure: 4194304 when the 2 MiB asked for is in place.
  int receive_buffer = 0;
};

class UdpServer;
class TcpWorker;
struct TcpCounters;

class Server {
 public:
  Server(ServerOptions options, const zone::SnapshotHolder& holder);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every socket (throws std::runtime_error naming the address on failure) and starts the
  // serving threads ("udp-N", "tcp-N"). They block every asynchronous signal, so SIGHUP/SIGTERM
  // reach the thread that called start() (the daemon's control thread) and never interrupt a
  // serving loop.
  void start();
  // Stops the UDP loops at once (each sends the answers of the batch in hand), stops accepting,
  // lets in-flight TCP answers finish, and joins the threads within `grace`.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

  const std::vector<BoundSocket>& bound() const { return bound_; }
  unsigned tcpConnections() const;
  uint64_t tcpAccepted() const;
  uint64_t tcpRefused() const;
  // accept(2) failures on the DNS TCP listeners, by kind; after each the listener pauses
  // (100 ms, doubling to 1 s while the failures go on) rather than retrying at once.
  uint64_t tcpAcceptErrors(AcceptError kind) const;
  // New rate-limiting settings (a reload that changed `server.rrl`), effective from each UDP
  // thread's next datagram; turning it on or off needs no restart.
  void setRrl(RrlConfig rrl);
  // Responses dropped or slipped by rate limiting.
  uint64_t rateLimited() const { return limiter_ ? limiter_->limited() : 0; }
  // Safe to call from any thread once start() returned.
  QueryTotals queryTotals() const { return stats_ ? stats_->totals() : QueryTotals{}; }
  // Per-thread counters: blocks [0, udpThreads()) are the UDP threads, then the TCP threads.
  // Null before start().
  const QueryStats* queryStats() const { return stats_.get(); }
  size_t udpThreads() const { return udp_threads_; }

 private:
  ServerOptions options_;
  const zone::SnapshotHolder& holder_;
  std::vector<std::unique_ptr<UdpServer>> udp_;
  size_t udp_threads_ = 0;
  std::vector<std::unique_ptr<TcpWorker>> workers_;  // one per TCP thread
  std::vector<std::thread> threads_;                 // UDP and TCP
  std::vector<BoundSocket> bound_;
  std::unique_ptr<TcpCounters> tcp_;  // shared by every TCP thread
  std::unique_ptr<QueryStats> stats_;
  std::unique_ptr<RateLimiter> limiter_;
  bool started_ = false;
};

}  // namespace understudy::server
