#include "understudy/failover/status.h"

#include "understudy/dns/name.h"
#include "understudy/dns/types.h"
#include "understudy/failover/wording.h"

namespace understudy::failover {

namespace {

bool isV6(const std::string& address) {
  return address.find(':') != std::string::npos;
}

}  // namespace

StatusIndex::StatusIndex(std::shared_ptr<const Plan> c, std::vector<health::ProbeTarget> t,
                         const std::vector<std::vector<size_t>>& by_pool)
    : plan(std::move(c)), targets(std::move(t)) {
  for (size_t p = 0; p < plan->pools.size(); ++p) {
    pool_first.push_back(endpoint_target.size());
    pool_by_name.emplace(plan->pools[p].name, p);
    for (size_t target : by_pool[p]) endpoint_target.push_back(target);
  }
  for (size_t i = 0; i < plan->pool_records.size(); ++i) {
    records_by_owner[dns::lowered(plan->pool_records[i].owner)].push_back(i);
  }
}

size_t StatusIndex::poolIndex(std::string_view name) const {
  auto it = pool_by_name.find(std::string(name));
  return it == pool_by_name.end() ? plan->pools.size() : it->second;
}

const PoolSpec* StatusIndex::findPool(std::string_view name) const {
  size_t p = poolIndex(name);
  return p < plan->pools.size() ? &plan->pools[p] : nullptr;
}

size_t StatusSnapshot::upCount() const {
  size_t n = 0;
  for (const auto& t : targets) n += t.up;
  return n;
}

const Override* StatusSnapshot::findOverride(const std::string& pool,
                                             const std::string& address) const {
  auto it = overrides.find({pool, address});
  return it == overrides.end() ? nullptr : &it->second;
}

EndpointStatus StatusSnapshot::endpoint(size_t p, size_t e) const {
  const PoolSpec& pool = plan().pools[p];
  const EndpointSpec& ep = pool.endpoints[e];
  const size_t number = index->pool_first[p] + e;
  EndpointStatus s;
  s.pool = pool.name;
  s.address = ep.address;
  s.probe_address = ep.probe_address;
  s.check = ep.check;
  s.priority = ep.priority;
  s.serving = serving[number] != 0;
  if (const Override* o = findOverride(pool.name, ep.address)) s.override = *o;
  s.target = index->endpoint_target[number];
  if (s.target == kUncheckedTarget) {
    s.state = "unchecked";
    return s;
  }
  const TargetStatus& t = targets[s.target];
  s.state = health::stateName(t.tracker.state());
  s.since = t.since;
  s.reason = t.tracker.reason();
  s.probes = t.tracker.probes();
  if (const auto& last = t.tracker.lastOutcome()) {
    s.last_outcome = health::Outcome::kindName(last->kind);
    s.last_detail = last->describe(index->targets[s.target].check);
    s.last_duration_ms = static_cast<double>(last->duration.count()) / 1000.0;
  }
  return s;
}

std::vector<EndpointStatus> StatusSnapshot::endpoints() const {
  std::vector<EndpointStatus> out;
  out.reserve(index->endpointCount());
  for (size_t p = 0; p < plan().pools.size(); ++p) {
    for (size_t e = 0; e < plan().pools[p].endpoints.size(); ++e) out.push_back(endpoint(p, e));
  }
  return out;
}

RecordStatus StatusSnapshot::record(size_t i, bool with_why) const {
  const auto& rec = plan().pool_records[i];
  RecordStatus r;
  r.name = dns::nameToText(rec.owner);
  r.type = rec.type == dns::rrtype::kAaaa ? "AAAA" : "A";
  r.pool = rec.pool;
  if (i < decisions.size()) r.decision = decisions[i];
  r.answer = describeDecision(r.decision);
  r.changes = i < record_changes.size() ? record_changes[i] : 0;
  if (i < record_changed_at.size()) r.last_change = record_changed_at[i];
  if (with_why) r.why = explain(r, index->poolIndex(r.pool));
  return r;
}

std::vector<RecordStatus> StatusSnapshot::records(bool with_why) const {
  std::vector<RecordStatus> out;
  out.reserve(plan().pool_records.size());
  for (size_t i = 0; i < plan().pool_records.size(); ++i) out.push_back(record(i, with_why));
  return out;
}

std::optional<size_t> StatusSnapshot::findRecord(const std::string& lowered_owner,
                                                 uint16_t type) const {
  auto it = index->records_by_owner.find(lowered_owner);
  if (it == index->records_by_owner.end()) return std::nullopt;
  for (size_t i : it->second) {
    if (plan().pool_records[i].type == type) return i;
  }
  return std::nullopt;
}

std::vector<OrphanedOverride> StatusSnapshot::orphanedOverrides() const {
  std::vector<OrphanedOverride> out;
  for (const auto& [key, o] : overrides) {
    const PoolSpec* pool = index->findPool(key.first);
    bool found = false;
    if (pool) {
      for (const auto& e : pool->endpoints) found = found || e.address == key.second;
    }
    if (!found) out.push_back(OrphanedOverride{key.first, key.second, o});
  }
  return out;
}

// "primary tier down since 12:01:07 UTC: 192.0.2.10 HTTP 503 x3; serving priority 2 with
// failover_ttl 30". Reads the record's own pool only.
std::string StatusSnapshot::explain(const RecordStatus& r, size_t p) const {
  if (p >= plan().pools.size()) return "";
  const PoolSpec& pool = plan().pools[p];
  const bool v6 = r.type == "AAAA";
  unsigned primary = 0;
  for (const auto& e : pool.endpoints) {
    if (e.isV6() == v6 && (primary == 0 || e.priority < primary)) primary = e.priority;
  }
  std::string down;
  std::optional<SystemTime> earliest;
  for (size_t e = 0; e < pool.endpoints.size(); ++e) {
    const size_t number = index->pool_first[p] + e;
    const EndpointSpec& ep = pool.endpoints[e];
    if (isV6(ep.address) != v6 || serving[number]) continue;
    const Override* o = findOverride(pool.name, ep.address);
    const size_t target = index->endpoint_target[number];
    std::string why;
    std::optional<SystemTime> when;
    if (o) {
      why = overrideName(o->kind);
      why += " override";
      when = o->since;
    } else if (target != kUncheckedTarget) {
      why = targets[target].tracker.reason();
      when = targets[target].since;
    }
    if (!down.empty()) down += ", ";
    down += ep.address;
    down += " ";
    down += why;
    if (when && (!earliest || *when < *earliest)) earliest = when;
  }
  std::string since = earliest ? " since " + clockTime(*earliest) : "";
  std::string out;
  switch (r.decision.kind) {
    case Decision::Kind::kPrimary:
      out = "primary tier healthy";
      if (!down.empty()) {
        out += " (down: ";
        out += down;
        out += ")";
      }
      out += "; serving it with ttl ";
      out += std::to_string(r.decision.ttl);
      return out;
    case Decision::Kind::kFailover:
      if (pool.policy == PoolPolicy::kAll) {
        out = "not every endpoint is healthy";
        out += since;
        out += ": ";
        out += down;
        out += "; serving the healthy ones with failover_ttl ";
        out += std::to_string(r.decision.ttl);
        return out;
      }
      out = "primary tier (priority ";
      out += std::to_string(primary);
      out += ") down";
      out += since;
      out += ": ";
      out += down;
      out += "; serving priority ";
      out += std::to_string(r.decision.tier);
      out += " with failover_ttl ";
      out += std::to_string(r.decision.ttl);
      return out;
    case Decision::Kind::kAllDown:
      out = "all endpoints down";
      out += since;
      out += ": ";
      out += down;
      out += "; when_all_down rule serves ";
      out += describeDecision(r.decision);
      return out;
  }
  return out;
}

}  // namespace understudy::failover
