// Pool policies, when_all_down rules and TTL selection, as a table over endpoint health.
#include "understudy/failover/policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace understudy::failover {
namespace {

using Mode = zone::RenderedRrset::Mode;

PoolSpec pool(PoolPolicy policy, std::vector<std::pair<std::string, unsigned>> endpoints,
              unsigned max_answers = 8) {
  PoolSpec p;
  p.name = "app";
  p.policy = policy;
  p.max_answers = max_answers;
  for (auto& [address, priority] : endpoints) {
    EndpointSpec e;
    e.address = address;
    e.priority = priority;
    e.check = "web";
    p.endpoints.push_back(e);
  }
  return p;
}

PooledRecordSpec record(WhenAllDown rule = WhenAllDown::kServePrimary, uint16_t type = 1) {
  PooledRecordSpec r;
  r.type = type;
  r.pool = "app";
  r.ttl = 300;
  r.failover_ttl = 30;
  r.when_all_down = rule;
  if (rule == WhenAllDown::kFallback) r.fallback = addressToRdata("192.0.2.99");
  return r;
}

struct Row {
  const char* what;
  PoolPolicy policy;
  std::vector<bool> up;
  WhenAllDown rule;
  Mode mode;
  std::vector<std::string> addresses;
  uint32_t ttl;
  Decision::Kind kind;
};

// Endpoints: .1 and .2 are priority 1, .3 priority 2, .4 priority 3.
const std::vector<std::pair<std::string, unsigned>> kEndpoints = {
    {"192.0.2.1", 1}, {"192.0.2.2", 1}, {"192.0.2.3", 2}, {"192.0.2.4", 3}};

class PolicyTable : public ::testing::TestWithParam<Row> {};

TEST_P(PolicyTable, Renders) {
  const Row& row = GetParam();
  PoolSpec p = pool(row.policy, kEndpoints);
  Decision d;
  zone::RenderedRrset out = render(p, record(row.rule), row.up, &d);
  EXPECT_EQ(out.mode, row.mode);
  EXPECT_EQ(d.kind, row.kind);
  if (row.mode == Mode::kAnswer) {
    std::vector<std::string> expected_rdata;
    for (const auto& a : row.addresses) expected_rdata.push_back(addressToRdata(a));
    EXPECT_EQ(out.rrset.rdatas.strings(), expected_rdata);
    EXPECT_EQ(out.rrset.ttl, row.ttl);
    EXPECT_EQ(d.ttl, row.ttl);
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, PolicyTable,
                         ::testing::Values(Row{"priority_all_up_primary_tier",
                                               PoolPolicy::kPriority,
                                               {1, 1, 1, 1},
                                               WhenAllDown::kServePrimary,
                                               Mode::kAnswer,
                                               {"192.0.2.1", "192.0.2.2"},
                                               300,
                                               Decision::Kind::kPrimary},
                                           Row{"priority_one_primary_down_keeps_tier",
                                               PoolPolicy::kPriority,
                                               {0, 1, 1, 1},
                                               WhenAllDown::kServePrimary,
                                               Mode::kAnswer,
                                               {"192.0.2.2"},
                                               300,
                                               Decision::Kind::kPrimary},
                                           Row{"priority_primary_tier_down_fails_over",
                                               PoolPolicy::kPriority,
                                               {0, 0, 1, 1},
                                               WhenAllDown::kServePrimary,
                                               Mode::kAnswer,
                                               {"192.0.2.3"},
                                               30,
                                               Decision::Kind::kFailover},
                                           Row{"priority_skips_to_third_tier",
                                               PoolPolicy::kPriority,
                                               {0, 0, 0, 1},
                                               WhenAllDown::kServePrimary,
                                               Mode::kAnswer,
                                               {"192.0.2.4"},
                                               30,
                                               Decision::Kind::kFailover},
                                           Row{"all_down_serve_primary_fails_open",
                                               PoolPolicy::kPriority,
                                               {0, 0, 0, 0},
                                               WhenAllDown::kServePrimary,
                                               Mode::kAnswer,
                                               {"192.0.2.1", "192.0.2.2"},
                                               30,
                                               Decision::Kind::kAllDown},
                                           Row{"all_down_serve_all",
                                               PoolPolicy::kPriority,
                                               {0, 0, 0, 0},
                                               WhenAllDown::kServeAll,
                                               Mode::kAnswer,
                                               {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"},
                                               30,
                                               Decision::Kind::kAllDown},
                                           Row{"all_down_nodata",
                                               PoolPolicy::kPriority,
                                               {0, 0, 0, 0},
                                               WhenAllDown::kNoData,
                                               Mode::kNoData,
                                               {},
                                               0,
                                               Decision::Kind::kAllDown},
                                           Row{"all_down_servfail",
                                               PoolPolicy::kPriority,
                                               {0, 0, 0, 0},
                                               WhenAllDown::kServFail,
                                               Mode::kServFail,
                                               {},
                                               0,
                                               Decision::Kind::kAllDown},
                                           Row{"all_down_fallback",
                                               PoolPolicy::kPriority,
                                               {0, 0, 0, 0},
                                               WhenAllDown::kFallback,
                                               Mode::kAnswer,
                                               {"192.0.2.99"},
                                               30,
                                               Decision::Kind::kAllDown},
                                           Row{"policy_all_everything_up",
                                               PoolPolicy::kAll,
                                               {1, 1, 1, 1},
                                               WhenAllDown::kServePrimary,
                                               Mode::kAnswer,
                                               {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"},
                                               300,
                                               Decision::Kind::kPrimary},
                                           Row{"policy_all_drops_the_unhealthy",
                                               PoolPolicy::kAll,
                                               {1, 0, 1, 1},
                                               WhenAllDown::kServePrimary,
                                               Mode::kAnswer,
                                               {"192.0.2.1", "192.0.2.3", "192.0.2.4"},
                                               30,
                                               Decision::Kind::kFailover}),
                         [](const auto& info) { return std::string(info.param.what); });

TEST(Policy, MaxAnswersCapsTheAnswer) {
  PoolSpec p = pool(PoolPolicy::kAll, kEndpoints, 2);
  auto out = render(p, record(), {1, 1, 1, 1});
  EXPECT_EQ(out.rrset.rdatas.size(), 2u);
}

TEST(Policy, AaaaRecordsUseOnlyIpv6Endpoints) {
  PoolSpec p =
      pool(PoolPolicy::kPriority, {{"192.0.2.1", 1}, {"2001:db8::1", 1}, {"2001:db8::2", 2}});
  Decision d;
  auto out = render(p, record(WhenAllDown::kServePrimary, 28), {1, 0, 1}, &d);
  ASSERT_EQ(out.rrset.rdatas.size(), 1u);
  EXPECT_EQ(out.rrset.rdatas[0], addressToRdata("2001:db8::2"));
  EXPECT_EQ(d.kind, Decision::Kind::kFailover);  // the IPv6 primary tier is down
  auto v4 = render(p, record(), {1, 0, 1});
  EXPECT_EQ(v4.rrset.rdatas.strings(), std::vector<std::string>{addressToRdata("192.0.2.1")});
  EXPECT_EQ(v4.rrset.ttl, 300u);
}

TEST(Policy, AddressToRdata) {
  EXPECT_EQ(addressToRdata("192.0.2.1"), std::string("\xc0\x00\x02\x01", 4));
  EXPECT_EQ(addressToRdata("::1").size(), 16u);
  EXPECT_TRUE(addressToRdata("nope").empty());
}

}  // namespace
}  // namespace understudy::failover
