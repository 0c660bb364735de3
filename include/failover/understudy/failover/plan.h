// What the failover subsystem is asked to do, in its own terms (issue 13): the checks, the pools
// and their endpoints, and the pooled records that answer from them. The config loader fills it
// from YAML (config::Config extends it); failover never sees YAML structs, and tests build a Plan
// directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "understudy/common/diagnostic.h"
#include "understudy/health/check.h"

namespace understudy::failover {

// One address of a pool (`pools.<name>.endpoints[i]`).
struct EndpointSpec {
  std::string address;        // what is answered; numeric IPv4 or IPv6, normalised
  std::string probe_address;  // what is probed; = address unless configured
  unsigned priority = 1;      // 1 = primary tier
  std::string check;          // check name (the endpoint's own or the pool default); empty =
                              // `check: none`, never probed and always healthy (like a Route 53
                              // secondary without a health check)
  SourceLocation where;
  std::string key;

  bool isV6() const { return address.find(':') != std::string::npos; }
};

enum class PoolPolicy : uint8_t {
  kPriority,  // the healthy endpoints of the best tier
  kAll,       // every healthy endpoint, up to max_answers
};

struct PoolSpec {
  std::string name;
  PoolPolicy policy = PoolPolicy::kPriority;
  unsigned max_answers = 8;
  std::vector<EndpointSpec> endpoints;
  SourceLocation where;
  std::string key;
};

// What a pooled record answers when no endpoint of its family is healthy.
enum class WhenAllDown : uint8_t {
  kServePrimary,  // fail open with the primary tier (default, like Route 53)
  kServeAll,      // fail open with every endpoint
  kNoData,        // NOERROR, empty answer
  kServFail,      // SERVFAIL
  kFallback,      // a fixed address (`fallback:`)
};

// A record that takes its RDATA from a pool: `{name: app, type: A, pool: app, ttl: 300, ...}`.
// Its index in Plan::pool_records is its identity: the zone::Record that stands for it in its
// zone carries the same index (zone::Record::pooled), and zone::compile says which rendered slot
// it got (zone::ZoneSet::pooled).
struct PooledRecordSpec {
  std::string zone;   // origin, wire lowercased
  std::string owner;  // wire
  uint16_t type = 1;  // A or AAAA: the address family taken from the pool
  std::string pool;
  uint32_t ttl = 300;          // served while the answer is the primary tier
  uint32_t failover_ttl = 30;  // served while failed over or failing open
  WhenAllDown when_all_down = WhenAllDown::kServePrimary;
  std::string fallback;  // wire RDATA of the fallback address, with kFallback
  SourceLocation where;
  std::string key;
};

struct Plan {
  std::vector<health::CheckSpec> checks;
  std::vector<PoolSpec> pools;
  std::vector<PooledRecordSpec> pool_records;  // index = zone::Record::pooled

  const health::CheckSpec* findCheck(std::string_view name) const;
  const PoolSpec* findPool(std::string_view name) const;
};

}  // namespace understudy::failover
