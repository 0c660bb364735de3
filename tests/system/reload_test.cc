// SIGHUP reloads against the real daemon: new data applies, broken config changes nothing, no
// query is lost while reloading under load, health state survives, serial: auto moves.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

#include "backend.h"
#include "harness.h"

namespace understudy::systest {
namespace {

std::string zoneConfig(const std::string& www, const std::string& extra = "") {
  return R"(
server: { listen: ["127.0.0.1:0"], threads: 2 }
zones:
  - name: r.test
    soa: { serial: auto }
    records:
      - { name: www, type: A, ttl: 60, value: )" +
         www + " }\n" + extra;
}

// Replaces the config file atomically, as editors and config management tools do.
void rewrite(const Understudy& d, const std::string& text) {
  std::string tmp = d.configPath() + ".new";
  writeFile(tmp, text);
  ASSERT_EQ(std::rename(tmp.c_str(), d.configPath().c_str()), 0);
}

std::string answerOf(uint16_t port, const std::string& name, uint16_t type = 1) {
  QuerySpec q;
  q.name = name;
  q.type = type;
  auto wire = udpExchange("127.0.0.1", port, buildQuery(q));
  if (!wire) return "<no answer>";
  auto m = parseWire(*wire);
  if (!m) return "<unparsable>";
  if (m->rcode != "NOERROR") return m->rcode;
  std::string out;
  for (const auto& rr : m->answer) out += (out.empty() ? "" : " ") + rr.rdata;
  return out;
}

uint32_t serialOf(uint16_t port) {
  std::string soa = answerOf(port, "r.test.", 6);
  unsigned long serial = 0;
  char mname[256], rname[256];
  if (std::sscanf(soa.c_str(), "%255s %255s %lu", mname, rname, &serial) != 3) return 0;
  return static_cast<uint32_t>(serial);
}

// Counts log lines containing `needle`.
size_t countLines(const std::string& log, const std::string& needle) {
  size_t n = 0;
  for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
  return n;
}

TEST(Reload, NewValueAppliesBrokenConfigKeepsTheOldFixedConfigApplies) {
  TempDir dir;
  Understudy d(dir, zoneConfig("192.0.2.1"));
  uint16_t port = d.port();
  ASSERT_EQ(answerOf(port, "www.r.test."), "192.0.2.1");

  rewrite(d, zoneConfig("192.0.2.2"));
  d.process().signal(SIGHUP);
  ASSERT_TRUE(pollUntil([&] { return answerOf(port, "www.r.test.") == "192.0.2.2"; }, 5s))
      << d.process().log();

  rewrite(d, zoneConfig("192.0.2.300"));  // a broken value
  d.process().signal(SIGHUP);
  ASSERT_TRUE(d.process().waitForLogLine("reload failed (1 error(s))", 5s)) << d.process().log();
  EXPECT_NE(d.process().log().find("not a valid IPv4 address '192.0.2.300'"), std::string::npos);
  EXPECT_NE(d.process().log().find(d.configPath() + ":7:"), std::string::npos)
      << "the error names file:line";
  EXPECT_EQ(answerOf(port, "www.r.test."), "192.0.2.2");

  rewrite(d, "zones: [ this is not yaml");  // broken YAML
  d.process().signal(SIGHUP);
  ASSERT_TRUE(pollUntil([&] { return countLines(d.process().log(), "reload failed (") >= 2; }, 5s));
  EXPECT_EQ(answerOf(port, "www.r.test."), "192.0.2.2");

  rewrite(d, zoneConfig("192.0.2.3"));
  d.process().signal(SIGHUP);
  ASSERT_TRUE(pollUntil([&] { return answerOf(port, "www.r.test.") == "192.0.2.3"; }, 5s))
      << d.process().log();
  EXPECT_EQ(d.process().stop(), 0);
}

TEST(Reload, TwentyReloadsUnderSteadyQueriesLoseNothing) {
  TempDir dir;
  Understudy d(dir, zoneConfig("192.0.2.1"));
  uint16_t port = d.port();
  QuerySpec q;
  q.name = "www.r.test.";
  Bytes query = buildQuery(q);

  constexpr int kQueries = 20000;
  std::atomic<int> answered{0}, unexpected{0}, lost{0};
  std::atomic<bool> done{false};
  std::thread client([&] {
    for (int i = 0; i < kQueries; ++i) {
      auto wire = udpExchange("127.0.0.1", port, query, 2s);
      if (!wire) {
        ++lost;
        continue;
      }
      auto m = parseWire(*wire);
      if (!m || m->rcode != "NOERROR" || m->answer.size() != 1 ||
          (m->answer[0].rdata != "192.0.2.1" && m->answer[0].rdata != "192.0.2.2")) {
        ++unexpected;
      } else {
        ++answered;
      }
    }
    done = true;
  });
  // The configs alternate, so each reload changes the answer: every one must be seen to apply
  // (its "reload done" logged and the new address served) before the next is sent.
  auto served = [&]() -> std::string {
    auto wire = udpExchange("127.0.0.1", port, query, 2s);
    auto m = wire ? parseWire(*wire) : std::nullopt;
    return m && m->answer.size() == 1 ? m->answer[0].rdata : "";
  };
  std::string last;
  for (int i = 0; i < 20; ++i) {
    last = i % 2 ? "192.0.2.1" : "192.0.2.2";
    rewrite(d, zoneConfig(last));
    d.process().signal(SIGHUP);
    EXPECT_TRUE(pollUntil(
        [&] { return countLines(d.process().log(), "reload done") >= size_t(i) + 1; }, 10s))
        << "reload " << i + 1 << " did not finish\n"
        << d.process().log();
    EXPECT_TRUE(pollUntil([&] { return served() == last; }, 5s))
        << "reload " << i + 1 << " did not bring " << last;
    // Spread the reloads over the run: wait for roughly 1/25 of the queries.
    pollUntil([&] { return answered + unexpected + lost >= (i + 1) * kQueries / 25; }, 10s);
  }
  client.join();
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(unexpected, 0);
  EXPECT_EQ(answered, kQueries);
  EXPECT_EQ(countLines(d.process().log(), "reload done"), 20u) << d.process().log();
  EXPECT_EQ(countLines(d.process().log(), "reload failed"), 0u) << d.process().log();
  EXPECT_EQ(served(), last);  // the final answer is the last config's
  EXPECT_EQ(d.process().stop(), 0);
}

TEST(Reload, FailedOverPoolStaysFailedOverAcrossAnUnrelatedReload) {
  TempDir dir;
  auto backends = tcpBackendsOnOnePort({"127.0.0.21", "127.0.0.22"});
  backends[0]->stop();  // the primary is down from the start
  std::string pool = R"(
checks:
  t: { type: tcp, port: )" +
                     std::to_string(backends[0]->port()) +
                     R"(, interval: 200ms, timeout: 100ms, rise: 2, fall: 2 }
pools:
  app:
    check: t
    endpoints:
      - { address: 192.0.2.10, probe_address: 127.0.0.21, priority: 1 }
      - { address: 192.0.2.20, probe_address: 127.0.0.22, priority: 2 }
)";
  auto config = [&](const std::string& www) {
    return pool + zoneConfig(www,
                             "      - { name: app, type: A, pool: app, ttl: 300, "
                             "failover_ttl: 20 }\n");
  };
  Understudy d(dir, config("192.0.2.1"));
  uint16_t port = d.port();
  ASSERT_EQ(answerOf(port, "app.r.test."), "192.0.2.20");

  rewrite(d, config("192.0.2.2"));
  d.process().signal(SIGHUP);
  // From the moment the reload is applied, never the (down) primary.
  bool saw_primary = false;
  bool applied = pollUntil(
      [&] {
        if (answerOf(port, "app.r.test.") != "192.0.2.20") saw_primary = true;
        return answerOf(port, "www.r.test.") == "192.0.2.2";
      },
      5s, 1ms);
  ASSERT_TRUE(applied) << d.process().log();
  for (int i = 0; i < 200; ++i) {
    if (answerOf(port, "app.r.test.") != "192.0.2.20") saw_primary = true;
  }
  EXPECT_FALSE(saw_primary) << d.process().log();
  EXPECT_EQ(countLines(d.process().log(), "-> up"), 0u) << d.process().log();
}

TEST(Reload, RemovedCheckStopsProbingAtOnce) {
  TempDir dir;
  auto backends = tcpBackendsOnOnePort({"127.0.0.23"});
  std::string with_pool = R"(
checks:
  t: { type: tcp, port: )" +
                          std::to_string(backends[0]->port()) +
                          R"(, interval: 100ms, timeout: 50ms }
pools:
  app: { check: t, endpoints: [ { address: 192.0.2.10, probe_address: 127.0.0.23 } ] }
)" + zoneConfig("192.0.2.1", "      - { name: app, type: A, pool: app }\n");
  Understudy d(dir, with_pool);
  ASSERT_TRUE(pollUntil([&] { return backends[0]->accepted() >= 3; }, 5s));
  rewrite(d, zoneConfig("192.0.2.1"));
  d.process().signal(SIGHUP);
  ASSERT_TRUE(d.process().waitForLogLine("reload done", 5s));
  size_t after_reload = backends[0]->accepted();
  // Ten intervals later at most the one probe that was already in flight has arrived.
  uint16_t port = d.port();
  auto until = Clock::now() + 1s;
  while (Clock::now() < until) answerOf(port, "www.r.test.");
  EXPECT_LE(backends[0]->accepted(), after_reload + 1);
}

TEST(Reload, AutoSerialRisesWithEveryPublishedChange) {
  TempDir dir;
  auto backends = tcpBackendsOnOnePort({"127.0.0.24"});
  std::string config = R"(
checks:
  t: { type: tcp, port: )" +
                       std::to_string(backends[0]->port()) +
                       R"(, interval: 100ms, timeout: 50ms, rise: 1, fall: 1 }
pools:
  app: { check: t, endpoints: [ { address: 192.0.2.10, probe_address: 127.0.0.24 } ],
         }
)" + zoneConfig("192.0.2.1", "      - { name: app, type: A, pool: app, when_all_down: nodata }\n");
  Understudy d(dir, config);
  uint16_t port = d.port();
  uint32_t first = serialOf(port);
  ASSERT_GT(first, 1600000000u) << "serial: auto starts from the Unix time";

  d.process().signal(SIGHUP);  // a reload is a published change
  ASSERT_TRUE(pollUntil([&] { return serialOf(port) > first; }, 5s)) << d.process().log();
  uint32_t second = serialOf(port);

  backends[0]->stop();  // so is a health swap
  ASSERT_TRUE(pollUntil([&] { return answerOf(port, "app.r.test.").empty(); }, 5s))
      << d.process().log();
  EXPECT_GT(serialOf(port), second);
  // Negative answers carry the same, current SOA.
  QuerySpec q;
  q.name = "nope.r.test.";
  auto m = parseWire(*udpExchange("127.0.0.1", port, buildQuery(q)));
  ASSERT_TRUE(m);
  ASSERT_EQ(m->authority.size(), 1u);
  EXPECT_NE(m->authority[0].rdata.find(" " + std::to_string(serialOf(port)) + " "),
            std::string::npos)
      << m->authority[0].rdata;
  EXPECT_EQ(m->authority[0].ttl, 300u);  // the zone's negative TTL
  // The pooled name's NODATA (when_all_down: nodata) is cached no longer than its failover TTL.
  q.name = "app.r.test.";
  auto nodata = parseWire(*udpExchange("127.0.0.1", port, buildQuery(q)));
  ASSERT_TRUE(nodata);
  EXPECT_EQ(nodata->rcode, "NOERROR");
  EXPECT_TRUE(nodata->answer.empty());
  ASSERT_EQ(nodata->authority.size(), 1u);
  EXPECT_EQ(nodata->authority[0].ttl, 30u);
}

TEST(Reload, NewChecksStartAsAtStartUp) {
  TempDir dir;
  auto backends = tcpBackendsOnOnePort({"127.0.0.25", "127.0.0.26"});
  backends[0]->stop();  // the new pool's primary is down
  Understudy d(dir, zoneConfig("192.0.2.1"));
  uint16_t port = d.port();
  rewrite(d, R"(
checks:
  t: { type: tcp, port: )" +
                 std::to_string(backends[0]->port()) +
                 R"(, interval: 300ms, timeout: 200ms, rise: 2, fall: 2 }
pools:
  app:
    check: t
    endpoints:
      - { address: 192.0.2.10, probe_address: 127.0.0.25, priority: 1 }
      - { address: 192.0.2.20, probe_address: 127.0.0.26, priority: 2 }
)" + zoneConfig("192.0.2.1", "      - { name: app, type: A, pool: app }\n"));
  d.process().signal(SIGHUP);
  // Until the reload is applied the name does not exist; the first answer it ever gets must
  // already come from measured health: the secondary, never the unmeasured primary.
  std::string first;
  ASSERT_TRUE(pollUntil(
      [&] {
        first = answerOf(port, "app.r.test.");
        return first != "NXDOMAIN";
      },
      5s, 1ms))
      << d.process().log();
  EXPECT_EQ(first, "192.0.2.20") << d.process().log();
  EXPECT_TRUE(d.process().waitForLogLine("waiting for the first probes of 2 new target(s)", 1s));
}

}  // namespace
}  // namespace understudy::systest
