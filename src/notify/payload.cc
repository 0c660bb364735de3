#include "payload.h"

#include <ctime>
#include <set>

#include <fmt/format.h>

namespace understudy::notify {

using Json = nlohmann::json;

namespace {

using SystemClock = std::chrono::system_clock;

// PagerDuty truncates payload.summary at 1024 characters; cut it ourselves, on a UTF-8 boundary,
// so the JSON stays valid text.
constexpr size_t kMaxSummary = 1024;

std::string clip(std::string text) {
  if (text.size() <= kMaxSummary) return text;
  size_t end = kMaxSummary;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

// An event built without a time still gets a sensible one: when it was sent.
SystemClock::time_point timeOf(SystemClock::time_point time) {
  return time.time_since_epoch().count() == 0 ? SystemClock::now() : time;
}

std::string dedupKey(const std::string& instance, const std::string& subject) {
  return "understudy/" + instance + "/" + subject;
}

// "app/192.0.2.10" -> "app": the pools a target serves, for PagerDuty's group and the summary.
std::string poolsOf(const std::vector<std::string>& endpoints) {
  std::set<std::string> pools;
  for (const auto& endpoint : endpoints) pools.insert(endpoint.substr(0, endpoint.find('/')));
  return fmt::format("{}", fmt::join(pools, ","));
}

Json pagerDuty(const std::string& routing_key, bool trigger, const std::string& dedup_key,
               Json payload) {
  Json body = {{"routing_key", routing_key},
               {"event_action", trigger ? "trigger" : "resolve"},
               {"dedup_key", dedup_key}};
  // A resolve only needs the dedup_key; the payload rides along for the incident's log.
  body["payload"] = std::move(payload);
  return body;
}

Json pagerDutyPayload(std::string summary, const std::string& instance, const char* severity,
                      SystemClock::time_point time, const std::string& component,
                      const std::string& group, const char* event_class, Json details) {
  Json payload = {{"summary", clip(std::move(summary))},
                  {"source", instance},
                  {"severity", severity},
                  {"timestamp", rfc3339(timeOf(time))},
                  {"component", component}};
  if (!group.empty()) payload["group"] = group;
  payload["class"] = event_class;
  payload["custom_details"] = std::move(details);
  return payload;
}

}  // namespace

std::string rfc3339(SystemClock::time_point time) {
  auto millis = std::chrono::floor<std::chrono::milliseconds>(time).time_since_epoch().count();
  auto seconds = static_cast<std::time_t>(millis / 1000);
  auto fraction = millis % 1000;
  if (fraction < 0) {  // before 1970: floor, not truncate towards zero
    fraction += 1000;
    --seconds;
  }
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, fraction);
}

Json genericBody(const failover::HealthEvent& event, const std::string& instance) {
  return {{"event", "health"},
          {"time", rfc3339(timeOf(event.time))},
          {"instance", instance},
          {"target", event.target},
          {"check", event.check},
          {"address", event.address},
          {"endpoints", event.endpoints},
          {"from", event.from},
          {"to", event.to},
          {"reason", event.reason},
          {"initial", event.initial}};
}

Json genericBody(const failover::AnswerEvent& event, const std::string& instance) {
  return {{"event", "answer"},
          {"time", rfc3339(timeOf(event.time))},
          {"instance", instance},
          {"record", event.record},
          {"pool", event.pool},
          {"from", event.from},
          {"to", event.to},
          {"failed_over", event.failed_over},
          {"all_down", event.all_down}};
}

Json genericBody(const failover::ReloadFailedEvent& event, const std::string& instance) {
  return {{"event", "reload_failed"},
          {"time", rfc3339(timeOf(event.time))},
          {"instance", instance},
          {"source", event.source},
          {"errors", event.errors}};
}

std::optional<Json> pagerDutyBody(const failover::HealthEvent& event, const std::string& instance,
                                  const std::string& routing_key) {
  const bool down = event.to == "down";
  // Up at start is the normal case, not news; "unknown" says nothing either way.
  if (!down && (event.to != "up" || event.initial)) return std::nullopt;
  std::string summary =
      fmt::format("{} {}{}", event.target, event.to, event.initial ? " at start" : "");
  if (!event.reason.empty()) summary += ": " + event.reason;
  if (!event.endpoints.empty()) {
    summary += fmt::format(" (pools {})", fmt::join(event.endpoints, ", "));
  }
  Json details = genericBody(event, instance);
  return pagerDuty(
      routing_key, down, dedupKey(instance, event.target),
      pagerDutyPayload(std::move(summary), instance, "warning", event.time, event.target,
                       poolsOf(event.endpoints), "health", std::move(details)));
}

std::optional<Json> pagerDutyBody(const failover::AnswerEvent& event, const std::string& instance,
                                  const std::string& routing_key) {
  const bool trigger = event.failed_over || event.all_down;
  std::string summary;
  if (event.all_down) {
    summary = fmt::format("{} all endpoints down in pool {}: answering {}", event.record,
                          event.pool, event.to);
  } else if (event.failed_over) {
    summary = fmt::format("{} failed over in pool {}: {} -> {}", event.record, event.pool,
                          event.from, event.to);
  } else {
    summary = fmt::format("{} back to primary in pool {}: {} -> {}", event.record, event.pool,
                          event.from, event.to);
  }
  Json details = genericBody(event, instance);
  return pagerDuty(
      routing_key, trigger, dedupKey(instance, event.record),
      pagerDutyPayload(std::move(summary), instance, event.all_down ? "critical" : "warning",
                       event.time, event.record, event.pool, "answer", std::move(details)));
}

std::optional<Json> pagerDutyBody(const failover::ReloadFailedEvent& event,
                                  const std::string& instance, const std::string& routing_key) {
  std::string summary = "config reload failed";
  if (!event.source.empty()) summary += " (" + event.source + ")";
  if (!event.errors.empty()) {
    summary += ": " + event.errors.front();
    if (event.errors.size() > 1) summary += fmt::format(" (+{} more)", event.errors.size() - 1);
  }
  Json details = genericBody(event, instance);
  // Never resolved by us: the next good reload does not undo what the bad config said, and an
  // operator should look. Repeated failures fold into the same incident.
  return pagerDuty(routing_key, true, dedupKey(instance, "reload"),
                   pagerDutyPayload(std::move(summary), instance, "error", event.time, event.source,
                                    "", "reload", std::move(details)));
}

std::string describe(const failover::HealthEvent& event) {
  return fmt::format("health {} {} -> {}", event.target, event.from, event.to);
}

std::string describe(const failover::AnswerEvent& event) {
  return fmt::format("answer {}{}", event.record,
                     event.all_down      ? " all down"
                     : event.failed_over ? " failed over"
                                         : " primary");
}

std::string describe(const failover::ReloadFailedEvent& event) {
  return "reload_failed " + event.source;
}

}  // namespace understudy::notify
