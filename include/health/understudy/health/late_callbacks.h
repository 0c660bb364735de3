// How late the health thread runs what was due: a callback that runs well after its time means
// the thread was busy (a slow handler, a blocking call), and a probe timeout noticed that late
// says nothing about the backend (issue 12: "probe timing stays honest under load").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace understudy::health {

// Lateness beyond which a timer callback, or a probe's timeout, counts as "judged late".
// 100 ms: a health thread that is merely busy runs a due timer within a few milliseconds (each
// handler is short: a socket event, a curl action, a probe start), so 100 ms past due is a thread
// that was blocked, not scheduling jitter. It is above HttpProber::kSafetyMargin (50 ms), so a
// safety timer firing on time still reads as an ordinary timeout; and it is small beside check
// timeouts (2000 ms by default), so a timeout is judged late only when the delay, not the
// backend, dominates what was measured.
inline constexpr std::chrono::milliseconds kLateThreshold{100};

// The detail of a probe whose timeout was noticed `lateness` after it was due, and which is
// therefore reported as OutcomeKind::kNotRun: "timeout judged 1840 ms late (the health thread was
// busy): not counted".
std::string lateTimeoutDetail(std::chrono::steady_clock::duration lateness);

// Counts the timer callbacks that ran more than kLateThreshold after they were due and logs them
// at WARN, rate-limited: the first at once, then at most one summary line per kLogEvery. A summary
// is written by the first callback (late or not) after kLogEvery has passed, so it waits for the
// thread's next timer rather than for a timer of its own. Health thread only; no locking.
class LateCallbacks {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kLogEvery{10};

  // A callback due at `due` ran at `ran`.
  void record(Clock::time_point due, Clock::time_point ran);

  // Callbacks that ran more than kLateThreshold late, since construction.
  uint64_t lateCallbacks() const { return late_; }
  // The largest lateness of any callback seen since construction (late or not), in ms.
  std::chrono::milliseconds worstLateness() const;

 private:
  uint64_t late_ = 0;
  Clock::duration worst_{0};
  // Late callbacks not yet in a log line, and the worst of them.
  uint64_t unlogged_ = 0;
  Clock::duration unlogged_worst_{0};
  std::optional<Clock::time_point> last_logged_;
};

}  // namespace understudy::health
