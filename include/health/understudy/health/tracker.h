// The up/down state machine of one probe target (rise/fall, like HAProxy, gdnsd and Envoy):
// down after `fall` consecutive failures, up after `rise` consecutive successes. The first result
// decides the initial state directly, so a restart never starts from a guess.
#pragma once

#include <chrono>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>

#include "understudy/health/check.h"

namespace understudy::health {

enum class State : uint8_t { kUnknown, kUp, kDown };
enum class Transition : uint8_t { kUnchanged, kWentUp, kWentDown };

const char* stateName(State s);

class Tracker {
 public:
  Tracker(unsigned rise, unsigned fall) : rise_(rise ? rise : 1), fall_(fall ? fall : 1) {}

  // A kNotRun outcome is only counted (outcomeCount): it measured nothing, so it changes neither
  // the state, the streaks, the reason, the last outcome nor the duration histogram.
  Transition record(const Outcome& outcome, const CheckSpec& check);

  State state() const { return state_; }
  unsigned consecutiveSuccesses() const { return successes_; }
  unsigned consecutiveFailures() const { return failures_; }
  const std::optional<Outcome>& lastOutcome() const { return last_; }
  uint64_t probes() const { return probes_; }
  // Why the state is what it is, in an operator's words: "HTTP 503 x3", "connect refused x3",
  // "HTTP 200 x2".
  const std::string& reason() const { return reason_; }

  // For /metrics: probe outcomes by kind and a latency histogram (upper bounds in seconds).
  static constexpr double kDurationBuckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                0.25,  0.5,   1.0,  2.5,   5.0,  10.0};
  static constexpr size_t kOutcomeKinds = 8;
  uint64_t outcomeCount(OutcomeKind k) const { return outcome_counts_[static_cast<size_t>(k)]; }
  uint64_t durationBucket(size_t i) const { return duration_buckets_[i]; }  // cumulative
  double durationSum() const { return duration_sum_; }

 private:
  unsigned rise_;
  unsigned fall_;
  State state_ = State::kUnknown;
  unsigned successes_ = 0;
  unsigned failures_ = 0;
  uint64_t probes_ = 0;
  std::optional<Outcome> last_;
  std::string last_text_;   // describe() of the latest outcome
  unsigned same_text_ = 0;  // how many consecutive outcomes had that text
  std::string reason_;
  uint64_t outcome_counts_[kOutcomeKinds] = {};
  uint64_t duration_buckets_[std::size(kDurationBuckets)] = {};
  double duration_sum_ = 0;
};

}  // namespace understudy::health
