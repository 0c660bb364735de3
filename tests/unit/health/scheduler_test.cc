// The scheduler driven by hand: an injected clock and a prober that answers when the test says.
#include "understudy/health/scheduler.h"

#include <gtest/gtest.h>

#include "../support/manual_timers.h"

#include <map>
#include <set>

namespace understudy::health {
namespace {

using std::chrono::milliseconds;

using FakeTimers = understudy::testing::ManualTimers;

class FakeProber : public Prober {
 public:
  void probe(const ProbeTarget& target, Done done) override {
    starts.push_back({target.address, clock->now()});
    if (auto_finish) {
      // Answer 10 ms later, like a healthy backend (never from inside probe()).
      clock->callAt(clock->now() + milliseconds(10), [done = std::move(done)] {
        done(Outcome{OutcomeKind::kOk, 200, {}, ""});
      });
      return;
    }
    pending.push_back({target.address, std::move(done)});
  }
  bool auto_finish = false;
  // Completes every probe in flight with `kind`.
  void finishAll(OutcomeKind kind = OutcomeKind::kOk) {
    auto batch = std::move(pending);
    pending.clear();
    for (auto& [address, done] : batch) done(Outcome{kind, 200, {}, ""});
  }
  FakeTimers* clock = nullptr;
  std::vector<std::pair<std::string, SteadyTime>> starts;
  std::vector<std::pair<std::string, Done>> pending;
};

ProbeTarget target(const std::string& address, int interval_ms = 1000, int timeout_ms = 200) {
  ProbeTarget t;
  t.address = address;
  t.check.name = std::string("c");  // not = "c": GCC 12 -O3 false -Wrestrict
  t.check.interval = milliseconds(interval_ms);
  t.check.timeout = milliseconds(timeout_ms);
  return t;
}

struct Fixture : ::testing::Test {
  Fixture() { prober.clock = &timers; }
  FakeTimers timers;
  FakeProber prober;
  std::vector<std::pair<size_t, OutcomeKind>> results;
  Scheduler scheduler{timers, prober,
                      [this](size_t i, const Outcome& o) { results.emplace_back(i, o.kind); }, 42};
};

TEST_F(Fixture, StartUpRoundProbesEveryTargetAtOnce) {
  for (int i = 0; i < 5; ++i) scheduler.add(target("127.0.0." + std::to_string(i + 1)));
  scheduler.start();
  EXPECT_EQ(prober.starts.size(), 5u);
  EXPECT_FALSE(scheduler.firstRoundDone());
  prober.finishAll();
  EXPECT_TRUE(scheduler.firstRoundDone());
  EXPECT_EQ(results.size(), 5u);
}

TEST_F(Fixture, SecondProbesAreStaggeredAcrossTheInterval) {
  for (int i = 0; i < 50; ++i) scheduler.add(target("127.0.1." + std::to_string(i + 1)));
  scheduler.start();
  prober.finishAll();
  prober.starts.clear();
  timers.advance(milliseconds(2000));  // interval + at most one interval of stagger
  ASSERT_EQ(prober.starts.size(), 50u);
  std::set<int64_t> offsets;
  for (const auto& [address, at] : prober.starts) {
    auto ms = std::chrono::duration_cast<milliseconds>(at - SteadyTime{}).count();
    EXPECT_GE(ms, 1000);
    EXPECT_LT(ms, 2000);
    offsets.insert(ms / 100);  // which tenth of the interval
  }
  EXPECT_GE(offsets.size(), 8u) << "second probes bunched together";
}

TEST_F(Fixture, SteadyStateIntervalHasBoundedJitter) {
  prober.auto_finish = true;
  scheduler.add(target("127.0.0.1", 1000));
  scheduler.start();
  timers.advance(milliseconds(60000));
  ASSERT_GE(prober.starts.size(), 40u);
  std::set<int64_t> gaps;
  // From the third probe on (the second carries the start-up stagger): interval + 0..10%.
  for (size_t i = 2; i < prober.starts.size(); ++i) {
    auto gap = std::chrono::duration_cast<milliseconds>(prober.starts[i].second -
                                                        prober.starts[i - 1].second)
                   .count();
    EXPECT_GE(gap, 1000) << i;
    EXPECT_LE(gap, 1100) << i;
    gaps.insert(gap);
  }
  EXPECT_GT(gaps.size(), 5u) << "no jitter at all";
  EXPECT_EQ(results.size(), prober.starts.size());
}

TEST_F(Fixture, NeverTwoProbesOfOneTargetInFlight) {
  scheduler.add(target("127.0.0.1", 1000));
  scheduler.start();
  // The prober never answers: ten intervals pass, still one probe in flight.
  timers.advance(milliseconds(10000));
  EXPECT_EQ(prober.starts.size(), 1u);
  EXPECT_TRUE(scheduler.inFlight(0));
  EXPECT_GE(scheduler.skippedBecauseInFlight(), 5u);
  prober.finishAll();
  timers.advance(milliseconds(2200));
  EXPECT_EQ(prober.starts.size(), 2u);
}

TEST_F(Fixture, RemovedTargetStopsAtOnceAndItsResultIsDropped) {
  scheduler.add(target("127.0.0.1"));
  scheduler.add(target("127.0.0.2"));
  scheduler.start();
  scheduler.remove(0);
  prober.finishAll();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].first, 1u);
  prober.starts.clear();
  timers.advance(milliseconds(10000));
  for (const auto& [address, at] : prober.starts) EXPECT_EQ(address, "127.0.0.2");
  EXPECT_TRUE(scheduler.firstRoundDone());  // removed targets do not hold the round up
}

TEST_F(Fixture, TargetAddedAfterStartIsProbedAtOnce) {
  scheduler.start();
  scheduler.add(target("127.0.0.9"));
  ASSERT_EQ(prober.starts.size(), 1u);
  EXPECT_EQ(prober.starts[0].first, "127.0.0.9");
}

}  // namespace
}  // namespace understudy::health

namespace understudy::health {
namespace {

TEST_F(Fixture, InFlightCapQueuesTheRestInOrder) {
  scheduler.setMaxInFlight(3);
  for (int i = 0; i < 10; ++i) scheduler.add(target("127.0.2." + std::to_string(i + 1)));
  scheduler.start();
  EXPECT_EQ(prober.starts.size(), 3u);
  EXPECT_EQ(scheduler.queued(), 7u);
  // Each finished probe lets exactly the next waiting one start.
  for (size_t round = 0; round < 3; ++round) prober.finishAll();
  EXPECT_EQ(prober.starts.size(), 10u);
  EXPECT_EQ(prober.starts[3].first, "127.0.2.4");
  EXPECT_EQ(scheduler.queued(), 0u);
  prober.finishAll();
  EXPECT_TRUE(scheduler.firstRoundDone());
  EXPECT_LE(scheduler.inFlightCount(), 3u);
}

}  // namespace
}  // namespace understudy::health

namespace understudy::health {
namespace {

// A reload hands unchanged targets to a new scheduler: they keep their place in the interval
// instead of all being probed again at once, and count as reported (no new start-up round).
TEST_F(Fixture, AResumedTargetKeepsItsScheduleAndAFreshOneIsProbedAtStart) {
  scheduler.add(target("127.0.2.1"));
  scheduler.add(target("127.0.2.2"));
  scheduler.start();
  prober.finishAll();  // both reported; next probes fall within the next 2 s
  ASSERT_TRUE(scheduler.firstRoundDone());
  timers.advance(milliseconds(100));
  prober.starts.clear();

  std::vector<std::pair<size_t, OutcomeKind>> next_results;
  Scheduler next{timers, prober,
                 [&](size_t i, const Outcome& o) { next_results.emplace_back(i, o.kind); }, 7};
  next.add(target("127.0.2.9"));  // new in this configuration
  next.add(target("127.0.2.2"));  // unchanged: was target 1
  next.resumeFrom(1, scheduler, 1);
  next.start();
  ASSERT_EQ(prober.starts.size(), 1u) << "only the new target is probed at start";
  EXPECT_EQ(prober.starts[0].first, "127.0.2.9");
  EXPECT_FALSE(next.firstRoundDone()) << "the new target has not reported yet";
  prober.finishAll();
  EXPECT_TRUE(next.firstRoundDone()) << "the resumed target counts as reported";

  // The resumed target's first probe under the new scheduler comes when the old one's was due.
  prober.starts.clear();
  timers.advance(milliseconds(2000));
  bool resumed_probed = false;
  for (const auto& [address, at] : prober.starts) resumed_probed |= address == "127.0.2.2";
  EXPECT_TRUE(resumed_probed);
}

TEST_F(Fixture, ATargetInFlightWhenResumedIsJoinedAtStart) {
  scheduler.add(target("127.0.3.1"));
  scheduler.start();  // its first probe is in flight and stays so
  ASSERT_EQ(prober.pending.size(), 1u);
  prober.starts.clear();
  Scheduler next{timers, prober, [](size_t, const Outcome&) {}, 7};
  next.add(target("127.0.3.1"));
  next.resumeFrom(0, scheduler, 0);
  next.start();
  EXPECT_EQ(prober.starts.size(), 1u) << "started at once (a SharedProber joins the old probe)";
}

}  // namespace
}  // namespace understudy::health
