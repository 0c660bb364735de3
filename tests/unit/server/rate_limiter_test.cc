// Rate-limiter settings replaced while serving (a reload changing `server.rrl`).
#include "understudy/server/rate_limiter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace understudy::server {
namespace {

sockaddr_storage peer(const char* address) {
  sockaddr_storage s{};
  auto* sin = reinterpret_cast<sockaddr_in*>(&s);
  sin->sin_family = AF_INET;
  inet_pton(AF_INET, address, &sin->sin_addr);
  return s;
}

RrlConfig on(uint32_t per_second, uint32_t slip = 0) {
  RrlConfig c;
  c.enabled = true;
  c.responses_per_second = per_second;
  c.slip = slip;
  return c;
}

// How many of `n` checks in one second pass.
int passes(RateLimiter& limiter, const char* address, int n, uint32_t second) {
  int passed = 0;
  for (int i = 0; i < n; ++i) {
    passed += limiter.check(peer(address), second) == RateLimiter::Verdict::kPass;
  }
  return passed;
}

TEST(RateLimiter, OffPassesEverything) {
  RateLimiter limiter(RrlConfig{});
  EXPECT_EQ(passes(limiter, "192.0.2.1", 1000, 1), 1000);
  EXPECT_EQ(limiter.limited(), 0u);
}

TEST(RateLimiter, ReconfigureTurnsItOnChangesTheRateAndTurnsItOff) {
  RateLimiter limiter(RrlConfig{});
  EXPECT_EQ(passes(limiter, "192.0.2.1", 100, 1), 100);
  limiter.reconfigure(on(10));
  EXPECT_TRUE(limiter.config().enabled);
  EXPECT_EQ(passes(limiter, "192.0.2.1", 100, 2), 10);
  limiter.reconfigure(on(50));
  EXPECT_EQ(passes(limiter, "192.0.2.1", 100, 3), 50);
  // Exempt prefixes and slip follow too.
  RrlConfig exempt = on(5, 1);
  NetworkPrefix p;
  ASSERT_TRUE(NetworkPrefix::parse("192.0.2.0/24", &p));
  exempt.exempt.push_back(p);
  limiter.reconfigure(exempt);
  EXPECT_EQ(passes(limiter, "192.0.2.1", 100, 4), 100);
  EXPECT_EQ(limiter.check(peer("198.51.100.1"), 4), RateLimiter::Verdict::kPass);
  for (int i = 0; i < 4; ++i) limiter.check(peer("198.51.100.1"), 4);
  EXPECT_EQ(limiter.check(peer("198.51.100.1"), 4), RateLimiter::Verdict::kSlip);
  limiter.reconfigure(RrlConfig{});
  EXPECT_FALSE(limiter.config().enabled);
  EXPECT_EQ(passes(limiter, "198.51.100.1", 100, 4), 100);
}

// Serving threads check while the control thread swaps the settings: every check sees one
// whole set of settings (here: either off, or on at 1 per second, never a mix).
TEST(RateLimiter, SettingsSwapWhileThreadsCheck) {
  RateLimiter limiter(RrlConfig{});
  std::atomic<bool> stop{false};
  std::atomic<long> checks{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string address = "10.0." + std::to_string(t) + ".1";
      uint32_t second = 0;
      while (!stop) {
        limiter.check(peer(address.c_str()), ++second);
        ++checks;
      }
    });
  }
  for (int i = 0; i < 2000; ++i) limiter.reconfigure(i % 2 ? on(1, 2) : RrlConfig{});
  while (checks < 100000) std::this_thread::yield();
  stop = true;
  for (auto& t : threads) t.join();
  limiter.reconfigure(on(1));
  EXPECT_EQ(passes(limiter, "10.9.9.9", 10, 1u << 20), 1);
}

}  // namespace
}  // namespace understudy::server
