#include "tcp_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "tcp_connection.h"
#include "understudy/common/host_port.h"

namespace understudy::server {

namespace asio = boost::asio;

TcpServer::TcpServer(asio::io_context& io, asio::ip::tcp::acceptor acceptor,
                     zone::SnapshotHolder::Reader& reader, ThreadQueryStats& stats,
                     std::chrono::milliseconds idle_timeout, unsigned max_connections,
                     TcpCounters& counters)
    : io_(io),
      acceptor_(std::move(acceptor)),
      reader_(reader),
      stats_(stats),
      idle_timeout_(idle_timeout),
      max_connections_(max_connections),
      counters_(counters),
      accept_pause_(io) {}

void TcpServer::doAccept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket s) {
    onAccept(ec, std::move(s));
  });
}

namespace {

// accept(2) on Linux hands over errors that belong to the one connection being accepted (the
// peer reset it, a route went away): the next connection is unaffected, so take it at once.
bool failedOnlyThisConnection(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  switch (ec.value()) {
    case ECONNABORTED:
    case EPROTO:
    case EPERM:  // a firewall rule refused this peer
    case EINTR:
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}

AcceptError acceptErrorKind(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return AcceptError::kOther;
  switch (ec.value()) {
    case EMFILE:
      return AcceptError::kEmfile;
    case ENFILE:
      return AcceptError::kEnfile;
    case ENOBUFS:
    case ENOMEM:
      return AcceptError::kNoMemory;
    default:
      return AcceptError::kOther;
  }
}

int64_t steadyNanoseconds() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void TcpServer::onAccept(const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
  if (stopping_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    if (failedOnlyThisConnection(ec)) {
      doAccept();
    } else {
      pauseAccepting(ec);
    }
    return;
  }
  pause_ = std::chrono::milliseconds(0);
  if (counters_.connections.fetch_add(1, std::memory_order_relaxed) >= max_connections_) {
    // Over the cap: close at once (RFC 7766 §6.2.2 lets a server refuse new connections),
    // so established clients keep being served.
    counters_.connections.fetch_sub(1, std::memory_order_relaxed);
    counters_.refused.fetch_add(1, std::memory_order_relaxed);
    boost::system::error_code ignored;
    socket.close(ignored);
  } else {
    counters_.accepted.fetch_add(1, std::memory_order_relaxed);
    auto connection = std::make_shared<TcpConnection>(std::move(socket), *this);
    live_.emplace(connection.get(), connection);
    connection->start();
  }
  doAccept();
}

void TcpServer::pauseAccepting(const boost::system::error_code& ec) {
  counters_.accept_errors[static_cast<size_t>(acceptErrorKind(ec))].fetch_add(
      1, std::memory_order_relaxed);
  pause_ = pause_.count() == 0 ? kAcceptPauseFirst : std::min(pause_ * 2, kAcceptPauseMax);
  logAcceptFailure(ec);
  accept_pause_.expires_after(pause_);
  accept_pause_.async_wait([this](const boost::system::error_code& wait_ec) {
    if (!wait_ec && !stopping_) doAccept();
  });
}

void TcpServer::logAcceptFailure(const boost::system::error_code& ec) {
  // Every TCP thread may be failing at once: one line per interval for all of them, with the
  // count, instead of one per failure.
  const int64_t now = steadyNanoseconds();
  int64_t last = counters_.accept_logged_at.load(std::memory_order_relaxed);
  const int64_t interval = std::chrono::nanoseconds(kAcceptLogInterval).count();
  if (last != 0 && now - last < interval) return;
  if (!counters_.accept_logged_at.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    return;  // another thread logs this interval
  }
  const uint64_t total = counters_.acceptErrorTotal();
  const uint64_t since = total - counters_.accept_errors_logged.exchange(total);
  boost::system::error_code ignored;
  auto local = acceptor_.local_endpoint(ignored);
  const std::string where = hostPort(local.address().to_string(), local.port());
  spdlog::warn(
      "DNS TCP on {}: accept failed: {}; {} failure(s) {}, {} in all; new connections wait in "
      "the backlog, accepting again in {} ms (pauses double up to {} ms while this lasts)",
      where, ec.message(), since, last == 0 ? "so far" : "since the last report", total,
      pause_.count(), kAcceptPauseMax.count());
}

void TcpServer::remove(TcpConnection* connection) {
  if (live_.erase(connection)) counters_.connections.fetch_sub(1, std::memory_order_relaxed);
}

void TcpServer::stop() {
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_pause_.cancel();
  std::vector<std::shared_ptr<TcpConnection>> all;
  for (auto& [ptr, c] : live_) all.push_back(c);
  for (auto& c : all) c->closeWhenIdle();
}

}  // namespace understudy::server
