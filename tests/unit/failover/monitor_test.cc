// Config -> compile -> Monitor -> SnapshotHolder -> query::answer, with the clock and the probes
// driven by hand: a transition is published synchronously with the deciding result.
#include "understudy/failover/monitor.h"
#include "understudy/config/config.h"

#include <gtest/gtest.h>

#include <ldns/ldns.h>
#include "../support/manual_timers.h"

#include <algorithm>
#include <map>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "understudy/dns/name.h"
#include "understudy/query/answer.h"
#include "understudy/zone/compile.h"

namespace understudy::failover {
namespace {

using std::chrono::milliseconds;

using ManualTimers = understudy::testing::ManualTimers;

// Each probe answers at once with the outcome currently set for its address.
class ScriptedProber : public health::Prober {
 public:
  explicit ScriptedProber(ManualTimers& timers) : timers_(timers) {}
  void probe(const health::ProbeTarget& target, Done done) override {
    int n = ++probes[target.address];
    // A flapping address alternates good and bad on every probe.
    bool bad = flapping.count(target.address) ? n % 2 == 0 : down.count(target.address) > 0;
    health::Outcome o;
    o.kind = bad ? health::OutcomeKind::kBadStatus : health::OutcomeKind::kOk;
    o.http_status = bad ? 503 : 200;
    if (not_run.count(target.address)) {
      o = health::Outcome{health::OutcomeKind::kNotRun, 0, {}, "socket(): too many open files"};
    }
    timers_.callAt(timers_.now() + milliseconds(1), [done = std::move(done), o] { done(o); });
  }
  std::set<std::string> down;
  std::set<std::string> flapping;
  std::set<std::string> not_run;  // probes of these cannot start here (EMFILE)
  std::map<std::string, int> probes;

 private:
  ManualTimers& timers_;
};

constexpr const char* kConfig = R"(
checks:
  web: { type: http, port: 8080, interval: 1s, timeout: 500ms, rise: 2, fall: 2 }
pools:
  app:
    check: web
    endpoints:
      - { address: 192.0.2.10, probe_address: 127.0.0.11, priority: 1 }
      - { address: 192.0.2.20, probe_address: 127.0.0.12, priority: 2 }
      - { address: "2001:db8::10", probe_address: 127.0.0.11, priority: 1 }
      - { address: 192.0.2.30, priority: 3, check: none }
zones:
  - name: f.test
    records:
      - { name: app, type: A, pool: app, ttl: 300, failover_ttl: 20 }
      - { name: app, type: AAAA, pool: app, ttl: 300, failover_ttl: 20 }
      - { name: static, type: A, value: 192.0.2.1 }
)";

struct Answer {
  std::string rdata;
  uint32_t ttl = 0;
  int rcode = -1;
};

Answer ask(const zone::Snapshot* snapshot, const char* name, ldns_rr_type type) {
  ldns_pkt* q = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, LDNS_RR_CLASS_IN, 0);
  uint8_t* wire = nullptr;
  size_t len = 0;
  ldns_pkt2wire(&wire, q, &len);
  ldns_pkt_free(q);
  std::vector<uint8_t> out(query::kMaxResponseSize);
  size_t n =
      query::answer(std::span<const uint8_t>(wire, len), snapshot, query::Transport::kUdp, out);
  free(wire);
  ldns_pkt* r = nullptr;
  Answer a;
  if (ldns_wire2pkt(&r, out.data(), n) != LDNS_STATUS_OK) return a;
  a.rcode = ldns_pkt_get_rcode(r);
  ldns_rr_list* answers = ldns_pkt_answer(r);
  for (size_t i = 0; i < ldns_rr_list_rr_count(answers); ++i) {
    ldns_rr* rr = ldns_rr_list_rr(answers, i);
    char* text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    if (!a.rdata.empty()) a.rdata += ' ';  // not "x" + std::string&&: GCC 12 -O3 -Wrestrict
    a.rdata += text;
    free(text);
    a.ttl = ldns_rr_ttl(rr);
  }
  ldns_pkt_free(r);
  return a;
}

struct MonitorTest : ::testing::Test {
  MonitorTest() {
    auto c = std::make_shared<config::Config>(config::loadString(kConfig, "m.yaml"));
    auto base = zone::compile(c->zones, {});
    monitor = std::make_unique<Monitor>(timers, prober, c, base, holder, 7);
  }
  const zone::Snapshot* current() {
    snapshot = holder.current();
    return snapshot.get();
  }
  ManualTimers timers;
  ScriptedProber prober{timers};
  zone::SnapshotHolder holder;
  std::unique_ptr<Monitor> monitor;
  std::shared_ptr<const zone::Snapshot> snapshot;
};

TEST_F(MonitorTest, SharedTargetsAreProbedOnceAndUncheckedEndpointsNever) {
  // 127.0.0.11 serves two endpoints with the same check: one target. check: none: no target.
  EXPECT_EQ(monitor->controller().targets().size(), 2u);
  monitor->start();
  timers.advance(milliseconds(5));
  EXPECT_EQ(prober.probes["127.0.0.11"], 1);
  EXPECT_EQ(prober.probes.size(), 2u);
}

TEST_F(MonitorTest, StartUpRoundThenFailoverAndFailback) {
  prober.down.insert("127.0.0.11");  // the primary is down from the start
  monitor->start();
  timers.advance(milliseconds(5));
  ASSERT_TRUE(monitor->firstRoundDone());
  monitor->publish();
  Answer a = ask(current(), "app.f.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(a.rdata, "192.0.2.20");
  EXPECT_EQ(a.ttl, 20u);
  // AAAA: its only IPv6 endpoint is down and nothing else is IPv6: fail open with failover_ttl.
  Answer aaaa = ask(current(), "app.f.test.", LDNS_RR_TYPE_AAAA);
  EXPECT_EQ(aaaa.rdata, "2001:db8::10");
  EXPECT_EQ(aaaa.ttl, 20u);

  prober.down.clear();  // recovers: rise 2 → two good probes, then back to the primary
  uint64_t generation = holder.generation();
  timers.advance(milliseconds(4000));
  EXPECT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.10");
  EXPECT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).ttl, 300u);
  EXPECT_GT(holder.generation(), generation);

  prober.down = {"127.0.0.11", "127.0.0.12"};  // both checked endpoints down: tier 3 (unchecked)
  timers.advance(milliseconds(5000));
  EXPECT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.30");
  EXPECT_EQ(monitor->upCount(), 0u);
  EXPECT_GE(monitor->transitions(), 3u);
}

TEST_F(MonitorTest, StaticRecordsAreUntouchedAndSharedAcrossPublishes) {
  monitor->start();
  timers.advance(milliseconds(5));
  monitor->publish();
  auto before = holder.current();
  prober.down.insert("127.0.0.11");
  timers.advance(milliseconds(5000));
  auto after = holder.current();
  ASSERT_NE(before, after);
  EXPECT_EQ(before->zone_set, after->zone_set);  // the zones were not copied
  EXPECT_EQ(ask(after.get(), "static.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.1");
  EXPECT_EQ(ask(after.get(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.20");
}

TEST_F(MonitorTest, FlappingFasterThanThresholdsDoesNotFlapTheAnswer) {
  monitor->start();
  timers.advance(milliseconds(5));
  monitor->publish();
  uint64_t generation = holder.generation();
  prober.flapping.insert("127.0.0.11");
  timers.advance(milliseconds(40000));
  EXPECT_GE(prober.probes["127.0.0.11"], 30);
  EXPECT_EQ(holder.generation(), generation) << "a flapping backend changed the answer";
}

}  // namespace
}  // namespace understudy::failover

namespace understudy::failover {
namespace {

TEST_F(MonitorTest, DrainFailsOverLikeARealFailureAndClearRestores) {
  std::chrono::system_clock::time_point wall{std::chrono::hours(24 * 365 * 50)};
  monitor->wall_clock = [&] { return wall; };
  monitor->start();
  timers.advance(milliseconds(5));
  monitor->publish();
  ASSERT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.10");
  std::string error;
  EXPECT_FALSE(monitor->setOverride("nope", "192.0.2.10", OverrideKind::kDrain, {}, &error));
  EXPECT_EQ(error, "no pool 'nope'");
  EXPECT_FALSE(monitor->setOverride("app", "192.0.2.99", OverrideKind::kDrain, {}, &error));
  ASSERT_TRUE(monitor->setOverride("app", "192.0.2.10", OverrideKind::kDrain,
                                   std::chrono::seconds(600), &error));
  Answer drained = ask(current(), "app.f.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(drained.rdata, "192.0.2.20");
  EXPECT_EQ(drained.ttl, 20u);
  // Still probed, still measured up: the override sits beside measured health.
  auto endpoints = monitor->endpoints();
  EXPECT_EQ(endpoints[0].state, "up");
  EXPECT_FALSE(endpoints[0].serving);
  ASSERT_TRUE(endpoints[0].override);
  auto records = monitor->records();
  EXPECT_NE(records[0].why.find("192.0.2.10 drain override"), std::string::npos) << records[0].why;
  EXPECT_NE(records[0].why.find("serving priority 2 with failover_ttl 20"), std::string::npos)
      << records[0].why;
  ASSERT_TRUE(monitor->clearOverride("app", "192.0.2.10", &error));
  EXPECT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.10");
  EXPECT_FALSE(monitor->clearOverride("app", "192.0.2.10", &error));
}

TEST_F(MonitorTest, ForceDownIsADrillAndForceUpOverridesMeasuredDown) {
  monitor->start();
  timers.advance(milliseconds(5));
  monitor->publish();
  std::string error;
  ASSERT_TRUE(monitor->setOverride("app", "192.0.2.10", OverrideKind::kForceDown, {}, &error));
  EXPECT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.20");
  ASSERT_TRUE(monitor->clearOverride("app", "192.0.2.10", &error));
  prober.down.insert("127.0.0.11");
  timers.advance(milliseconds(4000));
  EXPECT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.20");
  ASSERT_TRUE(monitor->setOverride("app", "192.0.2.10", OverrideKind::kForceUp, {}, &error));
  EXPECT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.10");
}

TEST_F(MonitorTest, OverridesExpireAndSurviveAReplacementMonitor) {
  std::chrono::system_clock::time_point wall{std::chrono::hours(24 * 365 * 50)};
  auto store = std::make_shared<OverrideStore>();
  auto c = std::make_shared<config::Config>(config::loadString(kConfig, "m.yaml"));
  auto base = zone::compile(c->zones, {});
  auto first = std::make_unique<Monitor>(timers, prober, c, base, holder, 1, store);
  first->wall_clock = [&] { return wall; };
  first->start();
  timers.advance(milliseconds(5));
  first->publish();
  std::string error;
  ASSERT_TRUE(first->setOverride("app", "192.0.2.10", OverrideKind::kDrain,
                                 std::chrono::seconds(30), &error));
  // A reload: a new monitor over the same store keeps the drain.
  auto second = std::make_unique<Monitor>(timers, prober, c, base, holder, 2, store);
  second->wall_clock = [&] { return wall; };
  second->adoptStateFrom(*first);
  first.reset();
  second->start();
  second->publish();
  EXPECT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.20");
  wall += std::chrono::seconds(31);
  timers.advance(milliseconds(1500));  // the expiry tick runs every second
  EXPECT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.10");
  EXPECT_TRUE(store->all().empty());
}

// Issue 12: an override on an endpoint a reload removed is listed as orphaned (not silently
// kept), still expires, and applies again when a later reload brings the endpoint back.
TEST_F(MonitorTest, OverridesOnRemovedEndpointsAreOrphanedAndApplyAgainWhenTheyReturn) {
  std::chrono::system_clock::time_point wall{std::chrono::hours(24 * 365 * 50)};
  auto store = std::make_shared<OverrideStore>();
  auto full = std::make_shared<config::Config>(config::loadString(kConfig, "m.yaml"));
  std::string text = kConfig;
  const std::string removed =
      "      - { address: 192.0.2.10, probe_address: 127.0.0.11, priority: 1 }\n";
  text.erase(text.find(removed), removed.size());
  auto without = std::make_shared<config::Config>(config::loadString(text, "m.yaml"));
  auto monitorFor = [&](std::shared_ptr<config::Config> c, uint64_t seed) {
    auto m = std::make_unique<Monitor>(timers, prober, c, zone::compile(c->zones, {}), holder, seed,
                                       store);
    m->wall_clock = [&] { return wall; };
    return m;
  };
  auto first = monitorFor(full, 1);
  first->start();
  timers.advance(milliseconds(5));
  first->publish();
  std::string error;
  ASSERT_TRUE(first->setOverride("app", "192.0.2.10", OverrideKind::kDrain,
                                 std::chrono::seconds(60), &error));
  EXPECT_TRUE(first->orphanedOverrides().empty());

  auto second = monitorFor(without, 2);
  second->adoptStateFrom(*first);
  first.reset();
  second->start();
  second->publish();
  auto orphans = second->orphanedOverrides();
  ASSERT_EQ(orphans.size(), 1u);
  EXPECT_EQ(orphans[0].pool, "app");
  EXPECT_EQ(orphans[0].address, "192.0.2.10");
  EXPECT_EQ(orphans[0].override.kind, OverrideKind::kDrain);
  // A new override on an endpoint that is not there is still refused.
  EXPECT_FALSE(
      second->setOverride("app", "192.0.2.10", OverrideKind::kForceUp, std::nullopt, &error));

  // Back in the configuration while unexpired: the drain applies again.
  auto third = monitorFor(full, 3);
  third->adoptStateFrom(*second);
  second.reset();
  third->start();
  timers.advance(milliseconds(5));
  third->publish();
  EXPECT_TRUE(third->orphanedOverrides().empty());
  EXPECT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.20");

  // Orphaned again, it expires on its own.
  auto fourth = monitorFor(without, 4);
  fourth->adoptStateFrom(*third);
  third.reset();
  fourth->start();
  fourth->publish();
  ASSERT_EQ(fourth->orphanedOverrides().size(), 1u);
  wall += std::chrono::seconds(61);
  timers.advance(milliseconds(1500));
  EXPECT_TRUE(fourth->orphanedOverrides().empty());
  EXPECT_TRUE(store->all().empty());
}

// Counts what a sink receives.
struct RecordingSink : EventSink {
  void onHealth(const HealthEvent& e) override { health.push_back(e); }
  void onAnswer(const AnswerEvent& e) override { answers.push_back(e); }
  void onReloadFailed(const ReloadFailedEvent&) override {}
  std::vector<HealthEvent> health;
  std::vector<AnswerEvent> answers;
};

TEST_F(MonitorTest, EventsForTransitionsAndAnswerChanges) {
  RecordingSink sink;
  monitor->events = &sink;
  monitor->start();
  timers.advance(milliseconds(5));
  monitor->publish();
  ASSERT_EQ(sink.health.size(), 2u);  // two initial measurements
  EXPECT_TRUE(sink.health[0].initial);
  prober.down.insert("127.0.0.11");
  timers.advance(milliseconds(4000));
  ASSERT_EQ(sink.health.size(), 3u);
  EXPECT_EQ(sink.health[2].from, "up");
  EXPECT_EQ(sink.health[2].to, "down");
  EXPECT_EQ(sink.health[2].reason, "HTTP 503 x2");
  EXPECT_EQ(sink.health[2].endpoints,
            (std::vector<std::string>{"app/192.0.2.10", "app/2001:db8::10"}));
  ASSERT_EQ(sink.answers.size(), 2u);  // the A and the AAAA record both changed
  EXPECT_TRUE(sink.answers[0].failed_over);
  EXPECT_EQ(monitor->poolStats().at("app").transitions, 2u);
}

// A probe that cannot start here (the host is out of descriptors) is not a verdict on the
// backend: a primary whose probes fail to start for 30 s (fifteen fall thresholds) stays up and
// served, no health event fires, and the log says so once per 10 s, not once per probe.
TEST_F(MonitorTest, ProbesThatCannotStartNeverMarkAnEndpointDown) {
  RecordingSink sink;
  monitor->events = &sink;
  monitor->start();
  timers.advance(milliseconds(5));
  monitor->publish();
  ASSERT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.10");
  const size_t initial_events = sink.health.size();
  uint64_t generation = holder.generation();

  std::ostringstream log;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  spdlog::set_default_logger(logger);
  prober.not_run.insert("127.0.0.11");
  timers.advance(milliseconds(30000));
  spdlog::set_default_logger(previous);

  EXPECT_GE(prober.probes["127.0.0.11"], 15);
  EXPECT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.10");
  EXPECT_EQ(holder.generation(), generation) << "the answer changed";
  EXPECT_EQ(sink.health.size(), initial_events) << "a health event fired";
  EXPECT_EQ(monitor->endpoints()[0].state, "up");
  EXPECT_EQ(monitor->endpoints()[0].last_outcome, "ok") << "the last measurement stays";
  const health::Tracker& tracker = monitor->tracker(monitor->endpoints()[0].target);
  EXPECT_EQ(tracker.consecutiveFailures(), 0u);
  EXPECT_EQ(tracker.outcomeCount(health::OutcomeKind::kNotRun),
            static_cast<uint64_t>(prober.probes["127.0.0.11"] - 1));
  EXPECT_EQ(monitor->probesNotRun(), tracker.outcomeCount(health::OutcomeKind::kNotRun));

  std::string text = log.str();
  size_t lines = 0;
  for (size_t at = text.find("probe not run: socket(): too many open files for web 127.0.0.11");
       at != std::string::npos; at = text.find("probe not run:", at + 1)) {
    ++lines;
  }
  EXPECT_GE(lines, 3u) << text;
  EXPECT_LE(lines, 4u) << text;
  EXPECT_NE(text.find("health state unchanged"), std::string::npos) << text;
  EXPECT_NE(text.find("more probe(s) not run since the last such line"), std::string::npos) << text;

  // Descriptors back: the next failures are real ones and count as usual.
  prober.not_run.clear();
  prober.down.insert("127.0.0.11");
  timers.advance(milliseconds(4000));
  EXPECT_EQ(ask(current(), "app.f.test.", LDNS_RR_TYPE_A).rdata, "192.0.2.20");
}

}  // namespace
}  // namespace understudy::failover

// Issue 12: the control endpoint reads status copies the monitor hands out; it never calls into
// the monitor. These tests pin when copies go out and what one copy holds.
namespace understudy::failover {
namespace {

struct StatusCopies : MonitorTest {
  StatusCopies() {
    monitor->on_status = [this](std::shared_ptr<const StatusSnapshot> s) {
      copies.push_back(std::move(s));
    };
    // Status times follow the manual clock, so a copy says when it was taken.
    monitor->wall_clock = [this] {
      return std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              timers.now().time_since_epoch()));
    };
  }
  std::vector<std::shared_ptr<const StatusSnapshot>> copies;
};

TEST_F(StatusCopies, ChangesGoOutAtOnceAndTogetherCountersAtMostEveryInterval) {
  monitor->start();
  timers.advance(milliseconds(5));
  // Both targets' first results arrived in the same millisecond: one copy for both.
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0]->upCount(), 2u);
  monitor->publish();  // the first answers: a copy with their decisions
  timers.advance(milliseconds(1));
  ASSERT_EQ(copies.size(), 2u);
  ASSERT_EQ(copies[1]->decisions.size(), 2u);
  EXPECT_EQ(copies[1]->decisions[0].addresses, std::vector<std::string>{"192.0.2.10"});

  // Probes that change nothing: their counters go out with the next tick, not one copy each.
  uint64_t probes = copies[1]->targets[0].tracker.probes();
  copies.clear();
  timers.advance(milliseconds(3000));
  EXPECT_GE(prober.probes["127.0.0.11"], 3);
  EXPECT_LE(copies.size(), 6u) << "at most one copy per 500 ms";
  ASSERT_GE(copies.size(), 2u);
  EXPECT_GT(copies.back()->targets[0].tracker.probes(), probes);

  // A failover goes out at once, in the turn of the result that decided it, not at the next
  // tick; the copy before it is unchanged.
  auto before = copies.back();
  copies.clear();
  prober.down.insert("127.0.0.11");
  timers.advance(milliseconds(4000));
  auto down =
      std::find_if(copies.begin(), copies.end(), [](const auto& c) { return c->upCount() == 1u; });
  ASSERT_NE(down, copies.end());
  ASSERT_TRUE((*down)->targets[0].since);
  EXPECT_EQ((*down)->taken, *(*down)->targets[0].since) << "sent when the target went down";
  EXPECT_EQ(before->upCount(), 2u) << "a published copy never changes";
  EXPECT_EQ(before->record(0).answer, "192.0.2.10 (primary, ttl 300)");
  auto after = copies.back();
  EXPECT_EQ(after->record(0).answer, "192.0.2.20 (failed over to priority 2, ttl 20)");
  EXPECT_NE(after->record(0).why.find("primary tier (priority 1) down"), std::string::npos)
      << after->record(0).why;
}

TEST_F(StatusCopies, AnOverrideIsInTheNextCopyAndTheAnswerToTheWrite) {
  monitor->start();
  timers.advance(milliseconds(5));
  monitor->publish();
  timers.advance(milliseconds(1));
  copies.clear();
  OverrideChangeResult r =
      monitor->change({"app", "192.0.2.10", OverrideKind::kDrain, std::chrono::seconds(600)});
  EXPECT_EQ(r.result, OverrideChangeResult::Result::kDone);
  ASSERT_TRUE(r.serving);
  EXPECT_FALSE(*r.serving);
  ASSERT_TRUE(r.override);
  EXPECT_EQ(r.override->kind, OverrideKind::kDrain);
  // Read your writes: the copy with the change is out before change() returns (the answer to
  // the write), so a status read after the answer shows it. No second copy follows.
  ASSERT_EQ(copies.size(), 1u) << "the change went out before the write was answered";
  timers.advance(milliseconds(1));
  ASSERT_EQ(copies.size(), 1u) << "one copy for the change";
  EXPECT_FALSE(copies[0]->endpoint(0, 0).serving);
  ASSERT_TRUE(copies[0]->endpoint(0, 0).override);

  r = monitor->change({"app", "192.0.2.10", std::nullopt, std::nullopt});
  EXPECT_EQ(r.result, OverrideChangeResult::Result::kDone);
  EXPECT_TRUE(*r.serving);
  EXPECT_FALSE(r.override);
  r = monitor->change({"app", "192.0.2.10", std::nullopt, std::nullopt});
  EXPECT_EQ(r.result, OverrideChangeResult::Result::kNothingToClear);
  EXPECT_EQ(r.message, "no override on app/192.0.2.10");
  r = monitor->change({"nope", "192.0.2.10", OverrideKind::kDrain, std::nullopt});
  EXPECT_EQ(r.result, OverrideChangeResult::Result::kNotFound);
  EXPECT_EQ(r.message, "no pool 'nope'");
  r = monitor->change({"app", "192.0.2.99", OverrideKind::kDrain, std::nullopt});
  EXPECT_EQ(r.result, OverrideChangeResult::Result::kNotFound);
  EXPECT_EQ(r.message, "pool 'app' has no endpoint 192.0.2.99");
}

TEST_F(StatusCopies, ARecordIsFoundByNameInAnyCaseAndExplainedFromItsOwnPool) {
  monitor->start();
  timers.advance(milliseconds(5));
  monitor->publish();
  auto status = monitor->status();
  auto wire = [](const char* text) {
    return dns::lowered(*dns::nameFromText(text, std::string(1, '\0'), nullptr));
  };
  EXPECT_EQ(status->findRecord(wire("APP.F.test."), 1), std::optional<size_t>(0));
  EXPECT_EQ(status->findRecord(wire("app.f.test."), 28), std::optional<size_t>(1));
  EXPECT_EQ(status->findRecord(wire("app.f.test."), 16), std::nullopt);
  EXPECT_EQ(status->findRecord(wire("static.f.test."), 1), std::nullopt) << "not pooled";
  RecordStatus r = status->record(1);
  EXPECT_EQ(r.name, "app.f.test.");
  EXPECT_EQ(r.type, "AAAA");
  EXPECT_EQ(r.why, "primary tier healthy; serving it with ttl 300");
  EXPECT_EQ(status->records().size(), 2u);
  EXPECT_TRUE(status->records(false)[0].why.empty()) << "/metrics asks for no explanations";
  EXPECT_EQ(status->endpoints().size(), 4u);
  EXPECT_EQ(status->endpoint(0, 3).state, "unchecked");
}

}  // namespace
}  // namespace understudy::failover

// Issue 13: a transition renders only the records that use the endpoint that changed, and every
// publish says what it changed; `serial: auto` moves only for the zone whose content changed.
namespace understudy::failover {
namespace {

constexpr const char* kTwoZones = R"(
checks:
  web: { type: http, port: 8080, interval: 1s, timeout: 500ms, rise: 1, fall: 1 }
pools:
  a:
    check: web
    endpoints:
      - { address: 192.0.2.10, probe_address: 127.0.0.11, priority: 1 }
      - { address: 192.0.2.20, probe_address: 127.0.0.12, priority: 2 }
  b:
    check: web
    endpoints:
      - { address: 198.51.100.10, probe_address: 127.0.0.13, priority: 1 }
      - { address: 198.51.100.20, probe_address: 127.0.0.14, priority: 2 }
zones:
  - name: a.test
    soa: { serial: auto }
    records:
      - { name: x, type: A, pool: a }
      - { name: y, type: A, pool: a }
  - name: b.test
    soa: { serial: auto }
    records:
      - { name: z, type: A, pool: b }
)";

uint32_t servedSerial(const zone::Snapshot& s, size_t zone) {
  std::string_view rdata = s.soa(*s.zones()[zone])->rdatas.front();
  size_t at = rdata.size() - 20;
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(rdata[at + i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

struct ChangeSets : ::testing::Test {
  ChangeSets() {
    auto c = std::make_shared<config::Config>(config::loadString(kTwoZones, "c.yaml"));
    auto base = zone::compile(c->zones, {});
    monitor = std::make_unique<Monitor>(timers, prober, c, base, holder, 7);
    monitor->on_change_set = [this](const ChangeSet& cs) { sets.push_back(cs); };
    monitor->start();
    timers.advance(milliseconds(5));
    monitor->publish();
  }
  ManualTimers timers;
  ScriptedProber prober{timers};
  zone::SnapshotHolder holder;
  std::unique_ptr<Monitor> monitor;
  std::vector<ChangeSet> sets;
};

TEST_F(ChangeSets, TheFirstPublishIsFullAndNamesEveryZone) {
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_TRUE(sets[0].full);
  ASSERT_EQ(sets[0].zones.size(), 2u);
  EXPECT_EQ(sets[0].zones[0].rrsets.size(), 2u);
  EXPECT_EQ(sets[0].zones[1].rrsets.size(), 1u);
  EXPECT_GT(sets[0].zones[0].new_serial, 1600000000u);
  EXPECT_EQ(monitor->controller().renderedRecords(), 3u);
}

TEST_F(ChangeSets, AFailoverRendersOnlyItsPoolsRecordsAndMovesOnlyItsZonesSerial) {
  auto before = holder.current();
  const uint32_t a_serial = servedSerial(*before, 0);
  const uint32_t b_serial = servedSerial(*before, 1);
  const uint64_t rendered = monitor->controller().renderedRecords();
  sets.clear();

  prober.down.insert("127.0.0.11");  // pool a's primary
  timers.advance(milliseconds(2500));
  ASSERT_EQ(sets.size(), 1u) << "one publish for the one change";
  const ChangeSet& cs = sets[0];
  EXPECT_FALSE(cs.full);
  ASSERT_EQ(cs.zones.size(), 1u);
  EXPECT_EQ(cs.zones[0].origin, std::string("\x01"
                                            "a\x04test\x00",
                                            8));
  EXPECT_EQ(cs.zones[0].old_serial, a_serial);
  EXPECT_GT(cs.zones[0].new_serial, a_serial);
  ASSERT_EQ(cs.zones[0].rrsets.size(), 2u);  // x and y
  EXPECT_EQ(cs.zones[0].rrsets[0].removed.rrset.rdatas.size(), 1u);
  EXPECT_EQ(cs.zones[0].rrsets[0].added.rrset.rdatas.front(), std::string("\xc0\x00\x02\x14", 4));
  EXPECT_EQ(monitor->controller().renderedRecords() - rendered, 2u)
      << "z (pool b) was rendered again";

  auto after = holder.current();
  EXPECT_EQ(servedSerial(*after, 0), cs.zones[0].new_serial);
  EXPECT_EQ(servedSerial(*after, 1), b_serial) << "b.test did not change";
}

TEST_F(ChangeSets, AStandbyGoingDownChangesNothingServedAndPublishesNothing) {
  const uint64_t generation = holder.generation();
  const uint64_t rendered = monitor->controller().renderedRecords();
  sets.clear();
  prober.down.insert("127.0.0.14");  // pool b's standby: z still answers its primary
  timers.advance(milliseconds(2500));
  EXPECT_TRUE(sets.empty());
  EXPECT_EQ(holder.generation(), generation);
  EXPECT_EQ(monitor->controller().renderedRecords() - rendered, 1u) << "only z is rendered";
  EXPECT_EQ(monitor->upCount(), 3u);
}

}  // namespace
}  // namespace understudy::failover
