// What the failover side looks like at one moment, as an immutable value (issue 12): the health
// thread copies its state into a StatusSnapshot when something changes and publishes it; the
// control endpoint's thread only reads published snapshots, the way serving threads read answer
// Snapshots. Nothing a reader does can reach the health thread.
//
// Every view costs what its answer needs: the per-configuration StatusIndex finds a pooled
// record by name and a pool's endpoints by position, so explaining one name touches that name's
// records and their pools' endpoints only, and a full listing is linear in its size.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "understudy/failover/overrides.h"
#include "understudy/failover/plan.h"
#include "understudy/failover/policy.h"
#include "understudy/health/check.h"
#include "understudy/health/tracker.h"

namespace understudy::failover {

using SystemTime = std::chrono::system_clock::time_point;

// The targetOf() value of an endpoint with `check: none`.
inline constexpr size_t kUncheckedTarget = ~size_t{0};

// One endpoint as /status, /explain and /metrics show it.
struct EndpointStatus {
  std::string pool;
  std::string address;
  std::string probe_address;
  std::string check;  // empty = `check: none`
  unsigned priority = 1;
  std::string state;     // measured: "up", "down", "unknown", or "unchecked"
  bool serving = false;  // counted as healthy for answers (measured state or override)
  std::optional<Override> override;
  std::optional<SystemTime> since;  // of the measured state
  std::string reason;               // "HTTP 503 x3"
  std::string last_outcome;         // "bad_status"
  std::string last_detail;          // Outcome::describe()
  double last_duration_ms = 0;
  uint64_t probes = 0;
  size_t target = kUncheckedTarget;
};

struct RecordStatus {
  std::string name;  // "app.svc.example.com."
  std::string type;  // "A"
  std::string pool;
  Decision decision;
  std::string answer;  // "192.0.2.10 (primary, ttl 300)"
  std::string why;     // "primary tier down since ...: 192.0.2.10 HTTP 503 x3; serving tier 2 ..."
  uint64_t changes = 0;
  std::optional<SystemTime> last_change;
};

// An override on an endpoint that the configuration no longer has: a reload removed the pool or
// the endpoint. It is kept (and expires or is cleared like any other) rather than silently lost
// or silently kept: /status, /metrics and the reload log list it, and it applies again if a
// later reload brings the endpoint back before it ends (issue 12).
struct OrphanedOverride {
  std::string pool;
  std::string address;
  Override override;
};

struct PoolStats {
  uint64_t transitions = 0;  // answer changes of the pool's records
  std::optional<SystemTime> last_transition;
};

// What never changes while one configuration runs: built once per Monitor, shared by all of its
// status snapshots.
struct StatusIndex {
  StatusIndex(std::shared_ptr<const Plan> plan, std::vector<health::ProbeTarget> targets,
              const std::vector<std::vector<size_t>>& endpoint_target);

  std::shared_ptr<const Plan> plan;
  std::vector<health::ProbeTarget> targets;
  // Endpoints are numbered pool by pool: pool p's endpoint e is pool_first[p] + e.
  std::vector<size_t> pool_first;
  std::vector<size_t> endpoint_target;  // by endpoint number; kUncheckedTarget for `check: none`
  std::unordered_map<std::string, size_t> pool_by_name;
  // Lowercased wire owner name -> indices into plan->pool_records.
  std::unordered_map<std::string, std::vector<size_t>> records_by_owner;

  size_t endpointCount() const { return endpoint_target.size(); }
  const PoolSpec* findPool(std::string_view name) const;
  size_t poolIndex(std::string_view name) const;  // pools.size() when there is none
};

struct TargetStatus {
  health::Tracker tracker{1, 1};
  std::optional<SystemTime> since;  // of the measured state
  bool up = true;                   // as answers count it (unknown counts as up)
};

class StatusSnapshot {
 public:
  std::shared_ptr<const StatusIndex> index;
  std::vector<TargetStatus> targets;
  std::vector<uint8_t> serving;  // by endpoint number: counted as healthy for answers
  std::map<OverrideStore::Key, Override> overrides;
  std::vector<Decision> decisions;  // by pooled record; empty until the first publish
  std::vector<uint64_t> record_changes;
  std::vector<std::optional<SystemTime>> record_changed_at;
  std::map<std::string, PoolStats> pool_stats;
  uint32_t serial = 0;
  uint64_t transitions = 0;  // up/down transitions of targets
  uint64_t not_run = 0;      // probes not run here (OutcomeKind::kNotRun)
  SystemTime taken{};        // when the health thread copied it

  const Plan& plan() const { return *index->plan; }
  size_t upCount() const;

  EndpointStatus endpoint(size_t pool, size_t endpoint) const;
  std::vector<EndpointStatus> endpoints() const;  // every pool's, in configuration order
  // One pooled record; its `why` (unless `with_why` is false) reads its own pool's endpoints only.
  RecordStatus record(size_t i, bool with_why = true) const;
  // Every pooled record; without `why` when `explain` is false (/metrics needs none).
  std::vector<RecordStatus> records(bool with_why = true) const;
  // The pooled record answering `lowered_owner` (wire, lowercased) for `type`, if any.
  std::optional<size_t> findRecord(const std::string& lowered_owner, uint16_t type) const;
  std::vector<OrphanedOverride> orphanedOverrides() const;
  const Override* findOverride(const std::string& pool, const std::string& address) const;

 private:
  std::string explain(const RecordStatus& r, size_t pool) const;
};

}  // namespace understudy::failover
