// What an operator asks of the control endpoint for one endpoint's override (set or clear), and
// what came of it: the request Monitor::change() takes and the answer it gives.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "understudy/failover/overrides.h"

namespace understudy::failover {

// A change an operator asks for through the control endpoint: set (kind) or clear (no kind) the
// override on one endpoint.
struct OverrideChange {
  std::string pool;
  std::string address;
  std::optional<OverrideKind> kind;  // nullopt = clear
  std::optional<std::chrono::seconds> duration;
};

struct OverrideChangeResult {
  enum class Result : uint8_t {
    kDone,            // set, or cleared
    kNothingToClear,  // a clear where there was no override: the endpoint is as asked
    kNotFound,        // no such pool or endpoint (an orphaned override can still be cleared)
  };
  Result result = Result::kDone;
  std::string message;  // why, for kNothingToClear and kNotFound
  // The endpoint afterwards: whether answers count it as healthy (unset when the configuration
  // does not have it), and its override.
  std::optional<bool> serving;
  std::optional<Override> override;
};

}  // namespace understudy::failover
