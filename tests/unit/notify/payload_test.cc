// The webhook bodies, without HTTP: the generic shape and PagerDuty Events v2 (which event
// triggers, which resolves, under which dedup_key, with which severity).
#include "payload.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "webhook.h"

namespace understudy::notify {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

// 2024-05-01T12:01:07.123Z
const auto kTime = std::chrono::system_clock::time_point(1714564867123ms);

failover::HealthEvent healthEvent(std::string from, std::string to, bool initial = false) {
  failover::HealthEvent event;
  event.time = kTime;
  event.target = "web 127.0.0.1:8080";
  event.check = "web";
  event.address = "127.0.0.1";
  event.endpoints = {"app/192.0.2.10"};
  event.from = std::move(from);
  event.to = std::move(to);
  event.reason = event.to == "down" ? "HTTP 503 x3" : "HTTP 200 x2";
  event.initial = initial;
  return event;
}

failover::AnswerEvent answerEvent(bool failed_over, bool all_down) {
  failover::AnswerEvent event;
  event.time = kTime;
  event.record = "app.svc.example.com. A";
  event.pool = "app";
  event.from = "192.0.2.10 (primary, ttl 300)";
  event.to = "198.51.100.10 (failed over to priority 2, ttl 30)";
  event.failed_over = failed_over;
  event.all_down = all_down;
  return event;
}

failover::ReloadFailedEvent reloadEvent() {
  failover::ReloadFailedEvent event;
  event.time = kTime;
  event.source = "/etc/understudy/understudy.yaml";
  event.errors = {"understudy.yaml:3:5: pools.app.endpoints: empty", "understudy.yaml:9:1: x: y"};
  return event;
}

TEST(Rfc3339, UtcWithMilliseconds) {
  EXPECT_EQ(rfc3339(kTime), "2024-05-01T12:01:07.123Z");
  EXPECT_EQ(rfc3339(std::chrono::system_clock::time_point(5ms)), "1970-01-01T00:00:00.005Z");
  EXPECT_EQ(rfc3339(std::chrono::system_clock::time_point(-1ms)), "1969-12-31T23:59:59.999Z");
}

TEST(GenericBody, Health) {
  Json body = genericBody(healthEvent("up", "down"), "ns1");
  const Json expected = Json::parse(R"json({
    "event": "health", "time": "2024-05-01T12:01:07.123Z", "instance": "ns1",
    "target": "web 127.0.0.1:8080", "check": "web", "address": "127.0.0.1",
    "endpoints": ["app/192.0.2.10"], "from": "up", "to": "down", "reason": "HTTP 503 x3",
    "initial": false})json");
  EXPECT_EQ(body, expected);
}

TEST(GenericBody, Answer) {
  Json body = genericBody(answerEvent(true, false), "ns1");
  const Json expected = Json::parse(R"json({
    "event": "answer", "time": "2024-05-01T12:01:07.123Z", "instance": "ns1",
    "record": "app.svc.example.com. A", "pool": "app", "from": "192.0.2.10 (primary, ttl 300)",
    "to": "198.51.100.10 (failed over to priority 2, ttl 30)", "failed_over": true,
    "all_down": false})json");
  EXPECT_EQ(body, expected);
}

TEST(GenericBody, ReloadFailed) {
  Json body = genericBody(reloadEvent(), "ns1");
  EXPECT_EQ(body["event"], "reload_failed");
  EXPECT_EQ(body["source"], "/etc/understudy/understudy.yaml");
  EXPECT_EQ(body["errors"].size(), 2u);
  EXPECT_EQ(body["time"], "2024-05-01T12:01:07.123Z");
}

TEST(GenericBody, MissingTimeBecomesNow) {
  failover::HealthEvent event = healthEvent("up", "down");
  event.time = {};
  std::string time = genericBody(event, "ns1")["time"];
  EXPECT_NE(time.substr(0, 4), "1970");
}

TEST(PagerDutyBody, HealthDownTriggersAndUpResolvesTheSameIncident) {
  auto down = pagerDutyBody(healthEvent("up", "down"), "ns1", "KEY");
  ASSERT_TRUE(down);
  const Json expected = Json::parse(R"json({
    "routing_key": "KEY", "event_action": "trigger",
    "dedup_key": "understudy/ns1/web 127.0.0.1:8080",
    "payload": {
      "summary": "web 127.0.0.1:8080 down: HTTP 503 x3 (pools app/192.0.2.10)",
      "source": "ns1", "severity": "warning", "timestamp": "2024-05-01T12:01:07.123Z",
      "component": "web 127.0.0.1:8080", "group": "app", "class": "health",
      "custom_details": {
        "event": "health", "time": "2024-05-01T12:01:07.123Z", "instance": "ns1",
        "target": "web 127.0.0.1:8080", "check": "web", "address": "127.0.0.1",
        "endpoints": ["app/192.0.2.10"], "from": "up", "to": "down", "reason": "HTTP 503 x3",
        "initial": false}}})json");
  EXPECT_EQ(*down, expected);

  auto up = pagerDutyBody(healthEvent("down", "up"), "ns1", "KEY");
  ASSERT_TRUE(up);
  EXPECT_EQ((*up)["event_action"], "resolve");
  EXPECT_EQ((*up)["dedup_key"], (*down)["dedup_key"]);
}

TEST(PagerDutyBody, InitialMeasurementsPageOnlyWhenDown) {
  EXPECT_FALSE(pagerDutyBody(healthEvent("unknown", "up", true), "ns1", "KEY"));
  auto down = pagerDutyBody(healthEvent("unknown", "down", true), "ns1", "KEY");
  ASSERT_TRUE(down);
  EXPECT_EQ((*down)["event_action"], "trigger");
  EXPECT_EQ((*down)["payload"]["summary"],
            "web 127.0.0.1:8080 down at start: HTTP 503 x3 (pools app/192.0.2.10)");
  EXPECT_FALSE(pagerDutyBody(healthEvent("up", "unknown"), "ns1", "KEY"));
}

TEST(PagerDutyBody, GroupListsEveryPoolOnce) {
  failover::HealthEvent event = healthEvent("up", "down");
  event.endpoints = {"web/192.0.2.10", "app/192.0.2.10", "web/192.0.2.11"};
  auto body = pagerDutyBody(event, "ns1", "KEY");
  ASSERT_TRUE(body);
  EXPECT_EQ((*body)["payload"]["group"], "app,web");
}

struct AnswerCase {
  bool failed_over;
  bool all_down;
  const char* action;
  const char* severity;
  const char* summary_start;
};

TEST(PagerDutyBody, AnswerEvents) {
  const AnswerCase cases[] = {
      {true, false, "trigger", "warning", "app.svc.example.com. A failed over in pool app: "},
      {true, true, "trigger", "critical", "app.svc.example.com. A all endpoints down in pool app"},
      {false, true, "trigger", "critical", "app.svc.example.com. A all endpoints down"},
      {false, false, "resolve", "warning", "app.svc.example.com. A back to primary in pool app"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.summary_start);
    auto body = pagerDutyBody(answerEvent(c.failed_over, c.all_down), "ns1", "KEY");
    ASSERT_TRUE(body);
    EXPECT_EQ((*body)["event_action"], c.action);
    EXPECT_EQ((*body)["dedup_key"], "understudy/ns1/app.svc.example.com. A");
    EXPECT_EQ((*body)["payload"]["severity"], c.severity);
    EXPECT_EQ((*body)["payload"]["class"], "answer");
    EXPECT_EQ((*body)["payload"]["component"], "app.svc.example.com. A");
    EXPECT_EQ((*body)["payload"]["group"], "app");
    std::string summary = (*body)["payload"]["summary"];
    EXPECT_EQ(summary.rfind(c.summary_start, 0), 0u) << summary;
    EXPECT_EQ((*body)["payload"]["custom_details"]["failed_over"], c.failed_over);
  }
}

TEST(PagerDutyBody, ReloadFailedTriggersWithErrorSeverity) {
  auto body = pagerDutyBody(reloadEvent(), "ns1", "KEY");
  ASSERT_TRUE(body);
  EXPECT_EQ((*body)["event_action"], "trigger");
  EXPECT_EQ((*body)["dedup_key"], "understudy/ns1/reload");
  EXPECT_EQ((*body)["payload"]["severity"], "error");
  EXPECT_EQ((*body)["payload"]["class"], "reload");
  EXPECT_FALSE((*body)["payload"].contains("group"));
  EXPECT_EQ((*body)["payload"]["summary"],
            "config reload failed (/etc/understudy/understudy.yaml): understudy.yaml:3:5: "
            "pools.app.endpoints: empty (+1 more)");
}

TEST(PagerDutyBody, SummaryIsCappedAt1024Bytes) {
  failover::HealthEvent event = healthEvent("up", "down");
  event.reason = std::string(2000, 'x');
  auto body = pagerDutyBody(event, "ns1", "KEY");
  ASSERT_TRUE(body);
  EXPECT_EQ((*body)["payload"]["summary"].get<std::string>().size(), 1024u);
}

TEST(RedactUrl, DropsCredentialsQueryAndFragment) {
  EXPECT_EQ(redactUrl("https://user:s3cret@hooks.example.com:8443/v1/x?token=abc#frag"),
            "https://hooks.example.com:8443/v1/x");
  EXPECT_EQ(redactUrl("https://events.pagerduty.com/v2/enqueue"),
            "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(redactUrl("http://[::1]:9000/hook?k=v"), "http://[::1]:9000/hook");
  EXPECT_EQ(redactUrl("not a url at all"), "");
}

}  // namespace
}  // namespace understudy::notify
