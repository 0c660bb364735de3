// Maps probe targets to pool endpoints and renders the rendered slots of a Snapshot from their
// health. Publishing a new answer = a new Snapshot sharing the immutable zones (zone::ZoneSet)
// with a small table of rendered slots: cost independent of zone size.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "understudy/failover/bindings.h"
#include "understudy/failover/overrides.h"
#include "understudy/failover/plan.h"
#include "understudy/failover/policy.h"
#include "understudy/health/check.h"
#include "understudy/zone/snapshot.h"

namespace understudy::failover {

class Controller {
 public:
  struct EndpointRef {
    size_t pool;
    size_t endpoint;
  };

  // targetOf() for an endpoint with `check: none`.
  static constexpr size_t kUnchecked = ~size_t{0};

  Controller(std::shared_ptr<const Plan> plan, std::shared_ptr<const zone::Snapshot> base,
             std::shared_ptr<const OverrideStore> overrides = nullptr);
  // targets_ is indexed by references into itself: not copyable, not movable.
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Unique (check, probe address) pairs: endpoints sharing both share one probe stream.
  const std::vector<health::ProbeTarget>& targets() const { return targets_; }
  // The index of the target equal to `target` (same check definition, same address), if any: a
  // hash lookup, so a reload hands over the state of 10,000 targets in a few milliseconds.
  std::optional<size_t> findTarget(const health::ProbeTarget& target) const;
  const std::vector<EndpointRef>& endpointsOf(size_t target) const { return users_[target]; }
  size_t targetOf(size_t pool, size_t endpoint) const { return endpoint_target_[pool][endpoint]; }
  const std::vector<std::vector<size_t>>& endpointTargets() const { return endpoint_target_; }

  // Health of a target as far as answers go (unknown counts as up: fail open until measured).
  void setUp(size_t target, bool up) { up_[target] = up; }
  bool isUp(size_t target) const { return up_[target]; }

  // What answers use for `pool.endpoints[endpoint]`: an override if there is one, else measured
  // health (`check: none` endpoints are always healthy).
  bool effectiveUp(size_t pool, size_t endpoint) const;

  // Incremental rendering (issue 13): the controller keeps the table it last rendered.
  struct Rerendered {
    size_t record;  // index into plan.pool_records
    Decision before;
    Decision after;
    zone::RenderedRrset old_rrset;  // the content served until now
    bool content_changed = false;   // false: same RRset (the decision's wording may still differ)
  };
  // Re-renders `records` (indices into plan.pool_records) from the current health into the kept
  // table and says what each one was and is. Counts every record rendered (renderedRecords()).
  std::vector<Rerendered> rerender(const std::vector<size_t>& records);
  // Writes `serial` into the kept SOA of zone `zone` (index in the snapshot's zones) when it has
  // `serial: auto`; false when it has not.
  bool stampSerial(size_t zone, uint32_t serial);
  // A Snapshot serving the kept table.
  std::shared_ptr<const zone::Snapshot> snapshot() const;
  const zone::RenderedRrset& rendered(size_t record) const;

  // Which pooled records depend on a target, or on a pool; which zone a record is in.
  const std::vector<size_t>& recordsOfPool(size_t pool) const {
    return bindings_.recordsOfPool(pool);
  }
  std::vector<size_t> recordsUsing(size_t target) const;
  const BindingTable& bindings() const { return bindings_; }
  size_t zoneOf(size_t record) const { return bindings_[record].zone; }
  size_t poolOf(size_t record) const { return bindings_[record].pool; }
  uint64_t renderedRecords() const { return rendered_records_; }
  const std::shared_ptr<const zone::Snapshot>& base() const { return base_; }

  const Plan& plan() const { return *plan_; }

 private:
  std::shared_ptr<const Plan> plan_;
  std::shared_ptr<const zone::Snapshot> base_;
  std::shared_ptr<const OverrideStore> overrides_;
  std::vector<health::ProbeTarget> targets_;
  struct TargetRefHash {
    size_t operator()(const health::ProbeTarget& t) const noexcept {
      return health::ProbeTargetHash{}(t);
    }
  };
  std::unordered_map<std::reference_wrapper<const health::ProbeTarget>, size_t, TargetRefHash,
                     std::equal_to<health::ProbeTarget>>
      target_index_;  // keys refer into targets_, which never grows after construction
  std::vector<std::vector<EndpointRef>> users_;
  std::vector<std::vector<size_t>> endpoint_target_;
  std::vector<bool> up_;
  BindingTable bindings_;
  std::vector<zone::RenderedRrset> table_;  // what rerender() keeps
  std::vector<Decision> table_decisions_;
  uint64_t rendered_records_ = 0;
};

// Same type, TTL, mode and records: what a resolver would see is the same.
bool sameContent(const zone::RenderedRrset& a, const zone::RenderedRrset& b);

}  // namespace understudy::failover
