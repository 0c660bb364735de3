#include "understudy/failover/controller.h"

#include <algorithm>
#include <cstring>
#include <string_view>
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

  std::unordered_map<std::string_view, size_t> pool_index;
  for (size_t p = 0; p < pools.size(); ++p) pool_index.emplace(pools[p].name, p);
  std::unordered_map<std::string_view, size_t> zone_index;
  if (base_) {
    for (size_t z = 0; z < base_->zones().size(); ++z)
      zone_index.emplace(base_->zones()[z]->origin, z);
    table_ = base_->dynamic;
  }
  pool_records_.resize(pools.size());
  const auto& records = config_->pool_records;
  table_decisions_.resize(records.size());
  for (size_t r = 0; r < records.size(); ++r) {
    auto p = pool_index.find(records[r].pool);
    record_pool_.push_back(p == pool_index.end() ? pools.size() : p->second);
    if (p != pool_index.end()) pool_records_[p->second].push_back(r);
    auto z = zone_index.find(records[r].zone);
    record_zone_.push_back(z == zone_index.end() ? std::string::npos : z->second);
  }
}

bool sameContent(const zone::DynamicRrset& a, const zone::DynamicRrset& b) {
  return a.mode == b.mode && a.rrset.type == b.rrset.type && a.rrset.ttl == b.rrset.ttl &&
         a.rrset.rdatas.size() == b.rrset.rdatas.size() &&
         a.rrset.rdatas.bytes() == b.rrset.rdatas.bytes() &&
         (a.rrset.rdatas.bytes() == 0 ||
          std::memcmp(a.rrset.rdatas.data(), b.rrset.rdatas.data(), a.rrset.rdatas.bytes()) == 0);
}

std::vector<size_t> Controller::recordsUsing(size_t target) const {
  std::vector<size_t> out;
  size_t last_pool = std::string::npos;
  for (const EndpointRef& ref : users_[target]) {
    if (ref.pool == last_pool) continue;  // a pool's endpoints are listed together
    last_pool = ref.pool;
    const auto& records = pool_records_[ref.pool];
    out.insert(out.end(), records.begin(), records.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<Controller::Rerendered> Controller::rerender(const std::vector<size_t>& records) {
  std::vector<Rerendered> out;
  out.reserve(records.size());
  std::vector<bool> up;
  for (size_t r : records) {
    const config::PoolRecordConfig& record = config_->pool_records[r];
    const size_t p = record_pool_[r];
    if (p >= config_->pools.size() || record.dynamic < 0 ||
        static_cast<size_t>(record.dynamic) >= table_.size()) {
      continue;
    }
    const config::PoolConfig& pool = config_->pools[p];
    up.assign(pool.endpoints.size(), false);
    for (size_t e = 0; e < up.size(); ++e) up[e] = effectiveUp(p, e);
    Rerendered change;
    change.record = r;
    change.before = table_decisions_[r];
    zone::DynamicRrset next = failover::render(pool, record, up, &change.after);
    ++rendered_records_;
    zone::DynamicRrset& slot = table_[static_cast<size_t>(record.dynamic)];
    change.content_changed = !sameContent(slot, next);
    if (change.content_changed) {
      change.old_rrset = std::move(slot);
      slot = std::move(next);
    }
    table_decisions_[r] = change.after;
    out.push_back(std::move(change));
  }
  return out;
}

bool Controller::stampSerial(size_t zone, uint32_t serial) {
  if (!base_ || zone >= base_->zones().size()) return false;
  const zone::Zone& z = *base_->zones()[zone];
  if (z.soa_dynamic < 0 || static_cast<size_t>(z.soa_dynamic) >= table_.size()) return false;
  zone::DynamicRrset& entry = table_[static_cast<size_t>(z.soa_dynamic)];
  entry.mode = zone::DynamicRrset::Mode::kAnswer;
  entry.assign(*z.soa);
  // SOA RDATA ends with SERIAL REFRESH RETRY EXPIRE MINIMUM, 4 octets each (RFC 1035 §3.3.13).
  std::span<char> rdata = entry.firstRdata();
  size_t at = rdata.size() - 20;
  rdata[at] = static_cast<char>(serial >> 24);
  rdata[at + 1] = static_cast<char>(serial >> 16);
  rdata[at + 2] = static_cast<char>(serial >> 8);
  rdata[at + 3] = static_cast<char>(serial);
  return true;
}

std::shared_ptr<const zone::Snapshot> Controller::snapshot() const {
  auto next = std::make_shared<zone::Snapshot>();
  next->zone_set = base_->zone_set;  // shared, untouched
  next->options = base_->options;
  next->dynamic = table_;
  return next;
}

const zone::DynamicRrset& Controller::rendered(size_t record) const {
  return table_[static_cast<size_t>(config_->pool_records[record].dynamic)];
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

}  // namespace understudy::failover
