#include "understudy/failover/controller.h"

#include <unordered_map>

namespace understudy::failover {

const char* overrideName(OverrideKind kind) {
  switch (kind) {
    case OverrideKind::kDrain:
      return "drain";
    case OverrideKind::kForceUp:
      return "force-up";
    case OverrideKind::kForceDown:
      return "force-down";
  }
  return "drain";
}

Controller::Controller(std::shared_ptr<const config::Config> config,
                       std::shared_ptr<const zone::Snapshot> base,
                       std::shared_ptr<const OverrideStore> overrides)
    : config_(std::move(config)), base_(std::move(base)), overrides_(std::move(overrides)) {
  const auto& pools = config_->pools;
  endpoint_target_.resize(pools.size());
  // Linear in the endpoints: with 10,000 of them a scan of the targets found so far per endpoint
  // was most of a reload's time on the health thread.
  std::unordered_map<health::ProbeTarget, size_t, health::ProbeTargetHash> index_of;
  for (size_t p = 0; p < pools.size(); ++p) {
    for (size_t e = 0; e < pools[p].endpoints.size(); ++e) {
      const config::EndpointConfig& endpoint = pools[p].endpoints[e];
      if (endpoint.check.empty()) {
        endpoint_target_[p].push_back(kUnchecked);  // `check: none`: always healthy
        continue;
      }
      const health::CheckSpec* check = config_->findCheck(endpoint.check);
      health::ProbeTarget target{check ? *check : health::CheckSpec{}, endpoint.probe_address};
      auto [it, added] = index_of.try_emplace(target, targets_.size());
      size_t index = it->second;
      if (added) {
        targets_.push_back(std::move(target));
        users_.emplace_back();
      }
      users_[index].push_back({p, e});
      endpoint_target_[p].push_back(index);
    }
  }
  up_.assign(targets_.size(), true);
}

bool Controller::effectiveUp(size_t pool, size_t endpoint) const {
  const auto& p = config_->pools[pool];
  if (overrides_) {
    if (const Override* o = overrides_->find(p.name, p.endpoints[endpoint].address)) {
      return o->kind == OverrideKind::kForceUp;
    }
  }
  size_t t = endpoint_target_[pool][endpoint];
  return t == kUnchecked || up_[t];
}

std::shared_ptr<const zone::Snapshot> Controller::render(std::vector<Decision>* decisions,
                                                         uint32_t serial) const {
  auto next = std::make_shared<zone::Snapshot>();
  next->zone_set = base_->zone_set;  // shared, untouched
  next->options = base_->options;
  next->dynamic.resize(base_->dynamic.size());
  if (decisions) decisions->assign(config_->pool_records.size(), Decision{});
  for (const config::PoolRecordConfig& record : config_->pool_records) {
    const config::PoolConfig* pool = config_->findPool(record.pool);
    if (!pool || record.dynamic < 0 ||
        static_cast<size_t>(record.dynamic) >= next->dynamic.size()) {
      continue;
    }
    size_t p = static_cast<size_t>(pool - config_->pools.data());
    std::vector<bool> up(pool->endpoints.size());
    for (size_t e = 0; e < up.size(); ++e) up[e] = effectiveUp(p, e);
    Decision* d = decisions ? &(*decisions)[record.dynamic] : nullptr;
    next->dynamic[record.dynamic] = failover::render(*pool, record, up, d);
  }
  for (const auto& z : next->zones()) {
    if (z->soa_dynamic < 0 || static_cast<size_t>(z->soa_dynamic) >= next->dynamic.size()) {
      continue;
    }
    zone::DynamicRrset& entry = next->dynamic[static_cast<size_t>(z->soa_dynamic)];
    entry.mode = zone::DynamicRrset::Mode::kAnswer;
    entry.assign(*z->soa);
    // SOA RDATA ends with SERIAL REFRESH RETRY EXPIRE MINIMUM, 4 octets each (RFC 1035 §3.3.13).
    std::span<char> rdata = entry.firstRdata();
    size_t at = rdata.size() - 20;
    rdata[at] = static_cast<char>(serial >> 24);
    rdata[at + 1] = static_cast<char>(serial >> 16);
    rdata[at + 2] = static_cast<char>(serial >> 8);
    rdata[at + 3] = static_cast<char>(serial);
  }
  return next;
}

}  // namespace understudy::failover
