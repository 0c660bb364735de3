#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>

#include "understudy/health/check.h"
#include "understudy/health/http_prober.h"
#include "understudy/health/tcp_prober.h"

namespace understudy::health {

// The daemon's Prober: every check type on one io_context, dispatched by CheckSpec::type.
// Same guarantees as the probers it holds: `done` once, on the io_context, never inside probe(),
// and not at all for probes still in flight when it is destroyed.
class AsioProber : public Prober {
 public:
  explicit AsioProber(boost::asio::io_context& io) : io_(io), http_(io), tcp_(io) {}

  void probe(const ProbeTarget& target, Done done) override;

  size_t inFlight() const { return http_.inFlight() + tcp_.inFlight(); }
  // Probes whose timeout was noticed too late to count (the health thread was busy): reported
  // kNotRun, or judged on what the socket showed, instead of kTimeout. For /metrics.
  uint64_t lateTimeouts() const { return http_.lateTimeouts() + tcp_.lateTimeouts(); }

 private:
  boost::asio::io_context& io_;
  HttpProber http_;  // constructing it initialises libcurl once per process
  TcpProber tcp_;
};

}  // namespace understudy::health
