// System tests: the daemon against the process's open files limit. At start it compares
// RLIMIT_NOFILE with what its configuration may hold open (TCP connections, listeners, probes,
// control), raises the soft limit toward the hard one and says so, or says in words what to raise.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "harness.h"

namespace understudy::systest {
namespace {

// 4000 TCP connections alone are more than a 512 limit allows.
const char* kConfig =
    "server: { listen: [\"127.0.0.1:0\"], threads: 1, tcp_max_connections: 4000 }\n"
    "zones:\n"
    "  - name: limits.test\n"
    "    soa: { mname: ns1.limits.test., rname: hostmaster.limits.test., serial: 1 }\n"
    "    records:\n"
    "      - { name: \"@\", type: NS, value: ns1 }\n"
    "      - { name: ns1, type: A, value: 192.0.2.53 }\n";

class OpenFilesLimit : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandResult which = runCommand({"sh", "-c", "command -v prlimit"});
    if (which.exit_code != 0) GTEST_SKIP() << "prlimit (util-linux) is missing";
    config_ = dir_.write("limits.yaml", kConfig);
  }
  // The daemon under `prlimit --nofile=SOFT:HARD`, until it is ready.
  std::unique_ptr<Process> start(const std::string& limits) {
    auto p = std::make_unique<Process>(std::vector<std::string>{"prlimit", "--nofile=" + limits,
                                                                understudyBinary(), "-c", config_},
                                       dir_.file("understudy-" + limits + ".log"));
    EXPECT_TRUE(p->waitForLogLine("ready:", 10s)) << p->log();
    return p;
  }

  TempDir dir_;
  std::string config_;
};

TEST_F(OpenFilesLimit, ALowHardLimitIsReportedInWordsAndServingGoesOn) {
  auto p = start("512:512");
  std::string log = p->log();
  EXPECT_NE(log.find("open files limit 512 is below the "), std::string::npos) << log;
  EXPECT_NE(log.find("this configuration may need (hard limit 512); raise LimitNOFILE= in the "
                     "unit"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("warning"), std::string::npos) << log;
  EXPECT_EQ(p->stop(), 0) << p->log();
}

TEST_F(OpenFilesLimit, ASoftLimitBelowTheNeedIsRaisedTowardTheHardOne) {
  // Up to the test's own hard limit: raising a hard limit needs privileges.
  rlimit own{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &own), 0);
  if (own.rlim_max < 8192) GTEST_SKIP() << "hard limit " << own.rlim_max << " below 8192";
  auto p = start("512:8192");
  std::string log = p->log();
  EXPECT_NE(log.find("open files limit raised from 512 to "), std::string::npos) << log;
  EXPECT_EQ(log.find("raise LimitNOFILE="), std::string::npos) << log;
  // The running daemon has the new soft limit.
  std::string limits = readFile("/proc/" + std::to_string(p->pid()) + "/limits");
  EXPECT_EQ(limits.find("Max open files            512 "), std::string::npos) << limits;
  EXPECT_NE(limits.find("Max open files            "), std::string::npos) << limits;
  EXPECT_EQ(p->stop(), 0) << p->log();
}

}  // namespace
}  // namespace understudy::systest
