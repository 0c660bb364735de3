#include "understudy/health/late_callbacks.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace understudy::health {

namespace {

int64_t wholeMs(LateCallbacks::Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

std::string lateTimeoutDetail(std::chrono::steady_clock::duration lateness) {
  std::string detail = "timeout judged ";
  detail.append(std::to_string(wholeMs(lateness)));
  detail.append(" ms late (the health thread was busy): not counted");
  return detail;
}

std::chrono::milliseconds LateCallbacks::worstLateness() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(worst_);
}

void LateCallbacks::record(Clock::time_point due, Clock::time_point ran) {
  const Clock::duration lateness = ran - due;
  worst_ = std::max(worst_, lateness);
  const bool late = lateness > kLateThreshold;
  if (late) {
    ++late_;
    ++unlogged_;
    unlogged_worst_ = std::max(unlogged_worst_, lateness);
  }
  if (unlogged_ == 0) return;
  if (last_logged_ && ran - *last_logged_ < kLogEvery) return;
  if (late && unlogged_ == 1) {
    // The first after a quiet spell: said at once, as it happened.
    spdlog::warn(
        "health thread: a timer callback ran {} ms late (more than {} ms): the thread was busy; "
        "timeouts judged late are not counted as failures",
        wholeMs(lateness), kLateThreshold.count());
  } else {
    const int64_t window_s =
        last_logged_ ? std::chrono::duration_cast<std::chrono::seconds>(ran - *last_logged_).count()
                     : kLogEvery.count();
    spdlog::warn(
        "health thread: {} timer callback(s) ran more than {} ms late in the last {} s (worst {} "
        "ms): the thread was busy; timeouts judged late are not counted as failures",
        unlogged_, kLateThreshold.count(), window_s, wholeMs(unlogged_worst_));
  }
  last_logged_ = ran;
  unlogged_ = 0;
  unlogged_worst_ = Clock::duration::zero();
}

}  // namespace understudy::health
