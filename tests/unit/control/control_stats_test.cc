// Refusals by the control endpoint: counted every time, logged once per interval and client
// address with a count (issue 12: 1,000 bad requests wrote 7.1 MB of log in 0.15 s).
#include "control_stats.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "prometheus.h"

namespace understudy::control {
namespace {

using namespace std::chrono_literals;
using Clock = ControlStats::Clock;

// Captures what spdlog's default logger writes, one message per line, while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%l %v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }

  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(ControlStats, AThousandRefusalsFromOneAddressAreTwoLinesWithTheCount) {
  LogCapture log;
  ControlStats stats(10s);
  const Clock::time_point t0{};
  for (int i = 0; i < 1000; ++i) {
    stats.refuse(
        Refusal::kUnauthorized, "192.0.2.7",
        "401 for POST /reload from 192.0.2.7:" + std::to_string(40000 + i) + ": wrong bearer token",
        t0 + std::chrono::milliseconds(i));
  }
  EXPECT_EQ(stats.refused(Refusal::kUnauthorized), 1000u);
  EXPECT_EQ(log.lines(), (std::vector<std::string>{
                             "warning control: 401 for POST /reload from 192.0.2.7:40000: wrong "
                             "bearer token"}));
  stats.report(t0 + 9s);  // the interval has not ended
  EXPECT_EQ(log.lines().size(), 1u);
  stats.report(t0 + 10s);
  ASSERT_EQ(log.lines().size(), 2u);
  EXPECT_EQ(log.lines()[1],
            "warning control: 192.0.2.7: 999 more 401 responses in the last 10.0 s; the latest: "
            "401 for POST /reload from 192.0.2.7:40999: wrong bearer token");

  // A flood that goes on costs one line per interval...
  stats.refuse(Refusal::kUnauthorized, "192.0.2.7", "401 again", t0 + 11s);
  stats.refuse(Refusal::kUnauthorized, "192.0.2.7", "401 again", t0 + 12s);
  stats.report(t0 + 20s);
  ASSERT_EQ(log.lines().size(), 3u);
  EXPECT_EQ(log.lines()[2],
            "warning control: 192.0.2.7: 2 more 401 responses in the last 10.0 s; the latest: "
            "401 again");
  // ... and after a quiet interval the next refusal is logged at once again.
  stats.report(t0 + 30s);
  EXPECT_EQ(log.lines().size(), 3u);
  stats.refuse(Refusal::kUnauthorized, "192.0.2.7", "401 after a pause", t0 + 31s);
  ASSERT_EQ(log.lines().size(), 4u);
  EXPECT_EQ(log.lines()[3], "warning control: 401 after a pause");
  EXPECT_EQ(stats.refused(Refusal::kUnauthorized), 1003u);
}

TEST(ControlStats, EachAddressAndKindIsLoggedOnItsOwn) {
  LogCapture log;
  ControlStats stats(10s);
  const Clock::time_point t0{};
  stats.refuse(Refusal::kUnauthorized, "192.0.2.7", "401 a", t0);
  stats.refuse(Refusal::kUnauthorized, "192.0.2.8", "401 b", t0);
  stats.refuse(Refusal::kHost, "192.0.2.7", "421 c", t0);
  stats.refuse(Refusal::kPerClient, "192.0.2.7", "cap d", t0);
  stats.refuse(Refusal::kPerClient, "192.0.2.7", "cap e", t0);
  EXPECT_EQ(log.lines(),
            (std::vector<std::string>{"warning control: 401 a", "warning control: 401 b",
                                      "warning control: 421 c", "warning control: cap d"}));
  // At stop, whatever is held back is reported whether or not the interval has ended.
  stats.report(t0 + 1s, true);
  ASSERT_EQ(log.lines().size(), 5u);
  EXPECT_EQ(log.lines()[4],
            "warning control: 192.0.2.7: 1 more connections refused "
            "(control.max_connections_per_client) in the last 1.0 s; the latest: cap e");
  EXPECT_EQ(stats.trackedClients(), 0u);
}

TEST(ControlStats, ManyAddressesShareOneEntryPastTheLimit) {
  LogCapture log;
  ControlStats stats(10s);
  const Clock::time_point t0{};
  const size_t n = ControlStats::kMaxTrackedClients + 500;
  for (size_t i = 0; i < n; ++i) {
    stats.refuse(Refusal::kUnauthorized, "2001:db8::" + std::to_string(i), "401", t0);
  }
  EXPECT_EQ(stats.trackedClients(), ControlStats::kMaxTrackedClients + 1);
  EXPECT_EQ(log.lines().size(), ControlStats::kMaxTrackedClients + 1);
  stats.report(t0 + 10s);
  ASSERT_EQ(log.lines().size(), ControlStats::kMaxTrackedClients + 2);
  EXPECT_EQ(log.lines().back().rfind("warning control: other addresses: 499 more 401 responses", 0),
            0u)
      << log.lines().back();
}

TEST(ControlStats, Metrics) {
  LogCapture log;
  ControlStats stats;
  stats.opened();
  stats.opened();
  stats.closed();
  stats.refuse(Refusal::kGlobal, "192.0.2.1", "full");
  stats.refuse(Refusal::kTimeout, "192.0.2.1", "slow");
  stats.refuse(Refusal::kTimeout, "192.0.2.1", "slow");
  Exposition x;
  stats.writeMetrics(x);
  const std::string& text = x.text();
  for (const char* line :
       {"understudy_control_connections 1\n", "understudy_control_connections_accepted_total 2\n",
        "understudy_control_refused_total{reason=\"global\"} 1\n",
        "understudy_control_refused_total{reason=\"per_client\"} 0\n",
        "understudy_control_refused_total{reason=\"timeout\"} 2\n",
        "understudy_control_refused_total{reason=\"unauthorized\"} 0\n",
        "understudy_control_refused_total{reason=\"host\"} 0\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  }
}

}  // namespace
}  // namespace understudy::control
