// Never two probes of one target in flight, whoever asks (DESIGN.md "Scheduler"): a Prober that
// runs at most one probe per distinct probe at a time and hands its outcome to every caller that
// asked for the same probe meanwhile.
//
// One Scheduler already never stacks probes of its own targets. But a reload runs the old and the
// new Monitor side by side (the new one probes its first round while the old one still serves),
// and the new one starts by probing every target at once: without this, a shared target got a
// second connection while the old monitor's probe was still open — on a slow backend, on every
// reload. Two checks that differ only in name, interval, rise or fall also probe the same thing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "understudy/health/check.h"

namespace understudy::health {

class SharedProber : public Prober {
 public:
  // `inner` does the probing and must outlive this object.
  explicit SharedProber(Prober& inner) : inner_(inner) {}
  ~SharedProber() override;
  SharedProber(const SharedProber&) = delete;
  SharedProber& operator=(const SharedProber&) = delete;

  // Starts a probe, or joins the one of the same probe already in flight: `done` then gets that
  // probe's outcome. Same guarantees as `inner`: `done` once, never inside probe(); not at all
  // for probes in flight when this object is destroyed.
  void probe(const ProbeTarget& target, Done done) override;

  size_t inFlight() const { return flights_.size(); }
  // Probe requests answered by a probe already in flight instead of a second one.
  uint64_t joined() const { return joined_; }

  // What makes two targets the same probe: the address and everything that shapes the request
  // and its judgement, not the name or the schedule (interval, rise, fall).
  static std::string key(const ProbeTarget& target);

 private:
  Prober& inner_;
  std::unordered_map<std::string, std::vector<Done>> flights_;
  uint64_t joined_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace understudy::health
