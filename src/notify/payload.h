// The JSON bodies of webhook notifications: a generic shape and PagerDuty Events API v2
// (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/). Pure functions of the
// event, so the shapes are tested without any HTTP.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "understudy/failover/events.h"

namespace understudy::notify {

// RFC 3339 in UTC with milliseconds: "2024-05-01T12:01:07.123Z".
std::string rfc3339(std::chrono::system_clock::time_point time);

// {"event": "health" | "answer" | "reload_failed", "time", "instance", ...the event's fields}.
nlohmann::json genericBody(const failover::HealthEvent& event, const std::string& instance);
nlohmann::json genericBody(const failover::AnswerEvent& event, const std::string& instance);
nlohmann::json genericBody(const failover::ReloadFailedEvent& event, const std::string& instance);

// A PagerDuty event ("trigger" or "resolve" under a stable dedup_key), or nothing when the event
// is not worth a page: a target found up at start, or one that became "unknown".
std::optional<nlohmann::json> pagerDutyBody(const failover::HealthEvent& event,
                                            const std::string& instance,
                                            const std::string& routing_key);
std::optional<nlohmann::json> pagerDutyBody(const failover::AnswerEvent& event,
                                            const std::string& instance,
                                            const std::string& routing_key);
std::optional<nlohmann::json> pagerDutyBody(const failover::ReloadFailedEvent& event,
                                            const std::string& instance,
                                            const std::string& routing_key);

// A short label for log lines: "health web 127.0.0.1:8080 up -> down".
std::string describe(const failover::HealthEvent& event);
std::string describe(const failover::AnswerEvent& event);
std::string describe(const failover::ReloadFailedEvent& event);

}  // namespace understudy::notify
