// GET /status and GET /explain: the daemon's view of pools, endpoints and answers, as JSON.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "understudy/control/sources.h"

namespace understudy::control {

// "2024-05-01T12:01:07Z" (RFC 3339, UTC, whole seconds).
std::string rfc3339(std::chrono::system_clock::time_point t);

nlohmann::ordered_json statusJson(Sources& sources);

struct ExplainResult {
  unsigned http_status = 200;  // 400 for a bad name or type, 503 before anything is published
  nlohmann::ordered_json body;
};

// What a client asking `name` `type` gets now, computed by query::answer against the current
// snapshot (so it is exactly what is served), and why, for pooled records.
ExplainResult explainJson(Sources& sources, const std::string& name, const std::string& type);

}  // namespace understudy::control
