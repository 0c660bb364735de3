#include "understudy/health/asio_prober.h"

namespace understudy::health {

void AsioProber::probe(const ProbeTarget& target, Done done) {
  switch (target.check.type) {
    case CheckType::kHttp:
    case CheckType::kHttps:
      http_.probe(target, std::move(done));
      return;
    case CheckType::kTcp:
      tcp_.probe(target, std::move(done));
      return;
  }
  // Only a corrupt CheckType gets here; still report, once and not from inside probe().
  boost::asio::post(io_, [done = std::move(done)] {
    Outcome outcome;
    outcome.kind = OutcomeKind::kError;
    outcome.detail = "unknown check type";
    done(std::move(outcome));
  });
}

}  // namespace understudy::health
