// The control-thread side of failover: runs the probes (Scheduler), keeps one Tracker per probe
// target, applies operator overrides, and when the effective health changes re-renders the pooled
// answers and publishes them. Everything here runs on one thread; serving threads only ever see
// published Snapshots.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "understudy/failover/change_set.h"
#include "understudy/failover/controller.h"
#include "understudy/failover/events.h"
#include "understudy/failover/override_change.h"
#include "understudy/failover/overrides.h"
#include "understudy/failover/plan.h"
#include "understudy/failover/status.h"
#include "understudy/health/scheduler.h"
#include "understudy/health/tracker.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::failover {

class Monitor {
 public:
  Monitor(health::TimerService& timers, health::Prober& prober, std::shared_ptr<const Plan> plan,
          std::shared_ptr<const zone::Snapshot> base, zone::SnapshotHolder& holder,
          uint64_t seed = 0, std::shared_ptr<OverrideStore> overrides = nullptr);
  ~Monitor();

  // Starts the start-up round of probes. Nothing is published until publish() is called (the
  // daemon does that once the round is done or its deadline passed).
  void start();
  bool firstRoundDone() const { return scheduler_.firstRoundDone(); }
  // The bound on a first round of probes: the longest check timeout, once per wave the
  // scheduler's in-flight cap imposes (one wave unless there are thousands of targets).
  std::chrono::milliseconds longestTimeout() const;

  // Renders and publishes the current answers; from then on every transition publishes: only the
  // records whose endpoints changed are rendered again, transitions of one turn of the loop are
  // published together, and only zones whose content changed get a new `serial: auto`.
  void publish();
  // Snapshots published so far (one per publish that changed what is served).
  uint64_t publishes() const { return publishes_; }

  // After a reload: take over the measured state of every target that is unchanged (same check
  // definition, same address) from the monitor being replaced. Returns how many targets are new
  // (they start as at start-up: the caller waits for the first round before publish()).
  size_t adoptStateFrom(const Monitor& old);

  // Operator overrides. Return false with a reason when the pool or endpoint does not exist.
  bool setOverride(const std::string& pool, const std::string& address, OverrideKind kind,
                   std::optional<std::chrono::seconds> duration, std::string* error);
  bool clearOverride(const std::string& pool, const std::string& address, std::string* error);
  // setOverride() or clearOverride() as the control endpoint asks for it: an override on an
  // endpoint a reload removed can still be cleared (only cleared).
  OverrideChangeResult change(const OverrideChange& change);
  // Overrides whose pool or endpoint this configuration does not have, by pool and address.
  std::vector<OrphanedOverride> orphanedOverrides() const;

  const Controller& controller() const { return controller_; }
  const Plan& plan() const { return *plan_; }
  const health::Tracker& tracker(size_t target) const { return trackers_[target]; }
  size_t upCount() const;
  uint64_t transitions() const { return transitions_; }
  // Probes that could not be started here (health::OutcomeKind::kNotRun), over all targets.
  uint64_t probesNotRun() const { return not_run_; }
  uint32_t serial() const { return serial_; }
  // A copy of everything /status, /metrics and /explain show, built now (linear in the number
  // of targets and endpoints). The control endpoint never calls this: it reads the copies
  // handed to on_status.
  std::shared_ptr<const StatusSnapshot> status() const;
  std::vector<EndpointStatus> endpoints() const { return status()->endpoints(); }
  std::vector<RecordStatus> records() const { return status()->records(); }
  const std::map<std::string, PoolStats>& poolStats() const { return pool_stats_; }
  std::optional<std::chrono::system_clock::time_point> targetSince(size_t target) const {
    return since_[target];
  }

  // Wall clock for `serial: auto` and status times; tests replace it.
  std::function<std::chrono::system_clock::time_point()> wall_clock;
  // Called after each publish (for sd_notify STATUS).
  std::function<void()> on_publish;
  // Called with what each publish changed, before on_publish.
  std::function<void(const ChangeSet&)> on_change_set;
  // Receives a new status copy soon after anything an operator would see changes: at once
  // (coalesced within one turn of the loop) for states, answers and overrides, and at most every
  // kStatusInterval when only counters moved (probe counts, last probe).
  std::function<void(std::shared_ptr<const StatusSnapshot>)> on_status;
  static constexpr std::chrono::milliseconds kStatusInterval{500};
  // Where health, answer and override events go (webhooks); may be null.
  EventSink* events = nullptr;

 private:
  void onResult(size_t target, const health::Outcome& outcome);
  void onNotRun(size_t target, const health::Outcome& outcome);
  void logOrphanedOverrides(const Monitor& old) const;
  void expiryTick();
  void statusTick();
  void markDirty(const std::vector<size_t>& records);
  void markPoolDirty(const std::string& pool);
  void schedulePublish();
  // Something an operator would see changed: a new status copy goes out soon (urgent: in this
  // turn of the loop; else at the next statusTick).
  void statusChanged(bool urgent);
  void sendStatus();
  std::vector<std::string> endpointsOf(size_t target) const;
  std::string poolsOf(size_t target) const;
  std::chrono::system_clock::time_point now() const {
    return wall_clock ? wall_clock() : std::chrono::system_clock::now();
  }

  health::TimerService& timers_;
  std::shared_ptr<const Plan> plan_;
  zone::SnapshotHolder& holder_;
  std::shared_ptr<OverrideStore> overrides_;
  Controller controller_;
  std::vector<health::Tracker> trackers_;
  std::vector<std::optional<std::chrono::system_clock::time_point>> since_;
  health::Scheduler scheduler_;
  std::vector<Decision> decisions_;
  std::vector<uint64_t> record_changes_;
  std::vector<std::optional<std::chrono::system_clock::time_point>> record_changed_at_;
  std::map<std::string, PoolStats> pool_stats_;
  bool publishing_ = false;
  std::vector<size_t> dirty_;  // pooled records to render at the next publish
  bool publish_posted_ = false;
  uint64_t publishes_ = 0;
  std::vector<uint32_t> zone_serials_;  // by zone index
  // Auto serials by origin: carried across reloads, so a zone's serial never goes back.
  std::map<std::string, uint32_t> serial_by_origin_;
  uint32_t serial_ = 0;
  uint64_t transitions_ = 0;
  uint64_t not_run_ = 0;
  // "probe not run" is logged at most once per kNotRunLogInterval: a host out of descriptors
  // would otherwise log a line per target per interval.
  std::optional<health::SteadyTime> not_run_logged_;
  uint64_t not_run_unlogged_ = 0;
  std::shared_ptr<const StatusIndex> status_index_;
  bool status_dirty_ = false;
  bool status_posted_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace understudy::failover
