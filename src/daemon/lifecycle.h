// The daemon's lifecycle as one explicit state machine (issue 11): starting, running, reloading,
// stopping and draining, with every event from signals, the control endpoint, the reload worker
// and the stop path decided in one place. The daemon owns the only instance, on the control
// thread, feeds it events and performs the Action each Step names; nothing else decides whether a
// reload may start, whether a reload's result may be applied, or when the process may exit.
//
// Why: reloads, stops and webhook draining used to be separate flags and loops, so a reload
// completion (or the timer of a monitor waiting for its first probes) could run after the stop
// path had released the monitors it uses. Here every late event meets a phase that discards it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace understudy::daemon {

enum class Phase : uint8_t {
  kStarting,   // loading, first probe round, binding sockets
  kRunning,    // serving; nothing in progress
  kReloading,  // a reload is being loaded and compiled on the worker
  kApplying,   // a loaded reload waits for the first probes of the targets it added
  kStopping,   // SIGTERM: abandoning any reload, closing sockets, releasing monitors
  kDraining,   // giving webhooks still on their way a bounded moment
  kStopped,    // leaving the event loop
};

enum class Event : uint8_t {
  kStarted,          // the sockets are up and answers published
  kReloadRequested,  // SIGHUP or POST /reload
  kReloadLoaded,     // the worker loaded and compiled the new configuration
  kReloadFailed,     // the worker found errors: keep serving the old configuration
  kReloadTimedOut,   // the worker did not finish within the reload timeout: abandon it
  kReloadApplied,    // the new configuration serves
  kStopRequested,    // SIGTERM / SIGINT
  kClosed,           // sockets closed and monitors released
  kDrained,          // webhooks delivered, or their time is up
};

enum class Action : uint8_t {
  kNone,         // nothing to do
  kStartReload,  // start loading the configuration on the worker
  kQueueReload,  // one more reload once the current one ends (requests coalesce into it)
  kApplyReload,  // make the loaded configuration live
  kDiscard,      // a late or unwanted event: drop it (and whatever it carries)
  kStop,         // abandon any reload, close the sockets, release the monitors
  kDrain,        // wait, bounded, for webhooks
  kExit,         // leave the event loop
};

const char* phaseName(Phase phase);
const char* eventName(Event event);

struct Step {
  Phase from = Phase::kStarting;
  Phase to = Phase::kStarting;
  Action action = Action::kNone;
  // For a log line: what happened, in an operator's words ("reload requested by SIGHUP queued
  // behind the reload in progress"). Never the words of the lines operators already grep for
  // ("reload done", "reload failed", " -> ").
  std::string note;
  // With kStartReload: who asked (for a queued reload, who asked first).
  std::string trigger;
};

class Lifecycle {
 public:
  // `trigger` names the source of a reload request ("SIGHUP", "control request").
  Step on(Event event, std::string_view trigger = {});

  Phase phase() const { return phase_; }
  bool reloadQueued() const { return queued_; }
  // Requests folded into the queued reload since it was queued (0 or more).
  unsigned coalesced() const { return coalesced_; }

 private:
  Step finishReload(Step step, const char* outcome);

  Phase phase_ = Phase::kStarting;
  bool queued_ = false;
  unsigned coalesced_ = 0;
  std::string queued_by_;
};

}  // namespace understudy::daemon
