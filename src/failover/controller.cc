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

Controller::Controller(std::shared_ptr<const Plan> plan, std::shared_ptr<const zone::Snapshot> base,
                       std::shared_ptr<const OverrideStore> overrides)
    : plan_(std::move(plan)),
      base_(std::move(base)),
      overrides_(std::move(overrides)),
      bindings_(*plan_, base_ ? base_->zone_set.get() : nullptr) {
  const auto& pools = plan_->pools;
  endpoint_target_.resize(pools.size());
  // Linear in the endpoints: with 10,000 of them a scan of the targets found so far per endpoint
  // was most of a reload's time on the health thread. targets_ is reserved for the worst case
  // (every endpoint its own target) so the index's references into it stay valid.
  size_t endpoints = 0;
  for (const auto& pool : pools) endpoints += pool.endpoints.size();
  targets_.reserve(endpoints);
  target_index_.reserve(endpoints);
  for (size_t p = 0; p < pools.size(); ++p) {
    for (size_t e = 0; e < pools[p].endpoints.size(); ++e) {
      const EndpointSpec& endpoint = pools[p].endpoints[e];
      if (endpoint.check.empty()) {
        endpoint_target_[p].push_back(kUnchecked);  // `check: none`: always healthy
        continue;
      }
      const health::CheckSpec* check = plan_->findCheck(endpoint.check);
      health::ProbeTarget target{check ? *check : health::CheckSpec{}, endpoint.probe_address};
      size_t index;
      if (auto it = target_index_.find(target); it != target_index_.end()) {
        index = it->second;
      } else {
        index = targets_.size();
        targets_.push_back(std::move(target));
        target_index_.emplace(targets_.back(), index);
        users_.emplace_back();
      }
      users_[index].push_back({p, e});
      endpoint_target_[p].push_back(index);
    }
  }
  up_.assign(targets_.size(), true);
  if (base_) table_ = base_->rendered;
  table_decisions_.resize(bindings_.size());
}

bool sameContent(const zone::RenderedRrset& a, const zone::RenderedRrset& b) {
  return a.mode == b.mode && a.rrset.type == b.rrset.type && a.rrset.ttl == b.rrset.ttl &&
         a.rrset.rdatas.size() == b.rrset.rdatas.size() &&
         a.rrset.rdatas.bytes() == b.rrset.rdatas.bytes() &&
         (a.rrset.rdatas.bytes() == 0 ||
          std::memcmp(a.rrset.rdatas.data(), b.rrset.rdatas.data(), a.rrset.rdatas.bytes()) == 0);
}

std::optional<size_t> Controller::findTarget(const health::ProbeTarget& target) const {
  auto it = target_index_.find(target);
  if (it == target_index_.end()) return std::nullopt;
  return it->second;
}

std::vector<size_t> Controller::recordsUsing(size_t target) const {
  std::vector<size_t> out;
  size_t last_pool = std::string::npos;
  for (const EndpointRef& ref : users_[target]) {
    if (ref.pool == last_pool) continue;  // a pool's endpoints are listed together
    last_pool = ref.pool;
    const auto& records = bindings_.recordsOfPool(ref.pool);
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
    const Binding& binding = bindings_[r];
    if (!binding.bound() || static_cast<size_t>(binding.slot) >= table_.size()) continue;
    const size_t p = binding.pool;
    const PoolSpec& pool = plan_->pools[p];
    up.assign(pool.endpoints.size(), false);
    for (size_t e = 0; e < up.size(); ++e) up[e] = effectiveUp(p, e);
    Rerendered change;
    change.record = r;
    change.before = table_decisions_[r];
    zone::RenderedRrset next = failover::render(pool, *binding.spec, up, &change.after);
    ++rendered_records_;
    zone::RenderedRrset& slot = table_[static_cast<size_t>(binding.slot)];
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
  if (z.serial_slot < 0 || static_cast<size_t>(z.serial_slot) >= table_.size()) return false;
  zone::RenderedRrset& entry = table_[static_cast<size_t>(z.serial_slot)];
  entry.mode = zone::RenderedRrset::Mode::kAnswer;
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
  next->rendered = table_;
  return next;
}

const zone::RenderedRrset& Controller::rendered(size_t record) const {
  static const zone::RenderedRrset kNothing;
  const Binding& binding = bindings_[record];
  if (binding.slot < 0 || static_cast<size_t>(binding.slot) >= table_.size()) return kNothing;
  return table_[static_cast<size_t>(binding.slot)];
}

bool Controller::effectiveUp(size_t pool, size_t endpoint) const {
  const auto& p = plan_->pools[pool];
  if (overrides_) {
    if (const Override* o = overrides_->find(p.name, p.endpoints[endpoint].address)) {
      return o->kind == OverrideKind::kForceUp;
    }
  }
  size_t t = endpoint_target_[pool][endpoint];
  return t == kUnchecked || up_[t];
}

}  // namespace understudy::failover
