// RLIMIT_NOFILE at start: what a configuration may hold open, how far the soft limit is raised,
// and what the log says when the hard limit is too low. Each test is its own process under
// ctest, so changing this process's limit touches nothing else.
#include "open_files_limit.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace understudy::daemon {
namespace {

config::Config load(const std::string& yaml) {
  return config::loadString(yaml, "open_files_test.yaml");
}

const char* kZone =
    "zones:\n  - name: example.test\n    records:\n"
    "      - { name: \"@\", type: NS, value: ns1 }\n"
    "      - { name: ns1, type: A, value: 192.0.2.53 }\n";

TEST(OpenFilesBudget, CountsConnectionsListenersProbesControlAndWebhooks) {
  std::string yaml =
      "server:\n  listen: [\"127.0.0.1:5300\", \"[::1]:5300\"]\n  threads: 3\n"
      "  tcp_max_connections: 4000\n"
      "control: { listen: \"127.0.0.1:8053\" }\n"
      "notify:\n  - { url: \"http://127.0.0.1:9/a\" }\n  - { url: \"http://127.0.0.1:9/b\" }\n"
      "checks:\n  web: { type: tcp, port: 80, interval: 5s, timeout: 1s }\n"
      "  other: { type: tcp, port: 81, interval: 5s, timeout: 1s }\n"
      "pools:\n"
      "  app:\n    check: web\n    endpoints:\n"
      "      - { address: 192.0.2.1 }\n"
      "      - { address: 192.0.2.2 }\n"
      "      - { address: 192.0.2.3, check: none }\n"
      "  api:\n    check: web\n    endpoints:\n"
      "      - { address: 192.0.2.1 }\n"  // the same target as app's: probed once
      "      - { address: 192.0.2.9, probe_address: 192.0.2.2 }\n"  // so is this one
      "  admin:\n    check: other\n    endpoints:\n"
      "      - { address: 192.0.2.1 }\n" +
      std::string(kZone);
  OpenFilesBudget b = openFilesBudget(load(yaml), 16);
  EXPECT_EQ(b.tcp_connections, 4000u + 3u);
  EXPECT_EQ(b.listeners, 2u * 3u * 2u);
  EXPECT_EQ(b.probes, 3u) << "web/192.0.2.1, web/192.0.2.2, other/192.0.2.1";
  EXPECT_EQ(b.control, 65u);
  EXPECT_EQ(b.webhooks, 2u);
  EXPECT_GT(b.slack, 0u);
  EXPECT_EQ(b.total(),
            b.tcp_connections + b.listeners + b.probes + b.control + b.webhooks + b.slack);
}

TEST(OpenFilesBudget, ThreadsAutoMeansOnePerCoreAndNothingOptionalCostsAnything) {
  std::string yaml = "server:\n  listen: [\"127.0.0.1:5300\"]\n" + std::string(kZone);
  OpenFilesBudget b = openFilesBudget(load(yaml), 4);
  EXPECT_EQ(b.tcp_connections, 1024u + 4u);
  EXPECT_EQ(b.listeners, 2u * 4u);
  EXPECT_EQ(b.probes, 0u);
  EXPECT_EQ(b.control, 0u);
  EXPECT_EQ(b.webhooks, 0u);
}

TEST(OpenFilesBudget, ProbesAreCappedAtWhatTheSchedulerRunsAtOnce) {
  std::string yaml =
      "checks:\n  web: { type: tcp, port: 80, interval: 5s, timeout: 1s }\n"
      "pools:\n  big:\n    check: web\n    endpoints:\n";
  for (int i = 0; i < 2100; ++i) {
    yaml += "      - { address: 10.0." + std::to_string(i / 250) + "." +
            std::to_string(i % 250 + 1) + " }\n";
  }
  yaml += kZone;
  EXPECT_EQ(openFilesBudget(load(yaml), 1).probes, 2048u);
}

TEST(OpenFilesLimit, SoftLimitIsRaisedTowardTheHardOneAndNeverLowered) {
  EXPECT_EQ(softLimitFor(1024, 524288, 4200), 4200u);    // raised as far as needed
  EXPECT_EQ(softLimitFor(1024, 2048, 4200), 2048u);      // up to the hard limit, still short
  EXPECT_EQ(softLimitFor(65536, 524288, 4200), 65536u);  // enough already: left alone
  EXPECT_EQ(softLimitFor(1024, 1024, 4200), 1024u);
  EXPECT_EQ(softLimitFor(1024, RLIM_INFINITY, 4200), 4200u);
}

TEST(OpenFilesLimit, MessagesSayWhatHappenedInWords) {
  OpenFilesLimit short_of{.needed = 4200, .soft_before = 1024, .soft = 1024, .hard = 1024};
  EXPECT_FALSE(short_of.enough());
  EXPECT_EQ(short_of.message(),
            "open files limit 1024 is below the 4200 this configuration may need (hard limit "
            "1024); raise LimitNOFILE= in the unit");
  OpenFilesLimit raised{.needed = 4200, .soft_before = 1024, .soft = 4200, .hard = 524288};
  EXPECT_TRUE(raised.enough());
  EXPECT_TRUE(raised.raised());
  EXPECT_EQ(raised.message(),
            "open files limit raised from 1024 to 4200 for the 4200 this configuration may need");
  OpenFilesLimit fine{.needed = 4200, .soft_before = 65536, .soft = 65536, .hard = 524288};
  EXPECT_FALSE(fine.raised());
  EXPECT_EQ(fine.message(), "open files limit 65536 covers the 4200 this configuration may need");
}

class ProcessLimit : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved_), 0); }
  void TearDown() override { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  void setSoft(rlim_t soft) {
    rlimit l = saved_;
    l.rlim_cur = soft;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &l), 0);
  }
  rlim_t soft() const {
    rlimit l{};
    ::getrlimit(RLIMIT_NOFILE, &l);
    return l.rlim_cur;
  }
  rlimit saved_{};
};

TEST_F(ProcessLimit, RaisesTheSoftLimitAsFarAsNeeded) {
  if (saved_.rlim_max < 1000) GTEST_SKIP() << "hard limit " << saved_.rlim_max << " below 1000";
  setSoft(256);
  OpenFilesLimit l = raiseOpenFilesLimit(1000);
  EXPECT_EQ(l.soft_before, 256u);
  EXPECT_EQ(l.soft, 1000u);
  EXPECT_EQ(soft(), 1000u);
  EXPECT_TRUE(l.enough());
  // Asking for less never lowers it.
  l = raiseOpenFilesLimit(300);
  EXPECT_EQ(soft(), 1000u);
  EXPECT_FALSE(l.raised());
}

TEST_F(ProcessLimit, ShortOfTheHardLimitGoesToItAndSaysSo) {
  if (saved_.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "no hard limit";
  setSoft(std::min<rlim_t>(256, saved_.rlim_max));
  OpenFilesLimit l = raiseOpenFilesLimit(saved_.rlim_max + 1000);
  EXPECT_EQ(soft(), saved_.rlim_max);
  EXPECT_EQ(l.soft, saved_.rlim_max);
  EXPECT_FALSE(l.enough());
  EXPECT_NE(l.message().find("raise LimitNOFILE= in the unit"), std::string::npos);
}

}  // namespace
}  // namespace understudy::daemon
