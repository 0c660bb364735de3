// The binding table: each pooled record of a plan meets the rendered slot zone::compile gave it,
// its zone and its pool. Built by hand (no YAML): a Plan and zone sources as values.
#include "understudy/failover/bindings.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "understudy/failover/controller.h"
#include "understudy/zone/compile.h"

namespace understudy::failover {
namespace {

using namespace std::string_literals;

std::string wire(const std::vector<std::string>& labels) {
  std::string out;
  for (const auto& l : labels) {
    out += static_cast<char>(l.size());
    out += l;
  }
  out += '\0';
  return out;
}

zone::Record make(const std::string& owner, uint16_t type, const std::string& rdata,
                  std::optional<zone::PooledId> pooled) {
  zone::Record r;
  r.owner = owner;
  r.type = type;
  r.ttl = 300;
  r.rdata = rdata;
  r.pooled = pooled;
  return r;
}

zone::Record soa(const std::string& origin) {
  // MNAME and RNAME as the root name; SERIAL 7, then REFRESH RETRY EXPIRE MINIMUM.
  std::string rdata = "\0\0"s;
  for (uint32_t v : {7u, 3600u, 600u, 86400u, 60u}) {
    for (int shift = 24; shift >= 0; shift -= 8) rdata += static_cast<char>((v >> shift) & 0xff);
  }
  return make(origin, 6, rdata, std::nullopt);
}

zone::Record pooled(const std::string& owner, uint16_t type, uint32_t id) {
  return make(owner, type, "", zone::PooledId{id});
}

zone::Record address(const std::string& owner) {
  return make(owner, 1, "\xc0\x00\x02\x01"s, std::nullopt);
}

EndpointSpec endpoint(const std::string& address, unsigned priority) {
  EndpointSpec e;
  e.address = address;
  e.probe_address = address;
  e.priority = priority;
  return e;  // no check: always healthy
}

PooledRecordSpec record(const std::string& zone, const std::string& owner, uint16_t type,
                        const std::string& pool) {
  PooledRecordSpec r;
  r.zone = zone;
  r.owner = owner;
  r.type = type;
  r.pool = pool;
  return r;
}

struct Fixture {
  std::string a = wire({"a", "test"});
  std::string b = wire({"b", "test"});
  Plan plan;
  std::vector<zone::ZoneSource> zones;

  Fixture() {
    PoolSpec web;
    web.name = "web";
    web.endpoints = {endpoint("192.0.2.1", 1), endpoint("2001:db8::1", 1)};
    PoolSpec api;
    api.name = "api";
    api.endpoints = {endpoint("192.0.2.9", 1)};
    plan.pools = {web, api};
    // Record 0 and 1 in zone a (A and AAAA of web), record 2 in zone b (api); record 3 names a
    // pool the plan lacks, record 4 has no RRset in any zone.
    plan.pool_records = {record(a, wire({"www", "a", "test"}), 1, "web"),
                         record(a, wire({"www", "a", "test"}), 28, "web"),
                         record(b, wire({"api", "b", "test"}), 1, "api"),
                         record(b, wire({"old", "b", "test"}), 1, "gone"),
                         record(b, wire({"lost", "b", "test"}), 1, "api")};
    zone::ZoneSource za;
    za.origin = a;
    za.serial_auto = true;
    za.records = {soa(a), address(wire({"static", "a", "test"})),
                  pooled(wire({"www", "a", "test"}), 28, 1),
                  pooled(wire({"www", "a", "test"}), 1, 0)};
    zone::ZoneSource zb;
    zb.origin = b;
    zb.records = {soa(b), pooled(wire({"old", "b", "test"}), 1, 3),
                  pooled(wire({"api", "b", "test"}), 1, 2)};
    zones = {za, zb};
  }
};

TEST(BindingTable, BindsEveryPooledRecordToItsSlotZoneAndPool) {
  Fixture f;
  auto snapshot = zone::compile(f.zones, {});
  BindingTable table(f.plan, snapshot->zone_set.get());
  ASSERT_EQ(table.size(), 5u);

  EXPECT_EQ(table[0].pool, 0u);
  EXPECT_EQ(table[1].pool, 0u);
  EXPECT_EQ(table[2].pool, 1u);
  EXPECT_EQ(table[0].zone, 0u);
  EXPECT_EQ(table[1].zone, 0u);
  EXPECT_EQ(table[2].zone, 1u);
  EXPECT_EQ(table[0].spec, &f.plan.pool_records[0]);
  EXPECT_TRUE(table[0].bound() && table[1].bound() && table[2].bound());

  // A missing pool or a missing RRset leaves the record unbound, never pointing elsewhere.
  EXPECT_EQ(table[3].pool, Binding::kNone);
  EXPECT_GE(table[3].slot, 0);
  EXPECT_FALSE(table[3].bound());
  EXPECT_EQ(table[4].slot, -1);
  EXPECT_EQ(table[4].zone, Binding::kNone);
  EXPECT_FALSE(table[4].bound());

  // Each slot is the one the served RRset reads, and no two records share one.
  std::set<int32_t> slots;
  for (size_t r = 0; r < 4; ++r) {
    const Binding& b = table[r];
    const zone::Node* node = snapshot->zones()[b.zone]->find(f.plan.pool_records[r].owner);
    ASSERT_NE(node, nullptr) << r;
    const zone::Rrset* rrset = node->find(f.plan.pool_records[r].type);
    ASSERT_NE(rrset, nullptr) << r;
    EXPECT_EQ(rrset->slot, b.slot) << r;
    slots.insert(b.slot);
  }
  EXPECT_EQ(slots.size(), 4u);
  // The auto-serial SOA of zone a has a slot of its own; zone b's SOA is static.
  const int32_t serial_slot = snapshot->zones()[0]->serial_slot;
  EXPECT_GE(serial_slot, 0);
  EXPECT_EQ(slots.count(serial_slot), 0u);
  EXPECT_EQ(snapshot->zones()[1]->serial_slot, -1);
  EXPECT_EQ(snapshot->rendered.size(), 5u) << "four pooled RRsets and one auto-serial SOA";

  EXPECT_EQ(table.recordsOfPool(0), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(table.recordsOfPool(1), (std::vector<size_t>{2, 4}));
}

TEST(BindingTable, WithoutZonesNothingIsBound) {
  Fixture f;
  BindingTable table(f.plan, nullptr);
  ASSERT_EQ(table.size(), 5u);
  for (const Binding& b : table) EXPECT_FALSE(b.bound());
  EXPECT_EQ(table[0].pool, 0u) << "pools are still resolved";
}

TEST(BindingTable, TheControllerRendersThroughIt) {
  Fixture f;
  auto snapshot = zone::compile(f.zones, {});
  auto plan = std::make_shared<const Plan>(f.plan);
  Controller controller(plan, snapshot);
  auto changes = controller.rerender({0, 1, 2, 3, 4});
  EXPECT_EQ(changes.size(), 3u) << "unbound records are not rendered";
  auto served = controller.snapshot();
  const zone::Rrset* www = served->zones()[0]->find(f.plan.pool_records[0].owner)->find(1);
  const zone::Rrset* answer = served->resolve(www);
  ASSERT_NE(answer, nullptr);
  EXPECT_EQ(answer->rdatas.front(), "\xc0\x00\x02\x01"s);
  const zone::Rrset* v6 =
      served->resolve(served->zones()[0]->find(f.plan.pool_records[1].owner)->find(28));
  ASSERT_NE(v6, nullptr);
  EXPECT_EQ(v6->rdatas.front().size(), 16u);
}

}  // namespace
}  // namespace understudy::failover
