#include "tcp_worker.h"

#include "listen_sockets.h"
#include "udp_server.h"

namespace understudy::server {

namespace asio = boost::asio;

TcpWorker::TcpWorker(const zone::SnapshotHolder& holder, ThreadQueryStats& stats)
    : reader_(holder), stats_(stats), guard_(io_.get_executor()), refresh_(io_) {}

void TcpWorker::bind(const asio::ip::address& address, uint16_t port, const ServerOptions& options,
                     TcpCounters& counters) {
  tcp_.push_back(std::make_unique<TcpServer>(io_, openTcpAcceptor(io_, address, port), reader_,
                                             stats_, options.tcp_idle_timeout,
                                             options.tcp_max_connections, counters));
}

void TcpWorker::run() {
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

void TcpWorker::requestStop() {
  asio::post(io_, [this] {
    for (auto& t : tcp_) t->stop();
    refresh_.cancel();
    guard_.reset();
  });
}

// A TCP thread refreshes its snapshot only when it answers a query; an idle one would hold the
// snapshot a reload replaced (a whole zone set) for as long as no TCP query comes. Look once a
// second, as the UDP threads do when idle.
void TcpWorker::refreshSnapshot() {
  reader_.get();
  refresh_.expires_after(UdpServer::kIdleWake);
  refresh_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) refreshSnapshot();
  });
}

}  // namespace understudy::server
