// Late timer callbacks on the health thread: counted by AsioTimerService, logged rate-limited by
// LateCallbacks (issue 12: a busy thread shows up as such, not as backends timing out).
#include "understudy/health/late_callbacks.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>

#include "../support/log_capture.h"
#include "understudy/health/asio_timer_service.h"

namespace understudy::health {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

size_t countOf(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(TimerLateness, ACallbackHeldUpByABusyThreadIsCounted) {
  test::LogCapture log;
  asio::io_context io;
  AsioTimerService timers(io);
  bool ran = false;
  timers.callAt(timers.now() + 50ms, [&] { ran = true; });
  // A slow handler holds the thread from before the timer is due until 250 ms after.
  asio::post(io, [] { std::this_thread::sleep_for(300ms); });
  io.run();
  EXPECT_TRUE(ran);
  EXPECT_EQ(timers.lateCallbacks(), 1u);
  EXPECT_GE(timers.worstLateness(), 200ms);
  EXPECT_EQ(countOf(log.text(), "health thread: a timer callback ran "), 1u) << log.text();
}

TEST(TimerLateness, OnTimeCallbacksAreNotCounted) {
  asio::io_context io;
  AsioTimerService timers(io);
  int ran = 0;
  for (int i = 1; i <= 5; ++i) {
    timers.callAt(timers.now() + std::chrono::milliseconds(20 * i), [&] { ++ran; });
  }
  io.run();
  EXPECT_EQ(ran, 5);
  EXPECT_EQ(timers.lateCallbacks(), 0u);
  EXPECT_LT(timers.worstLateness(), kLateThreshold);
}

// Driven by hand: the first late callback is logged at once, the next ones within 10 s only as
// one summary line, written by the first callback after the 10 s are up.
TEST(TimerLateness, LogIsRateLimited) {
  test::LogCapture log;
  LateCallbacks late;
  const Clock::time_point t0 = Clock::time_point{} + 1h;
  late.record(t0, t0 + 5ms);
  EXPECT_EQ(log.text(), "");
  late.record(t0 + 1s, t0 + 1s + 1840ms);
  EXPECT_EQ(log.text(),
            "warning health thread: a timer callback ran 1840 ms late (more than 100 ms): the "
            "thread was busy; timeouts judged late are not counted as failures\n");
  late.record(t0 + 4s, t0 + 4s + 200ms);
  late.record(t0 + 6s, t0 + 6s + 300ms);
  late.record(t0 + 12s, t0 + 12s + 1ms);  // 9.16 s since the line: still quiet
  EXPECT_EQ(countOf(log.text(), "\n"), 1u);
  late.record(t0 + 13s, t0 + 13s + 2ms);
  EXPECT_EQ(countOf(log.text(), "\n"), 2u);
  EXPECT_NE(log.text().find("warning health thread: 2 timer callback(s) ran more than 100 ms late "
                            "in the last 10 s (worst 300 ms): the thread was busy; timeouts "
                            "judged late are not counted as failures\n"),
            std::string::npos)
      << log.text();
  late.record(t0 + 30s, t0 + 30s + 1ms);  // nothing new to say
  EXPECT_EQ(countOf(log.text(), "\n"), 2u);
  late.record(t0 + 40s, t0 + 40s + 150ms);  // after a quiet spell: at once again
  EXPECT_EQ(countOf(log.text(), "\n"), 3u);
  EXPECT_NE(log.text().find("a timer callback ran 150 ms late"), std::string::npos);
  EXPECT_EQ(late.lateCallbacks(), 4u);
  EXPECT_EQ(late.worstLateness(), 1840ms);
  // The daemon's own lines are grepped for these; ours must never match.
  for (const char* word : {"reload done", "reload failed", " -> "}) {
    EXPECT_EQ(log.text().find(word), std::string::npos) << word;
  }
}

TEST(TimerLateness, LateTimeoutDetail) {
  EXPECT_EQ(lateTimeoutDetail(1840ms + 400us),
            "timeout judged 1840 ms late (the health thread was busy): not counted");
}

}  // namespace
}  // namespace understudy::health
