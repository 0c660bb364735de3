// The operator-facing sentences, formed in one place for logs, /status, /explain and webhooks.
#include "understudy/failover/wording.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace understudy::failover {
namespace {

using namespace std::string_literals;

TEST(Wording, DecisionsSayWhatIsAnsweredAndWhy) {
  Decision primary{Decision::Kind::kPrimary, 1, {"192.0.2.10", "192.0.2.11"}, 300};
  EXPECT_EQ(describeDecision(primary), "192.0.2.10, 192.0.2.11 (primary, ttl 300)");
  Decision failover{Decision::Kind::kFailover, 2, {"192.0.2.20"}, 30};
  EXPECT_EQ(describeDecision(failover), "192.0.2.20 (failed over to priority 2, ttl 30)");
  Decision down{Decision::Kind::kAllDown, 0, {}, 30};
  EXPECT_EQ(describeDecision(down), "nothing (all endpoints down, ttl 30)");
}

TEST(Wording, TimesRecordsAndOverrides) {
  const auto t = std::chrono::system_clock::from_time_t(1700000000);  // 22:13:20 UTC
  EXPECT_EQ(clockTime(t), "22:13:20 UTC");
  EXPECT_EQ(describeRecord("\3www\7example\4test\0"s, 28), "www.example.test. AAAA");
  EXPECT_EQ(describeRecord("\3www\7example\4test\0"s, 1), "www.example.test. A");
  Override o;
  o.kind = OverrideKind::kDrain;
  EXPECT_EQ(describeOverride("web", "192.0.2.1", o), "drain on web/192.0.2.1 until cleared");
  o.kind = OverrideKind::kForceDown;
  o.expires = t;
  EXPECT_EQ(describeOverride("web", "192.0.2.1", o),
            "force-down on web/192.0.2.1 until 22:13:20 UTC");
}

}  // namespace
}  // namespace understudy::failover
