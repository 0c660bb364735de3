// The daemon's lifecycle state machine, event by event: what each phase does with each event.
#include "lifecycle.h"

#include <gtest/gtest.h>

namespace understudy::daemon {
namespace {

Lifecycle running() {
  Lifecycle l;
  EXPECT_EQ(l.on(Event::kStarted).to, Phase::kRunning);
  return l;
}

TEST(Lifecycle, AReloadRunsLoadsAppliesAndReturnsToRunning) {
  Lifecycle l = running();
  Step s = l.on(Event::kReloadRequested, "SIGHUP");
  EXPECT_EQ(s.from, Phase::kRunning);
  EXPECT_EQ(s.to, Phase::kReloading);
  EXPECT_EQ(s.action, Action::kStartReload);
  EXPECT_EQ(s.trigger, "SIGHUP");
  s = l.on(Event::kReloadLoaded);
  EXPECT_EQ(s.to, Phase::kApplying);
  EXPECT_EQ(s.action, Action::kApplyReload);
  s = l.on(Event::kReloadApplied);
  EXPECT_EQ(s.to, Phase::kRunning);
  EXPECT_EQ(s.action, Action::kNone);
}

TEST(Lifecycle, FailedAndTimedOutReloadsReturnToRunning) {
  for (Event end : {Event::kReloadFailed, Event::kReloadTimedOut}) {
    Lifecycle l = running();
    l.on(Event::kReloadRequested, "SIGHUP");
    Step s = l.on(end);
    EXPECT_EQ(s.to, Phase::kRunning) << eventName(end);
    EXPECT_EQ(s.action, Action::kNone) << eventName(end);
    // Never wedged: the next request starts a reload.
    EXPECT_EQ(l.on(Event::kReloadRequested, "control request").action, Action::kStartReload);
  }
}

TEST(Lifecycle, RequestsDuringAReloadQueueOneMoreAndCoalesce) {
  for (Phase busy : {Phase::kReloading, Phase::kApplying}) {
    Lifecycle l = running();
    l.on(Event::kReloadRequested, "SIGHUP");
    if (busy == Phase::kApplying) l.on(Event::kReloadLoaded);
    ASSERT_EQ(l.phase(), busy);
    Step s = l.on(Event::kReloadRequested, "control request");
    EXPECT_EQ(s.action, Action::kQueueReload);
    EXPECT_EQ(s.to, busy);
    EXPECT_NE(s.note.find("queued"), std::string::npos) << s.note;
    s = l.on(Event::kReloadRequested, "SIGHUP");
    EXPECT_EQ(s.action, Action::kQueueReload);
    EXPECT_NE(s.note.find("folded into the reload already queued by control request"),
              std::string::npos)
        << s.note;
    EXPECT_TRUE(l.reloadQueued());
    EXPECT_EQ(l.coalesced(), 1u);
    // The reload in progress ends (either way): the queued one starts at once, exactly once.
    s = l.on(busy == Phase::kApplying ? Event::kReloadApplied : Event::kReloadFailed);
    EXPECT_EQ(s.to, Phase::kReloading);
    EXPECT_EQ(s.action, Action::kStartReload);
    EXPECT_EQ(s.trigger, "queued reload (control request)");
    EXPECT_FALSE(l.reloadQueued());
    s = l.on(Event::kReloadFailed);
    EXPECT_EQ(s.to, Phase::kRunning);
    EXPECT_EQ(s.action, Action::kNone);
  }
}

TEST(Lifecycle, ARequestWhileStartingRunsOnceStarted) {
  Lifecycle l;
  EXPECT_EQ(l.on(Event::kReloadRequested, "SIGHUP").action, Action::kQueueReload);
  Step s = l.on(Event::kStarted);
  EXPECT_EQ(s.to, Phase::kReloading);
  EXPECT_EQ(s.action, Action::kStartReload);
}

TEST(Lifecycle, StopFromEveryPhaseAbandonsWhatIsInProgress) {
  for (int at = 0; at < 4; ++at) {
    Lifecycle l;
    if (at >= 1) l.on(Event::kStarted);
    if (at >= 2) l.on(Event::kReloadRequested, "SIGHUP");
    if (at >= 3) l.on(Event::kReloadLoaded);
    l.on(Event::kReloadRequested, "SIGHUP");  // queued (or a reload started, at == 1)
    Phase from = l.phase();
    Step s = l.on(Event::kStopRequested, "SIGTERM");
    EXPECT_EQ(s.from, from);
    EXPECT_EQ(s.to, Phase::kStopping);
    EXPECT_EQ(s.action, Action::kStop);
    EXPECT_FALSE(l.reloadQueued()) << "a queued reload never starts after a stop";
    EXPECT_EQ(l.on(Event::kClosed).action, Action::kDrain);
    EXPECT_EQ(l.phase(), Phase::kDraining);
    s = l.on(Event::kDrained);
    EXPECT_EQ(s.to, Phase::kStopped);
    EXPECT_EQ(s.action, Action::kExit);
  }
}

// The defect of issue 11: a reload's completion, or the end of its probe wait, arriving after the
// stop path released the monitors. Every such late event is discarded, whatever the phase.
TEST(Lifecycle, LateReloadEventsAfterAStopAreDiscarded) {
  for (Event late : {Event::kReloadLoaded, Event::kReloadFailed, Event::kReloadTimedOut,
                     Event::kReloadApplied, Event::kReloadRequested}) {
    Lifecycle l = running();
    l.on(Event::kReloadRequested, "SIGHUP");
    l.on(Event::kStopRequested, "SIGTERM");
    Step s = l.on(late, "control request");
    EXPECT_EQ(s.action, Action::kDiscard) << eventName(late);
    EXPECT_EQ(s.to, Phase::kStopping) << eventName(late);
    l.on(Event::kClosed);
    s = l.on(late, "SIGHUP");
    EXPECT_EQ(s.action, Action::kDiscard) << eventName(late);
    EXPECT_EQ(s.to, Phase::kDraining) << eventName(late);
    l.on(Event::kDrained);
    EXPECT_EQ(l.on(late).action, Action::kDiscard) << eventName(late);
  }
}

TEST(Lifecycle, StaleResultsWhileRunningAreDiscarded) {
  Lifecycle l = running();
  for (Event stale : {Event::kReloadLoaded, Event::kReloadFailed, Event::kReloadTimedOut,
                      Event::kReloadApplied, Event::kClosed, Event::kDrained}) {
    Step s = l.on(stale);
    EXPECT_EQ(s.action, Action::kDiscard) << eventName(stale);
    EXPECT_EQ(l.phase(), Phase::kRunning) << eventName(stale);
  }
}

TEST(Lifecycle, ASecondStopWhileDrainingExitsAtOnce) {
  Lifecycle l = running();
  l.on(Event::kStopRequested, "SIGTERM");
  EXPECT_EQ(l.on(Event::kStopRequested, "SIGTERM").action, Action::kNone);
  l.on(Event::kClosed);
  Step s = l.on(Event::kStopRequested, "SIGINT");
  EXPECT_EQ(s.to, Phase::kStopped);
  EXPECT_EQ(s.action, Action::kExit);
}

TEST(Lifecycle, EveryStepSaysWhatHappenedInWordsOfItsOwn) {
  Lifecycle l;
  for (Event e :
       {Event::kStarted, Event::kReloadFailed, Event::kReloadRequested, Event::kReloadRequested,
        Event::kReloadLoaded, Event::kReloadApplied, Event::kReloadTimedOut,
        Event::kReloadRequested, Event::kReloadFailed, Event::kStopRequested, Event::kReloadFailed,
        Event::kClosed, Event::kDrained, Event::kReloadApplied}) {
    std::string note = l.on(e, "SIGHUP").note;
    EXPECT_FALSE(note.empty()) << eventName(e);
    // Operators and tests grep the daemon's own lines for these.
    for (const char* taken : {"reload done", "reload failed", " -> "}) {
      EXPECT_EQ(note.find(taken), std::string::npos) << note;
    }
  }
}

}  // namespace
}  // namespace understudy::daemon
