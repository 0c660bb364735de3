#include "understudy/failover/policy.h"

#include <arpa/inet.h>

#include <algorithm>

namespace understudy::failover {

namespace {

constexpr uint16_t kTypeAaaa = 28;

}  // namespace

std::string addressToRdata(const std::string& address) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, address.c_str(), buf) == 1) return std::string(buf, buf + 4);
  if (inet_pton(AF_INET6, address.c_str(), buf) == 1) return std::string(buf, buf + 16);
  return {};
}

zone::RenderedRrset render(const PoolSpec& pool, const PooledRecordSpec& record,
                           const std::vector<bool>& up, Decision* decision) {
  const bool want_v6 = record.type == kTypeAaaa;
  // The endpoints of the record's address family, best priority first, config order within.
  std::vector<size_t> family;
  for (size_t i = 0; i < pool.endpoints.size(); ++i) {
    if (pool.endpoints[i].isV6() == want_v6) family.push_back(i);
  }
  std::stable_sort(family.begin(), family.end(), [&](size_t a, size_t b) {
    return pool.endpoints[a].priority < pool.endpoints[b].priority;
  });

  Decision d;
  std::vector<size_t> chosen;
  auto isUp = [&](size_t i) { return i < up.size() && up[i]; };
  const unsigned primary = family.empty() ? 0 : pool.endpoints[family.front()].priority;

  if (pool.policy == PoolPolicy::kPriority) {
    for (size_t i : family) {
      if (!isUp(i)) continue;
      unsigned tier = pool.endpoints[i].priority;
      if (chosen.empty()) d.tier = tier;
      if (tier != d.tier) break;
      chosen.push_back(i);
    }
    if (!chosen.empty())
      d.kind = d.tier == primary ? Decision::Kind::kPrimary : Decision::Kind::kFailover;
  } else {
    for (size_t i : family) {
      if (isUp(i)) chosen.push_back(i);
    }
    if (!chosen.empty()) {
      d.kind =
          chosen.size() == family.size() ? Decision::Kind::kPrimary : Decision::Kind::kFailover;
    }
  }

  zone::RenderedRrset out;
  out.rrset.type = record.type;
  if (chosen.empty()) {
    d.kind = Decision::Kind::kAllDown;
    switch (record.when_all_down) {
      case WhenAllDown::kServePrimary:
        // Fail open: a health check that cannot reach anything is more often the checker's
        // problem than every endpoint's (Route 53 does the same).
        for (size_t i : family) {
          if (pool.endpoints[i].priority == primary) chosen.push_back(i);
        }
        d.tier = primary;
        break;
      case WhenAllDown::kServeAll:
        chosen = family;
        break;
      case WhenAllDown::kNoData:
        out.mode = zone::RenderedRrset::Mode::kNoData;
        break;
      case WhenAllDown::kServFail:
        out.mode = zone::RenderedRrset::Mode::kServFail;
        break;
      case WhenAllDown::kFallback: {
        out.mode = zone::RenderedRrset::Mode::kAnswer;
        out.add(record.fallback);
        char text[INET6_ADDRSTRLEN] = "";
        inet_ntop(record.fallback.size() == 16 ? AF_INET6 : AF_INET, record.fallback.data(), text,
                  sizeof text);
        d.addresses.push_back(std::string(text) + " (fallback)");
        break;
      }
    }
  }
  if (chosen.size() > pool.max_answers) chosen.resize(pool.max_answers);
  for (size_t i : chosen) {
    out.mode = zone::RenderedRrset::Mode::kAnswer;
    out.add(addressToRdata(pool.endpoints[i].address));
    d.addresses.push_back(pool.endpoints[i].address);
  }
  // failover_ttl whenever the answer is not the healthy primary one, so resolvers return soon.
  out.rrset.ttl = d.kind == Decision::Kind::kPrimary ? record.ttl : record.failover_ttl;
  d.ttl = out.rrset.ttl;
  if (decision) *decision = std::move(d);
  return out;
}

}  // namespace understudy::failover
