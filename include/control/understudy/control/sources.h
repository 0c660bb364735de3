// What the control endpoint reads and steers (issue 12: looking must never change what is
// answered). The endpoint runs on a thread of its own; the daemon's health thread publishes a
// Status (an immutable copy, like the answer Snapshots) whenever something changes, and the
// endpoint only ever reads published copies. Writes (overrides, reloads) travel to the health
// thread as messages and their answers travel back: no control client can delay a probe, a
// transition or a publish.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "understudy/failover/override_change.h"
#include "understudy/failover/status.h"
#include "understudy/notify/notifier.h"
#include "understudy/server/server.h"
#include "understudy/zone/snapshot_holder.h"

namespace understudy::control {

struct ReloadCounts {
  uint64_t ok = 0;
  uint64_t failed = 0;
};

// What became of a reload request: started, queued behind the one in progress, or refused
// (the daemon is stopping). `message` says which, for the HTTP answer.
struct ReloadAnswer {
  bool accepted = true;
  std::string message;
};

// How punctual the health thread is (health::AsioTimerService, the probers).
struct HealthLoopStats {
  uint64_t late_callbacks = 0;  // timer callbacks that ran late: the thread was busy
  double worst_late_ms = 0;     // the latest of them
  uint64_t late_timeouts = 0;   // probe timeouts judged late, not counted as failures
};

// One published copy of everything the endpoint shows.
struct Status {
  // Null until the first answers are published.
  std::shared_ptr<const failover::StatusSnapshot> failover;
  ReloadCounts reloads;
  std::vector<notify::HookStats> hooks;
  HealthLoopStats health;
};

// The latest Status: the health thread publishes, the control thread reads. A copy of a
// shared_ptr under a mutex held for nothing else: readers never wait on the health thread's work.
class StatusHolder {
 public:
  void publish(std::shared_ptr<const Status> status) {
    std::lock_guard lock(mutex_);
    current_ = std::move(status);
  }
  std::shared_ptr<const Status> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Status> current_;
};

class Sources {
 public:
  virtual ~Sources() = default;

  // Read from the control thread; safe from any thread.
  // The latest published Status; never null (an empty Status before the first publish).
  virtual std::shared_ptr<const Status> status() const = 0;
  virtual const zone::SnapshotHolder& snapshots() const = 0;
  // Null until the DNS sockets are up. Its counters are safe to read from any thread.
  virtual const server::Server* server() const = 0;

  // Writes: carried out on the health thread, which calls `done` once with the result (on the
  // health thread; the caller posts it back to where it needs it). `done` may never be called
  // when the daemon stops first.
  virtual void changeOverride(failover::OverrideChange change,
                              std::function<void(std::optional<failover::OverrideChangeResult>)>
                                  done) = 0;  // nullopt: nothing is being served (starting)
  // The same reload as SIGHUP (queued behind, or coalesced with, one already running).
  virtual void reload(std::string trigger, std::function<void(ReloadAnswer)> done) = 0;
};

}  // namespace understudy::control
