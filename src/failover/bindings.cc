#include "understudy/failover/bindings.h"

#include <string_view>
#include <unordered_map>

namespace understudy::failover {

BindingTable::BindingTable(const Plan& plan, const zone::ZoneSet* zones) {
  std::unordered_map<std::string_view, size_t> pool_index;
  for (size_t p = 0; p < plan.pools.size(); ++p) pool_index.emplace(plan.pools[p].name, p);
  by_pool_.resize(plan.pools.size());
  bindings_.reserve(plan.pool_records.size());
  for (size_t r = 0; r < plan.pool_records.size(); ++r) {
    Binding b;
    b.spec = &plan.pool_records[r];
    if (auto p = pool_index.find(b.spec->pool); p != pool_index.end()) {
      b.pool = p->second;
      by_pool_[b.pool].push_back(r);
    }
    if (zones && r < zones->pooled.size() && zones->pooled[r].slot >= 0) {
      b.slot = zones->pooled[r].slot;
      b.zone = zones->pooled[r].zone;
    }
    bindings_.push_back(b);
  }
}

}  // namespace understudy::failover
