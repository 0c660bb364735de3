// Never two probes of one target in flight, across schedulers too: the shared prober runs one
// probe per distinct probe and hands its outcome to everyone who asked meanwhile.
#include "understudy/health/shared_prober.h"

#include <gtest/gtest.h>

#include <map>

#include "../support/manual_timers.h"
#include "understudy/health/scheduler.h"

namespace understudy::health {
namespace {

using std::chrono::milliseconds;

// Probes answer only when the test says (or after `latency`), and the prober records how many of
// each address are in flight at once.
class CountingProber : public Prober {
 public:
  explicit CountingProber(understudy::testing::ManualTimers* timers = nullptr) : timers_(timers) {}
  void probe(const ProbeTarget& target, Done done) override {
    ++started;
    int now = ++open[target.address];
    most[target.address] = std::max(most[target.address], now);
    auto finish = [this, address = target.address, done = std::move(done)] {
      --open[address];
      done(Outcome{OutcomeKind::kOk, 200, milliseconds(1), "HTTP 200"});
    };
    if (timers_) {
      timers_->callAt(timers_->now() + latency, std::move(finish));
    } else {
      pending.push_back(std::move(finish));
    }
  }
  void finishAll() {
    auto batch = std::move(pending);
    pending.clear();
    for (auto& f : batch) f();
  }
  milliseconds latency{400};
  int started = 0;
  std::map<std::string, int> open;
  std::map<std::string, int> most;
  std::vector<std::function<void()>> pending;

 private:
  understudy::testing::ManualTimers* timers_;
};

ProbeTarget target(const std::string& address, const std::string& name = "web") {
  ProbeTarget t;
  t.address = address;
  t.check.name = name;
  t.check.interval = milliseconds(1000);
  t.check.timeout = milliseconds(800);
  return t;
}

TEST(SharedProber, ASecondRequestForTheSameProbeJoinsTheOneInFlight) {
  CountingProber inner;
  SharedProber shared(inner);
  std::vector<Outcome> got;
  shared.probe(target("127.0.0.1"), [&](Outcome o) { got.push_back(o); });
  shared.probe(target("127.0.0.1"), [&](Outcome o) { got.push_back(o); });
  EXPECT_EQ(inner.started, 1);
  EXPECT_EQ(shared.joined(), 1u);
  EXPECT_TRUE(got.empty()) << "never inside probe()";
  inner.finishAll();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kind, OutcomeKind::kOk);
  EXPECT_EQ(got[1].detail, "HTTP 200");
  EXPECT_EQ(shared.inFlight(), 0u);
  // Finished: the next request is a new probe.
  shared.probe(target("127.0.0.1"), [&](Outcome o) { got.push_back(o); });
  EXPECT_EQ(inner.started, 2);
}

TEST(SharedProber, WhatCountsAsTheSameProbe) {
  CountingProber inner;
  SharedProber shared(inner);
  auto probe = [&](const ProbeTarget& t) { shared.probe(t, [](Outcome) {}); };
  probe(target("127.0.0.1"));
  // Same request and judgement, other name and schedule: the same probe.
  ProbeTarget renamed = target("127.0.0.1", "other");
  renamed.check.interval = milliseconds(5000);
  renamed.check.rise = 5;
  renamed.check.fall = 7;
  probe(renamed);
  EXPECT_EQ(inner.started, 1);
  // Another address, port, path, host, timeout or expected body: another probe.
  probe(target("127.0.0.2"));
  ProbeTarget port = target("127.0.0.1");
  port.check.port = 8080;
  probe(port);
  ProbeTarget path = target("127.0.0.1");
  path.check.path = "/health";
  probe(path);
  ProbeTarget host = target("127.0.0.1");
  host.check.host = "app.example";
  probe(host);
  ProbeTarget timeout = target("127.0.0.1");
  timeout.check.timeout = milliseconds(100);
  probe(timeout);
  ProbeTarget body = target("127.0.0.1");
  body.check.expect_body = "OK";
  probe(body);
  EXPECT_EQ(inner.started, 7);
  inner.finishAll();
}

TEST(SharedProber, AWaiterMayStartTheNextProbeOfTheSameTarget) {
  CountingProber inner;
  SharedProber shared(inner);
  int outcomes = 0;
  shared.probe(target("127.0.0.1"), [&](Outcome) {
    ++outcomes;
    shared.probe(target("127.0.0.1"), [&](Outcome) { ++outcomes; });
  });
  inner.finishAll();
  EXPECT_EQ(outcomes, 1);
  EXPECT_EQ(inner.started, 2) << "a new probe, not a join into the finished one";
  inner.finishAll();
  EXPECT_EQ(outcomes, 2);
}

TEST(SharedProber, DestroyedWithProbesInFlightCallsNothing) {
  CountingProber inner;
  int outcomes = 0;
  {
    SharedProber shared(inner);
    shared.probe(target("127.0.0.1"), [&](Outcome) { ++outcomes; });
  }
  inner.finishAll();
  EXPECT_EQ(outcomes, 0);
}

// A reload: the old scheduler keeps probing while the new one starts with a probe of every target
// at once. With slow probes (400 ms) on a 1 s interval, the target is never probed twice at once.
TEST(SharedProber, OldAndNewSchedulerSideBySideNeverOverlapOnATarget) {
  understudy::testing::ManualTimers timers;
  CountingProber inner(&timers);
  SharedProber shared(inner);
  int old_results = 0, new_results = 0;
  auto old_scheduler = std::make_unique<Scheduler>(
      timers, shared, [&](size_t, const Outcome&) { ++old_results; }, 1);
  old_scheduler->add(target("127.0.0.1"));
  old_scheduler->start();
  timers.advance(milliseconds(100));  // the old scheduler's probe is in flight
  ASSERT_EQ(inner.open["127.0.0.1"], 1);
  Scheduler new_scheduler(
      timers, shared, [&](size_t, const Outcome&) { ++new_results; }, 2);
  new_scheduler.add(target("127.0.0.1"));
  new_scheduler.add(target("127.0.0.2"));  // the target the reload adds
  new_scheduler.start();
  timers.advance(milliseconds(5000));  // both run side by side for five intervals
  old_scheduler.reset();
  timers.advance(milliseconds(5000));
  EXPECT_EQ(inner.most["127.0.0.1"], 1);
  EXPECT_EQ(inner.most["127.0.0.2"], 1);
  EXPECT_GE(shared.joined(), 1u);
  EXPECT_TRUE(new_scheduler.firstRoundDone());
  EXPECT_GE(old_results, 3);
  EXPECT_GE(new_results, 10);
}

}  // namespace
}  // namespace understudy::health
