// The rise/fall state machine, as dnsdist's backend tests put it: "four failures stay up, the
// fifth goes down".
#include "understudy/health/tracker.h"

#include <gtest/gtest.h>

namespace understudy::health {
namespace {

Outcome ok() {
  return Outcome{OutcomeKind::kOk, 200, {}, ""};
}
Outcome status(int code) {
  return Outcome{OutcomeKind::kBadStatus, code, {}, ""};
}
Outcome refused() {
  return Outcome{OutcomeKind::kConnectFailed, 0, {}, "connection refused"};
}

CheckSpec check() {
  CheckSpec c;
  c.name = "web";
  c.rise = 2;
  c.fall = 3;
  c.timeout = std::chrono::milliseconds(2000);
  c.expect_body = "OK";
  return c;
}

TEST(Tracker, FirstResultSetsTheInitialState) {
  Tracker up(2, 3);
  EXPECT_EQ(up.state(), State::kUnknown);
  EXPECT_EQ(up.record(ok(), check()), Transition::kWentUp);
  EXPECT_EQ(up.state(), State::kUp);
  Tracker down(2, 3);
  EXPECT_EQ(down.record(refused(), check()), Transition::kWentDown);
  EXPECT_EQ(down.state(), State::kDown);
}

TEST(Tracker, TwoFailuresStayUpTheThirdGoesDown) {
  Tracker t(2, 3);
  t.record(ok(), check());
  EXPECT_EQ(t.record(status(503), check()), Transition::kUnchanged);
  EXPECT_EQ(t.record(status(503), check()), Transition::kUnchanged);
  EXPECT_EQ(t.state(), State::kUp);
  EXPECT_EQ(t.record(status(503), check()), Transition::kWentDown);
  EXPECT_EQ(t.state(), State::kDown);
  EXPECT_EQ(t.reason(), "HTTP 503 x3");
}

TEST(Tracker, OneSuccessAfterFailuresDoesNotGoUpWhenRiseIsTwo) {
  Tracker t(2, 3);
  t.record(refused(), check());
  EXPECT_EQ(t.record(ok(), check()), Transition::kUnchanged);
  EXPECT_EQ(t.state(), State::kDown);
  EXPECT_EQ(t.record(refused(), check()), Transition::kUnchanged);  // the streak restarts
  EXPECT_EQ(t.record(ok(), check()), Transition::kUnchanged);
  EXPECT_EQ(t.record(ok(), check()), Transition::kWentUp);
  EXPECT_EQ(t.reason(), "HTTP 200 x2");
}

TEST(Tracker, AlternatingResultsNeverFlapTheState) {
  Tracker t(2, 2);
  t.record(ok(), check());
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(t.record(i % 2 ? ok() : refused(), check()), Transition::kUnchanged) << i;
  }
  EXPECT_EQ(t.state(), State::kUp);
}

// A probe that could not start here (EMFILE, no memory, curl refusing the handle) measured
// nothing: counted, never judged.
TEST(Tracker, NotRunMovesNothing) {
  const Outcome not_run{OutcomeKind::kNotRun, 0, std::chrono::microseconds(5),
                        "socket(): too many open files"};
  Tracker unknown(2, 1);
  EXPECT_EQ(unknown.record(not_run, check()), Transition::kUnchanged);
  EXPECT_EQ(unknown.state(), State::kUnknown) << "the first real result still decides";

  Tracker t(2, 1);  // fall 1: a single real failure would take it down
  t.record(ok(), check());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(t.record(not_run, check()), Transition::kUnchanged);
  EXPECT_EQ(t.state(), State::kUp);
  EXPECT_EQ(t.consecutiveFailures(), 0u);
  EXPECT_EQ(t.consecutiveSuccesses(), 1u);
  EXPECT_EQ(t.reason(), "HTTP 200 x1");
  EXPECT_EQ(t.lastOutcome()->kind, OutcomeKind::kOk);
  EXPECT_EQ(t.probes(), 1u) << "the duration histogram counts measurements only";
  EXPECT_EQ(t.outcomeCount(OutcomeKind::kNotRun), 10u);
  EXPECT_STREQ(Outcome::kindName(OutcomeKind::kNotRun), "not_run");
  EXPECT_EQ(not_run.describe(check()), "probe not run: socket(): too many open files");
  // Streaks continue across it: ok, not run, ok is two successes in a row.
  Tracker down(2, 1);
  down.record(refused(), check());
  down.record(ok(), check());
  down.record(not_run, check());
  EXPECT_EQ(down.record(ok(), check()), Transition::kWentUp);
}

TEST(Tracker, ReasonCountsTheLatestRunOfTheSameOutcome) {
  Tracker t(1, 3);
  t.record(ok(), check());
  t.record(Outcome{OutcomeKind::kTimeout, 0, {}, ""}, check());
  t.record(refused(), check());
  EXPECT_EQ(t.record(refused(), check()), Transition::kWentDown);
  EXPECT_EQ(t.reason(), "connect refused x2");
  EXPECT_EQ(t.consecutiveFailures(), 3u);
}

TEST(Outcome, DescribesEachKindInOperatorWords) {
  CheckSpec c = check();
  EXPECT_EQ(status(503).describe(c), "HTTP 503");
  EXPECT_EQ(refused().describe(c), "connect refused");
  EXPECT_EQ((Outcome{OutcomeKind::kTimeout, 0, {}, ""}).describe(c), "timeout 2000 ms");
  EXPECT_EQ((Outcome{OutcomeKind::kBodyMismatch, 200, {}, ""}).describe(c),
            "body did not contain 'OK'");
  EXPECT_EQ((Outcome{OutcomeKind::kTlsError, 0, {}, "certificate verify failed"}).describe(c),
            "TLS: certificate verify failed");
  EXPECT_STREQ(Outcome::kindName(OutcomeKind::kBadStatus), "bad_status");
}

}  // namespace
}  // namespace understudy::health
