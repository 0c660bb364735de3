// The operator-facing sentences of failover, formed in one place (issue 13): the health thread's
// logs, /status, /explain and the webhooks all word a decision, a time or an override alike.
// Everything else in failover hands out data (Decision, Tracker reasons, counts).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "understudy/failover/overrides.h"
#include "understudy/failover/policy.h"

namespace understudy::failover {

// "12:01:07 UTC": times in logs and explanations (the log line itself carries the date).
std::string clockTime(std::chrono::system_clock::time_point t);

// "192.0.2.10 (primary, ttl 300)", "192.0.2.20 (failed over to priority 2, ttl 30)",
// "nothing (all endpoints down, ttl 30)": an answer and why, as logged on every change.
std::string describeDecision(const Decision& d);

// "www.example.test. AAAA": a pooled record by owner (wire) and type.
std::string describeRecord(const std::string& owner, uint16_t type);

// "drain on web/192.0.2.1 until 12:30:00 UTC" ("until cleared" without an expiry).
std::string describeOverride(const std::string& pool, const std::string& address,
                             const Override& o);

}  // namespace understudy::failover
