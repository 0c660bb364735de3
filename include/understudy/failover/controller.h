// Maps probe targets to pool endpoints and renders the dynamic table of a Snapshot from their
// health. Publishing a new answer = a new Snapshot sharing the immutable zones (zone::ZoneSet)
// with a freshly rendered, small dynamic table: cost independent of zone size.
#pragma once

#include <memory>
#include <vector>

#include "understudy/config/config.h"
#include "understudy/failover/overrides.h"
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

  Controller(std::shared_ptr<const config::Config> config,
             std::shared_ptr<const zone::Snapshot> base,
             std::shared_ptr<const OverrideStore> overrides = nullptr);

  // Unique (check, probe address) pairs: endpoints sharing both share one probe stream.
  const std::vector<health::ProbeTarget>& targets() const { return targets_; }
  const std::vector<EndpointRef>& endpointsOf(size_t target) const { return users_[target]; }
  size_t targetOf(size_t pool, size_t endpoint) const { return endpoint_target_[pool][endpoint]; }
  const std::vector<std::vector<size_t>>& endpointTargets() const { return endpoint_target_; }

  // Health of a target as far as answers go (unknown counts as up: fail open until measured).
  void setUp(size_t target, bool up) { up_[target] = up; }
  bool isUp(size_t target) const { return up_[target]; }

  // What answers use for `pool.endpoints[endpoint]`: an override if there is one, else measured
  // health (`check: none` endpoints are always healthy).
  bool effectiveUp(size_t pool, size_t endpoint) const;

  // A new Snapshot with every pooled RRset rendered from the current health. `decisions`, if
  // given, receives one Decision per pooled record (index = PoolRecordConfig::dynamic).
  // `serial` goes into the SOA of every zone with `serial: auto`.
  std::shared_ptr<const zone::Snapshot> render(std::vector<Decision>* decisions = nullptr,
                                               uint32_t serial = 0) const;

  const config::Config& config() const { return *config_; }

 private:
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<const zone::Snapshot> base_;
  std::shared_ptr<const OverrideStore> overrides_;
  std::vector<health::ProbeTarget> targets_;
  std::vector<std::vector<EndpointRef>> users_;
  std::vector<std::vector<size_t>> endpoint_target_;
  std::vector<bool> up_;
};

}  // namespace understudy::failover
