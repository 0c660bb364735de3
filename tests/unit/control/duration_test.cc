// Override durations: "?for=10m" and `ctl drain --for 10m`.
#include "duration.h"

#include <gtest/gtest.h>

namespace understudy::control {
namespace {

TEST(Duration, AcceptsUnitsAndCombinations) {
  struct Case {
    const char* text;
    long seconds;
  } cases[] = {
      {"30s", 30},     {"10m", 600},  {"2h", 7200},  {"1d", 86400},
      {"1h30m", 5400}, {"90m", 5400}, {"1m30s", 90}, {"0h1s", 1},
  };
  for (const auto& c : cases) {
    std::string error;
    auto d = parseDuration(c.text, &error);
    ASSERT_TRUE(d) << c.text << ": " << error;
    EXPECT_EQ(d->count(), c.seconds) << c.text;
  }
}

TEST(Duration, RejectsWithAReason) {
  struct Case {
    const char* text;
    const char* reason;
  } cases[] = {
      {"", "empty"},
      {"10", "missing unit"},
      {"m", "expected a number"},
      {"10x", "unknown unit 'x'"},
      {"-5m", "expected a number"},
      {"0s", "at least 1s"},
      {"400d", "longer than"},
      {"9999999999s", "too large"},
      {"10 m", "unknown unit ' '"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(parseDuration(c.text, &error)) << c.text;
    EXPECT_NE(error.find(c.reason), std::string::npos) << c.text << ": " << error;
    EXPECT_NE(error.find(std::string("'") + c.text + "'"), std::string::npos) << error;
  }
}

TEST(Duration, TextUsesTheLargestExactUnit) {
  EXPECT_EQ(durationText(std::chrono::seconds(45)), "45s");
  EXPECT_EQ(durationText(std::chrono::seconds(600)), "10m");
  EXPECT_EQ(durationText(std::chrono::seconds(5400)), "90m");
  EXPECT_EQ(durationText(std::chrono::seconds(7200)), "2h");
  EXPECT_EQ(durationText(std::chrono::seconds(172800)), "2d");
}

}  // namespace
}  // namespace understudy::control
