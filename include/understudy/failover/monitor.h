// The control-thread side of failover: runs the probes (Scheduler), keeps one Tracker per probe
// target, and when a tracker reports a transition re-renders the pooled answers and publishes
// them. Everything here runs on one thread; serving threads only ever see published Snapshots.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "understudy/failover/controller.h"
#include "understudy/health/scheduler.h"
#include "understudy/health/tracker.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::failover {

class Monitor {
 public:
  Monitor(health::TimerService& timers, health::Prober& prober,
          std::shared_ptr<const config::Config> config, std::shared_ptr<const zone::Snapshot> base,
          zone::SnapshotHolder& holder, uint64_t seed = 0);

  // Starts the start-up round of probes. Nothing is published until publish() is called (the
  // daemon does that once the round is done or its deadline passed).
  void start();
  bool firstRoundDone() const { return scheduler_.firstRoundDone(); }
  // The longest check timeout: the bound on the start-up round.
  std::chrono::milliseconds longestTimeout() const;

  // Renders and publishes the current answers; from then on every transition publishes.
  void publish();

  // After a reload: take over the measured state of every target that is unchanged (same check
  // definition, same address) from the monitor being replaced. Returns how many targets are new
  // (they start as at start-up: the caller waits for the first round before publish()).
  size_t adoptStateFrom(const Monitor& old);

  const Controller& controller() const { return controller_; }
  const health::Tracker& tracker(size_t target) const { return trackers_[target]; }
  size_t upCount() const;
  uint64_t transitions() const { return transitions_; }
  uint32_t serial() const { return serial_; }

  // Wall clock for `serial: auto` (seconds since the epoch); tests replace it.
  std::function<uint32_t()> unix_time;

  // Called after each publish (for sd_notify STATUS, metrics later).
  std::function<void()> on_publish;

 private:
  void onResult(size_t target, const health::Outcome& outcome);
  std::string poolsOf(size_t target) const;

  std::shared_ptr<const config::Config> config_;
  zone::SnapshotHolder& holder_;
  Controller controller_;
  std::vector<health::Tracker> trackers_;
  health::Scheduler scheduler_;
  std::vector<Decision> decisions_;
  bool publishing_ = false;
  uint32_t serial_ = 0;
  uint64_t transitions_ = 0;
};

}  // namespace understudy::failover
