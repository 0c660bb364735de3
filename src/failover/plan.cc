#include "understudy/failover/plan.h"

namespace understudy::failover {

const health::CheckSpec* Plan::findCheck(std::string_view name) const {
  for (const auto& c : checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const PoolSpec* Plan::findPool(std::string_view name) const {
  for (const auto& p : pools) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace understudy::failover
