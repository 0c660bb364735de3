#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>

#include "understudy/health/check.h"

namespace understudy::health {

// TCP checks: the backend is up if it completes a handshake on address:port within the timeout.
// The connection is closed at once; nothing is sent.
//
// `done` runs exactly once per probe, on the io_context, never inside probe(). Probes still in
// flight when the prober is destroyed are abandoned without calling `done` (see HttpProber).
class TcpProber : public Prober {
 public:
  explicit TcpProber(boost::asio::io_context& io) : io_(io) {}
  ~TcpProber() override;
  TcpProber(const TcpProber&) = delete;
  TcpProber& operator=(const TcpProber&) = delete;

  void probe(const ProbeTarget& target, Done done) override;

  size_t inFlight() const { return attempts_.size(); }
  // Probes whose timeout was noticed more than kLateThreshold after it was due (the thread was
  // busy) and so were not reported as kTimeout: the socket was asked instead, and a connect that
  // had not completed was reported kNotRun.
  uint64_t lateTimeouts() const { return late_timeouts_; }

 private:
  struct Attempt;

  void onConnect(Attempt& attempt, const boost::system::error_code& ec);
  void connectFailed(Attempt& attempt, int error);
  void onTimeout(Attempt& attempt, const boost::system::error_code& ec);
  void judgeLate(Attempt& attempt, std::chrono::steady_clock::duration lateness);
  void finish(Attempt& attempt, OutcomeKind kind, std::string detail);

  boost::asio::io_context& io_;
  std::unordered_map<Attempt*, std::shared_ptr<Attempt>> attempts_;
  uint64_t late_timeouts_ = 0;
};

}  // namespace understudy::health
