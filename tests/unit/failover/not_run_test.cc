// End to end within one process: the real TCP prober, the real scheduler and monitor, and a host
// out of descriptors (EMFILE). Probes that cannot start must not fail over a healthy endpoint.
#include <gtest/gtest.h>

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>

#include "../support/descriptors_exhausted.h"
#include "understudy/config/config.h"
#include "understudy/failover/monitor.h"
#include "understudy/health/asio_prober.h"
#include "understudy/health/asio_timer_service.h"
#include "understudy/zone/compile.h"

namespace understudy::failover {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(NotRun, ProbesFailingToStartForLackOfDescriptorsKeepAHealthyEndpointUp) {
  asio::io_context io;
  asio::ip::tcp::acceptor listener(io, {asio::ip::make_address("127.0.0.1"), 0});
  // The backend accepts and closes: healthy for a TCP check.
  std::function<void()> accept = [&] {
    listener.async_accept([&](const boost::system::error_code& ec, asio::ip::tcp::socket) {
      if (!ec) accept();
    });
  };
  accept();
  const std::string yaml = R"(
checks:
  t: { type: tcp, port: )" +
                           std::to_string(listener.local_endpoint().port()) +
                           R"(, interval: 100ms, timeout: 50ms, rise: 1, fall: 1 }
pools:
  app:
    check: t
    endpoints:
      - { address: 192.0.2.10, probe_address: 127.0.0.1, priority: 1 }
      - { address: 192.0.2.20, priority: 2, check: none }
zones:
  - name: n.test
    records: [ { name: app, type: A, pool: app } ]
)";
  auto config = std::make_shared<config::Config>(config::loadString(yaml, "n.yaml"));
  health::AsioTimerService timers(io);
  health::AsioProber prober(io);
  zone::SnapshotHolder holder;
  Monitor monitor(timers, prober, config, zone::compile(config->zones, {}), holder, 1);
  monitor.start();
  auto runFor = [&](std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  };
  runFor(300ms);
  monitor.publish();
  ASSERT_EQ(monitor.endpoints()[0].state, "up");
  uint64_t generation = holder.generation();
  {
    testing::DescriptorsExhausted exhausted;
    if (!exhausted.exhausted()) GTEST_SKIP() << exhausted.whyNot();
    runFor(1000ms);  // about ten probes, each with fall 1 a failover if it counted
  }
  const health::Tracker& tracker = monitor.tracker(0);
  EXPECT_GE(tracker.outcomeCount(health::OutcomeKind::kNotRun), 5u);
  EXPECT_EQ(tracker.outcomeCount(health::OutcomeKind::kConnectFailed), 0u);
  EXPECT_EQ(monitor.endpoints()[0].state, "up");
  EXPECT_TRUE(monitor.endpoints()[0].serving);
  EXPECT_EQ(holder.generation(), generation) << "the answer changed";
  EXPECT_EQ(monitor.transitions(), 0u);
  // Descriptors back: measured again, still up.
  uint64_t ok_before = tracker.outcomeCount(health::OutcomeKind::kOk);
  runFor(300ms);
  EXPECT_GT(tracker.outcomeCount(health::OutcomeKind::kOk), ok_before);
}

}  // namespace
}  // namespace understudy::failover
