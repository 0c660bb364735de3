#include "lifecycle.h"

namespace understudy::daemon {

const char* phaseName(Phase phase) {
  switch (phase) {
    case Phase::kStarting:
      return "starting";
    case Phase::kRunning:
      return "running";
    case Phase::kReloading:
      return "reloading";
    case Phase::kApplying:
      return "applying";
    case Phase::kStopping:
      return "stopping";
    case Phase::kDraining:
      return "draining";
    case Phase::kStopped:
      return "stopped";
  }
  return "?";
}

const char* eventName(Event event) {
  switch (event) {
    case Event::kStarted:
      return "started";
    case Event::kReloadRequested:
      return "reload requested";
    case Event::kReloadLoaded:
      return "reload loaded";
    case Event::kReloadFailed:
      return "reload rejected";
    case Event::kReloadTimedOut:
      return "reload timed out";
    case Event::kReloadApplied:
      return "reload applied";
    case Event::kStopRequested:
      return "stop requested";
    case Event::kClosed:
      return "closed";
    case Event::kDrained:
      return "drained";
  }
  return "?";
}

// Back to running after a reload ended (or the start-up); a queued reload starts at once.
Step Lifecycle::finishReload(Step step, const char* outcome) {
  step.note = outcome;
  if (!queued_) {
    step.to = Phase::kRunning;
    return step;
  }
  step.to = Phase::kReloading;
  step.action = Action::kStartReload;
  step.trigger = "queued reload (" + queued_by_ + ")";
  step.note += "; starting the reload queued by " + queued_by_;
  if (coalesced_ > 0) {
    step.note += " (" + std::to_string(coalesced_) + " later request(s) folded into it)";
  }
  queued_ = false;
  coalesced_ = 0;
  queued_by_.clear();
  return step;
}

Step Lifecycle::on(Event event, std::string_view trigger) {
  Step step;
  step.from = phase_;
  step.to = phase_;
  const std::string who = trigger.empty() ? std::string("?") : std::string(trigger);
  auto discard = [&](const char* why) {
    step.action = Action::kDiscard;
    step.note = std::string(eventName(event)) + " while " + phaseName(phase_) + ": " + why;
  };
  auto queue = [&] {
    step.action = Action::kQueueReload;
    if (!queued_) {
      queued_ = true;
      queued_by_ = who;
      step.note = "reload requested by " + who + " queued behind the reload in progress";
    } else {
      ++coalesced_;
      step.note =
          "reload requested by " + who + " folded into the reload already queued by " + queued_by_;
    }
  };
  auto stop = [&] {
    step.to = Phase::kStopping;
    step.action = Action::kStop;
    step.note = "stop requested by " + who;
    if (phase_ == Phase::kReloading) step.note += "; abandoning the reload in progress";
    if (phase_ == Phase::kApplying) step.note += "; dropping the reload waiting for its probes";
    if (queued_) step.note += "; dropping the queued reload";
    queued_ = false;
    coalesced_ = 0;
    queued_by_.clear();
  };

  switch (phase_) {
    case Phase::kStarting:
      switch (event) {
        case Event::kStarted:
          step = finishReload(step, "serving");
          break;
        case Event::kReloadRequested:
          queue();
          break;
        case Event::kStopRequested:
          stop();
          break;
        default:
          discard("not started yet");
      }
      break;
    case Phase::kRunning:
      switch (event) {
        case Event::kReloadRequested:
          step.to = Phase::kReloading;
          step.action = Action::kStartReload;
          step.trigger = who;
          step.note = "reload requested by " + who;
          break;
        case Event::kStopRequested:
          stop();
          break;
        default:
          discard("no reload in progress");
      }
      break;
    case Phase::kReloading:
      switch (event) {
        case Event::kReloadRequested:
          queue();
          break;
        case Event::kReloadLoaded:
          step.to = Phase::kApplying;
          step.action = Action::kApplyReload;
          step.note = "new configuration loaded; applying it";
          break;
        case Event::kReloadFailed:
          step = finishReload(step, "new configuration refused; the previous one keeps serving");
          break;
        case Event::kReloadTimedOut:
          step = finishReload(step,
                              "abandoned after its time limit; the previous configuration keeps "
                              "serving");
          break;
        case Event::kStopRequested:
          stop();
          break;
        default:
          discard("the reload is still loading");
      }
      break;
    case Phase::kApplying:
      switch (event) {
        case Event::kReloadRequested:
          queue();
          break;
        case Event::kReloadApplied:
          step = finishReload(step, "new configuration serving");
          break;
        case Event::kStopRequested:
          stop();
          break;
        default:
          discard("the reload is being applied");
      }
      break;
    case Phase::kStopping:
      switch (event) {
        case Event::kClosed:
          step.to = Phase::kDraining;
          step.action = Action::kDrain;
          step.note = "sockets closed; giving webhooks on their way a moment";
          break;
        case Event::kStopRequested:
          step.action = Action::kNone;
          step.note = "already stopping";
          break;
        case Event::kReloadRequested:
          discard(("reload requested by " + who + " refused").c_str());
          break;
        default:
          discard("stopping");
      }
      break;
    case Phase::kDraining:
      switch (event) {
        case Event::kDrained:
          step.to = Phase::kStopped;
          step.action = Action::kExit;
          step.note = "webhooks done";
          break;
        case Event::kStopRequested:
          step.to = Phase::kStopped;
          step.action = Action::kExit;
          step.note = "second stop request (" + who + "): not waiting for webhooks";
          break;
        case Event::kReloadRequested:
          discard(("reload requested by " + who + " refused").c_str());
          break;
        default:
          discard("stopping");
      }
      break;
    case Phase::kStopped:
      discard("stopped");
      break;
  }
  phase_ = step.to;
  return step;
}

}  // namespace understudy::daemon
