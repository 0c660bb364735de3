// Runs every probe target on its own interval (DESIGN.md "Health checks and failover"): a first
// round for everyone at start, then start times staggered across the interval with jitter, and
// never two probes of one target in flight. Time and randomness are injected so unit tests drive
// the schedule by hand (as Envoy's health checker tests fire timers directly).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "understudy/health/check.h"

namespace understudy::health {

using SteadyTime = std::chrono::steady_clock::time_point;

class TimerService {
 public:
  virtual ~TimerService() = default;
  virtual SteadyTime now() = 0;
  // Calls `fn` at or after `at`, on the scheduler's thread.
  virtual void callAt(SteadyTime at, std::function<void()> fn) = 0;
};

class Scheduler {
 public:
  // Called for every finished probe, on the scheduler's thread.
  using OnResult = std::function<void(size_t target, const Outcome& outcome)>;

  Scheduler(TimerService& timers, Prober& prober, OnResult on_result, uint64_t seed = 0);
  ~Scheduler();

  // Targets are identified by the index add() returns.
  size_t add(ProbeTarget target);
  // Stops probing a target at once; a probe in flight finishes but is not reported.
  void remove(size_t target);

  // Before start(): target `i` takes over the schedule of target `j` of `old` (the same target in
  // the configuration a reload replaces). It counts as reported if that one had reported, and its
  // next probe is when the old one's was due, or at start() when the old one is in flight or
  // queued (the SharedProber then joins the probe already running). So a reload does not probe
  // every unchanged target again at once.
  void resumeFrom(size_t i, const Scheduler& old, size_t j);

  // Probes every target once now (the start-up round), except those resumed from a previous
  // schedule, then keeps the schedule going.
  void start();

  // At most this many probes in flight at once; more wait in FIFO order and start as others end
  // (their timeout starts then). Keeps a start-up round of 10,000 targets from timing itself out.
  void setMaxInFlight(size_t n) { max_in_flight_ = n ? n : 1; }
  size_t maxInFlight() const { return max_in_flight_; }
  size_t inFlightCount() const { return in_flight_count_; }
  size_t queued() const { return queue_.size(); }

  bool inFlight(size_t target) const;
  // True once every active target has reported at least once.
  bool firstRoundDone() const;
  const ProbeTarget& target(size_t i) const { return slots_[i]->target; }
  size_t size() const { return slots_.size(); }
  uint64_t skippedBecauseInFlight() const { return skipped_; }

 private:
  struct Slot {
    ProbeTarget target;
    bool active = true;
    bool in_flight = false;
    bool reported = false;
    bool queued = false;
    uint64_t epoch = 0;  // bumps on remove, so stale timers and callbacks are ignored
    SteadyTime next{};
    std::optional<SteadyTime> resume_at;  // resumeFrom(): the first probe is due then
  };
  void launch(size_t i);
  void startProbe(size_t i);
  void drainQueue();
  void scheduleNext(size_t i, SteadyTime from, bool first);
  void launchAt(size_t i, SteadyTime at);

  TimerService& timers_;
  Prober& prober_;
  OnResult on_result_;
  std::mt19937_64 random_;
  std::vector<std::unique_ptr<Slot>> slots_;
  bool started_ = false;
  size_t max_in_flight_ = 2048;
  size_t in_flight_count_ = 0;
  std::deque<size_t> queue_;
  uint64_t skipped_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace understudy::health
