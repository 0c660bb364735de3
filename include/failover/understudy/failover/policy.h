// Turning endpoint health into answers (DESIGN.md "Health checks and failover"). Pure functions:
// no clock, no I/O, so every rule is tested by table.
#pragma once

#include <string>
#include <vector>

#include "understudy/failover/plan.h"
#include "understudy/zone/snapshot.h"

namespace understudy::failover {

// Why a pooled record answers what it answers, for logs, /status and /explain.
struct Decision {
  enum class Kind : uint8_t {
    kPrimary,   // the primary tier (or, for `all`, every endpoint) is healthy
    kFailover,  // serving a lower tier, or a subset
    kAllDown,   // nothing healthy: the when_all_down rule applies
  };
  Kind kind = Kind::kPrimary;
  unsigned tier = 0;                   // the priority served (priority policy), 0 if none
  std::vector<std::string> addresses;  // the addresses served, in answer order
  uint32_t ttl = 0;
};

// `up[i]` is the health of `pool.endpoints[i]`.
zone::RenderedRrset render(const PoolSpec& pool, const PooledRecordSpec& record,
                           const std::vector<bool>& up, Decision* decision = nullptr);

// "192.0.2.1" -> 4 octets, "2001:db8::1" -> 16 octets; empty on error.
std::string addressToRdata(const std::string& address);

}  // namespace understudy::failover
