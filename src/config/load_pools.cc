// `pools:` and the records that take their addresses from a pool.
#include <algorithm>

#include "loader.h"

namespace understudy::config::detail {

// "pools: { name: {policy: priority, check: web, endpoints: [...]}, ... }"
void Loader::loadPools(const YAML::Node& node, std::vector<PoolConfig>& pools) {
  if (!expectMap(node, "pools")) return;
  for (const auto& entry : node) {
    auto name = scalar(entry.first, "pools");
    if (!name) continue;
    if (std::any_of(pools.begin(), pools.end(),
                    [&](const PoolConfig& p) { return p.name == *name; })) {
      error(entry.first, "pools", "duplicate pool '" + *name + "'");
      continue;
    }
    if (auto pool = loadPool(entry.second, joinKey("pools", *name), *name)) {
      pools.push_back(std::move(*pool));
    }
  }
}

std::optional<PoolConfig> Loader::loadPool(const YAML::Node& node, const std::string& key,
                                           const std::string& name) {
  if (!expectMap(node, key)) return std::nullopt;
  Fields f = fields(node, key, {"policy", "max_answers", "check", "endpoints"});
  PoolConfig pool;
  pool.name = name;
  pool.where = at(node);
  pool.key = key;
  size_t errors_before = error_count_;
  if (auto policy = f.get("policy")) {
    auto text = scalar(*policy, joinKey(key, "policy"));
    if (text && *text == "priority") {
      pool.policy = PoolPolicy::kPriority;
    } else if (text && *text == "all") {
      pool.policy = PoolPolicy::kAll;
    } else if (text) {
      error(*policy, joinKey(key, "policy"),
            "unknown policy '" + *text + "' (expected priority or all)");
    }
  }
  if (auto max = f.get("max_answers")) {
    if (auto v = integer(*max, joinKey(key, "max_answers"), 1, 64)) {
      pool.max_answers = static_cast<unsigned>(*v);
    }
  }
  std::string pool_check;
  std::optional<YAML::Node> pool_check_node = f.get("check");
  if (pool_check_node) {
    if (auto text = scalar(*pool_check_node, joinKey(key, "check"))) {
      if (knownCheck(*pool_check_node, joinKey(key, "check"), *text)) pool_check = *text;
      if (pool_check == "none") pool_check.clear();
    }
  }
  auto endpoints = f.get("endpoints");
  if (!endpoints) {
    error(node, key, "pool '" + name + "' has no endpoints");
    return std::nullopt;
  }
  const std::string ekey = joinKey(key, "endpoints");
  if (!expectList(*endpoints, ekey)) return std::nullopt;
  if (endpoints->size() == 0) error(*endpoints, ekey, "pool '" + name + "' has no endpoints");
  for (size_t i = 0; i < endpoints->size(); ++i) {
    const YAML::Node& e = (*endpoints)[i];
    const std::string k = indexKey(ekey, i);
    if (!expectMap(e, k)) continue;
    Fields ef = fields(e, k, {"address", "probe_address", "priority", "check"});
    EndpointConfig endpoint;
    endpoint.where = at(e);
    endpoint.key = k;
    auto address = ef.get("address");
    if (!address) {
      if (!ef.given("address")) error(e, k, "missing required key 'address'");
      continue;
    }
    auto parsed = ipAddress(*address, joinKey(k, "address"));
    if (!parsed) continue;
    endpoint.address = *parsed;
    endpoint.probe_address = *parsed;
    if (auto probe = ef.get("probe_address")) {
      if (auto p = ipAddress(*probe, joinKey(k, "probe_address"))) endpoint.probe_address = *p;
    }
    if (auto priority = ef.get("priority")) {
      if (auto v = integer(*priority, joinKey(k, "priority"), 1, 255)) {
        endpoint.priority = static_cast<unsigned>(*v);
      }
    }
    if (auto check = ef.get("check")) {
      if (auto text = scalar(*check, joinKey(k, "check"))) {
        if (knownCheck(*check, joinKey(k, "check"), *text)) {
          endpoint.check = *text == "none" ? std::string() : *text;
        }
      }
    } else if (!pool_check.empty()) {
      endpoint.check = pool_check;
    } else if (!pool_check_node) {
      error(e, k,
            "endpoint " + endpoint.address +
                " has no health check (set 'check' on the pool or on the endpoint)");
    }
    for (const EndpointConfig& other : pool.endpoints) {
      if (other.address == endpoint.address) {
        error(*address, joinKey(k, "address"),
              "duplicate endpoint " + endpoint.address + " in pool '" + name + "' (first at " +
                  formatLocation(other.where) + ")");
      }
    }
    pool.endpoints.push_back(std::move(endpoint));
  }
  if (error_count_ != errors_before) return std::nullopt;
  return pool;
}

bool Loader::knownCheck(const YAML::Node& node, const std::string& key, const std::string& name) {
  if (name == "none" || config_->findCheck(name)) return true;
  error(node, key, "unknown check '" + name + "'");
  return false;
}

void Loader::loadPoolRecord(const YAML::Node& node, const Fields& f, const std::string& key,
                            const ZoneContext& ctx, const std::optional<std::string>& owner,
                            uint16_t type, uint32_t record_ttl, bool ttl_given,
                            std::vector<zone::Record>& out) {
  constexpr uint16_t kTypeA = 1;
  constexpr uint16_t kTypeAaaa = 28;
  bool ok = owner && type != 0;
  if (type != 0 && type != kTypeA && type != kTypeAaaa) {
    error(node, key, "a record with a 'pool' must be of type A or AAAA");
    ok = false;
  }
  for (const char* k : {"value", "values"}) {
    if (auto v = f.get(k)) {
      error(*v, joinKey(key, k), std::string("'") + k + "' cannot be used with 'pool'");
      ok = false;
    }
  }
  PoolRecordConfig rec;
  rec.zone = ctx.origin_lower;
  rec.type = type;
  rec.where = at(node);
  rec.key = key;
  const PoolConfig* pool = nullptr;
  if (auto pool_node = f.get("pool")) {
    if (auto name = scalar(*pool_node, joinKey(key, "pool"))) {
      pool = config_->findPool(*name);
      if (!pool) {
        error(*pool_node, joinKey(key, "pool"), "unknown pool '" + *name + "'");
        ok = false;
      } else {
        rec.pool = *name;
        bool want_v6 = type == kTypeAaaa;
        bool any = std::any_of(pool->endpoints.begin(), pool->endpoints.end(),
                               [&](const EndpointConfig& e) { return e.isV6() == want_v6; });
        if (ok && !any) {
          error(*pool_node, joinKey(key, "pool"),
                "pool '" + *name + "' has no " + (want_v6 ? "IPv6" : "IPv4") +
                    " endpoints for an " + (want_v6 ? "AAAA" : "A") + " record");
          ok = false;
        }
      }
    }
  }
  // Defaults: the normal TTL is the record's (300 if not given, a sane value for a pooled
  // name); the failover TTL is short so resolvers come back soon after recovery.
  rec.ttl = ttl_given ? record_ttl : 300;
  rec.failover_ttl = std::min<uint32_t>(rec.ttl, 30);
  if (auto ft = f.get("failover_ttl")) {
    if (auto v = ttl(*ft, joinKey(key, "failover_ttl"))) {
      rec.failover_ttl = *v;
      if (*v > rec.ttl) {
        error(*ft, joinKey(key, "failover_ttl"),
              "failover_ttl " + std::to_string(*v) + " is longer than ttl " +
                  std::to_string(rec.ttl) + "; it should let resolvers come back sooner");
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  auto when = f.get("when_all_down");
  if (when) {
    auto text = scalar(*when, joinKey(key, "when_all_down"));
    if (text && *text == "serve_primary") {
      rec.when_all_down = WhenAllDown::kServePrimary;
    } else if (text && *text == "serve_all") {
      rec.when_all_down = WhenAllDown::kServeAll;
    } else if (text && *text == "nodata") {
      rec.when_all_down = WhenAllDown::kNoData;
    } else if (text && *text == "servfail") {
      rec.when_all_down = WhenAllDown::kServFail;
    } else if (text) {
      error(*when, joinKey(key, "when_all_down"),
            "unknown when_all_down '" + *text +
                "' (expected serve_primary, serve_all, nodata or servfail)");
      ok = false;
    }
  }
  if (auto fallback = f.get("fallback")) {
    if (when) {
      error(*fallback, joinKey(key, "fallback"),
            "use either 'fallback' or 'when_all_down', not both");
      ok = false;
    } else if (type == kTypeA || type == kTypeAaaa) {
      auto text = scalar(*fallback, joinKey(key, "fallback"));
      std::string reason;
      auto rdata = text ? zone::parseRdata(type, *text, ctx.origin, &reason) : std::nullopt;
      if (!rdata) {
        if (text) error(*fallback, joinKey(key, "fallback"), reason);
        ok = false;
      } else {
        rec.when_all_down = WhenAllDown::kFallback;
        rec.fallback = *rdata;
      }
    }
  }
  if (!ok) return;
  rec.owner = *owner;
  zone::Record record;
  record.owner = *owner;
  record.type = type;
  record.ttl = rec.ttl;
  record.pooled = zone::PooledId{static_cast<uint32_t>(config_->pool_records.size())};
  record.where = rec.where;
  record.key = key;
  out.push_back(std::move(record));
  config_->pool_records.push_back(std::move(rec));
}

}  // namespace understudy::config::detail
