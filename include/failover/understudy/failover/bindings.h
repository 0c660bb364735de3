// The binding table (issue 13): for every pooled record of a Plan, what failover needs to render
// and publish it: its spec (address family, TTLs, all-down rule), its pool, the rendered slot
// zone::compile gave it and its zone. Built once per configuration; the one place where the
// plan's pooled records meet the compiled zones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "understudy/failover/plan.h"
#include "understudy/zone/snapshot.h"

namespace understudy::failover {

struct Binding {
  static constexpr size_t kNone = ~size_t{0};
  const PooledRecordSpec* spec = nullptr;
  size_t pool = kNone;  // index in Plan::pools; kNone when the plan has no such pool
  int32_t slot = -1;    // rendered slot; -1 when the compiled zones have no RRset for it
  size_t zone = kNone;  // index in the compiled zones; kNone with slot -1

  // Both ends exist: the record can be rendered and served.
  bool bound() const { return pool != kNone && slot >= 0; }
};

class BindingTable {
 public:
  BindingTable() = default;
  // `zones` may be null (a plan checked without zones): nothing is bound then.
  BindingTable(const Plan& plan, const zone::ZoneSet* zones);

  // Indexed like Plan::pool_records.
  size_t size() const { return bindings_.size(); }
  const Binding& operator[](size_t record) const { return bindings_[record]; }
  auto begin() const { return bindings_.begin(); }
  auto end() const { return bindings_.end(); }
  // The pooled records that answer from pool `pool`, in plan order.
  const std::vector<size_t>& recordsOfPool(size_t pool) const { return by_pool_[pool]; }

 private:
  std::vector<Binding> bindings_;
  std::vector<std::vector<size_t>> by_pool_;
};

}  // namespace understudy::failover
