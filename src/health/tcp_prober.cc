#include "understudy/health/tcp_prober.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "socket_error.h"
#include "understudy/health/late_callbacks.h"

namespace understudy::health {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct TcpProber::Attempt {
  Attempt(asio::io_context& io, Done done)
      : socket(io), timer(io), done(std::move(done)), started(Clock::now()) {}

  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  Done done;
  Clock::time_point started;
};

TcpProber::~TcpProber() {
  // Closing makes the outstanding handlers run with operation_aborted; they hold only weak
  // pointers, find nothing and return. `done` is dropped uncalled.
  for (auto& [raw, attempt] : attempts_) {
    boost::system::error_code ignored;
    attempt->socket.close(ignored);
    attempt->timer.cancel(ignored);
  }
}

void TcpProber::probe(const ProbeTarget& target, Done done) {
  auto attempt = std::make_shared<Attempt>(io_, std::move(done));
  Attempt* raw = attempt.get();
  attempts_.emplace(raw, attempt);
  // A live Attempt implies a live prober: only attempts_ owns Attempts.
  std::weak_ptr<Attempt> weak = attempt;

  boost::system::error_code ec;
  auto address = asio::ip::make_address(target.address, ec);
  if (ec) {
    // Never call done from inside probe(): the caller may not expect re-entry.
    asio::post(io_, [this, weak, detail = "bad address '" + target.address + "'"] {
      if (auto attempt = weak.lock()) finish(*attempt, OutcomeKind::kError, detail);
    });
    return;
  }
  asio::ip::tcp::endpoint endpoint(address, target.check.port);
  // Opened here rather than by async_connect, so that a failure to get a socket at all (EMFILE
  // under load) is told apart from the backend refusing: it is this host's problem, not the
  // backend's, and must not count against it.
  if (raw->socket.open(endpoint.protocol(), ec)) {
    asio::post(io_, [this, weak, detail = "socket(): " + socketErrorDetail(ec.value())] {
      if (auto attempt = weak.lock()) finish(*attempt, OutcomeKind::kNotRun, detail);
    });
    return;
  }
  raw->timer.expires_after(target.check.timeout);
  raw->timer.async_wait([this, weak](const boost::system::error_code& ec) {
    if (auto attempt = weak.lock()) onTimeout(*attempt, ec);
  });
  raw->socket.async_connect(endpoint, [this, weak](const boost::system::error_code& ec) {
    if (auto attempt = weak.lock()) onConnect(*attempt, ec);
  });
}

void TcpProber::onConnect(Attempt& attempt, const boost::system::error_code& ec) {
  if (ec == asio::error::operation_aborted) return;  // the timer won and has reported
  if (ec) {
    connectFailed(attempt, ec.value());
  } else {
    finish(attempt, OutcomeKind::kOk, "connected");
  }
}

void TcpProber::connectFailed(Attempt& attempt, int error) {
  if (isLocalResourceError(error)) {
    finish(attempt, OutcomeKind::kNotRun, "connect(): " + socketErrorDetail(error));
  } else {
    finish(attempt, OutcomeKind::kConnectFailed, socketErrorDetail(error));
  }
}

void TcpProber::onTimeout(Attempt& attempt, const boost::system::error_code& ec) {
  if (ec) return;  // cancelled: the connect finished first
  const Clock::duration lateness = Clock::now() - attempt.timer.expiry();
  if (lateness > kLateThreshold) {
    judgeLate(attempt, lateness);
    return;
  }
  finish(attempt, OutcomeKind::kTimeout, "connect timed out");
}

// The thread was busy when the timeout fell due: the handshake may well have completed while it
// was, with its completion queued behind this handler (Asio hands out all expired timers at once,
// socket events up to a batch at a time). Ask the socket instead of calling it a timeout.
void TcpProber::judgeLate(Attempt& attempt, Clock::duration lateness) {
  ++late_timeouts_;
  const int fd = attempt.socket.native_handle();
  pollfd ready{fd, POLLOUT, 0};
  if (::poll(&ready, 1, 0) == 1) {
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
    if (error != 0) {
      connectFailed(attempt, error);
      return;
    }
    // POLLHUP without an error: the connection is gone again; what happened is not known.
    if (!(ready.revents & (POLLHUP | POLLERR))) {
      finish(attempt, OutcomeKind::kOk, "connected");
      return;
    }
  }
  finish(attempt, OutcomeKind::kNotRun, lateTimeoutDetail(lateness));
}

void TcpProber::finish(Attempt& attempt, OutcomeKind kind, std::string detail) {
  auto it = attempts_.find(&attempt);
  if (it == attempts_.end()) return;
  std::shared_ptr<Attempt> keep = std::move(it->second);
  attempts_.erase(it);
  boost::system::error_code ignored;
  attempt.timer.cancel(ignored);
  // Closing right after the handshake: the check only asks whether the backend accepts.
  attempt.socket.close(ignored);
  Outcome outcome;
  outcome.kind = kind;
  outcome.duration =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - attempt.started);
  outcome.detail = std::move(detail);
  Done done = std::move(attempt.done);
  keep.reset();
  if (done) done(std::move(outcome));
}

}  // namespace understudy::health
