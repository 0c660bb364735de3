#pragma once

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

 private:
  struct Attempt;

  void onConnect(Attempt& attempt, const boost::system::error_code& ec);
  void onTimeout(Attempt& attempt, const boost::system::error_code& ec);
  void finish(Attempt& attempt, OutcomeKind kind, std::string detail);

  boost::asio::io_context& io_;
  std::unordered_map<Attempt*, std::shared_ptr<Attempt>> attempts_;
};

}  // namespace understudy::health
