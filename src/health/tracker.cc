#include "understudy/health/tracker.h"

namespace understudy::health {

const char* stateName(State s) {
  switch (s) {
    case State::kUp:
      return "up";
    case State::kDown:
      return "down";
    case State::kUnknown:
      return "unknown";
  }
  return "unknown";
}

Transition Tracker::record(const Outcome& outcome, const CheckSpec& check) {
  ++outcome_counts_[static_cast<size_t>(outcome.kind)];
  if (outcome.kind == OutcomeKind::kNotRun) return Transition::kUnchanged;
  ++probes_;
  double seconds = std::chrono::duration<double>(outcome.duration).count();
  duration_sum_ += seconds;
  for (size_t i = 0; i < std::size(kDurationBuckets); ++i) {
    if (seconds <= kDurationBuckets[i]) ++duration_buckets_[i];
  }
  std::string text = outcome.describe(check);
  same_text_ = (text == last_text_) ? same_text_ + 1 : 1;
  last_text_ = std::move(text);
  last_ = outcome;
  if (outcome.ok()) {
    ++successes_;
    failures_ = 0;
  } else {
    ++failures_;
    successes_ = 0;
  }
  reason_ = last_text_ + " x" + std::to_string(same_text_);

  State before = state_;
  if (state_ == State::kUnknown) {
    state_ = outcome.ok() ? State::kUp : State::kDown;
  } else if (state_ == State::kUp && failures_ >= fall_) {
    state_ = State::kDown;
  } else if (state_ == State::kDown && successes_ >= rise_) {
    state_ = State::kUp;
  }
  if (state_ == before) return Transition::kUnchanged;
  return state_ == State::kUp ? Transition::kWentUp : Transition::kWentDown;
}

}  // namespace understudy::health
