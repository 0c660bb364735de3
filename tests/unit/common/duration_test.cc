// The one duration grammar and formatter (understudy/common/duration.h). Each place that reads
// durations picks units and forms with a DurationSyntax; the syntaxes here are the ones the config,
// the zone-file reader and the control endpoint use, so a change to what one of them accepts shows
// up here as well as in its own tests.
#include "understudy/common/duration.h"

#include <gtest/gtest.h>

#include <string>

namespace understudy {
namespace {

using namespace std::chrono_literals;
namespace unit = duration_unit;

// The config's durations (check interval, timeouts): ms..h, a bare number is seconds.
constexpr DurationSyntax kConfig{
    .units = unit::kMilliseconds | unit::kSeconds | unit::kMinutes | unit::kHours,
    .bare_seconds = true,
};
// The config's TTLs: s..w, a bare number is seconds.
constexpr DurationSyntax kTtl{
    .units = unit::kSeconds | unit::kMinutes | unit::kHours | unit::kDays | unit::kWeeks,
    .bare_seconds = true,
};
// Zone-file periods, BIND style.
constexpr DurationSyntax kZone{
    .units = unit::kSeconds | unit::kMinutes | unit::kHours | unit::kDays | unit::kWeeks,
    .bare_seconds = true,
    .trailing_seconds = true,
    .any_case = true,
};
// Overrides (`?for=`, `ctl --for`): s..w, units required, at most 9 digits a number.
constexpr DurationSyntax kOverride{
    .units = unit::kSeconds | unit::kMinutes | unit::kHours | unit::kDays | unit::kWeeks,
    .max_digits = 9,
};

// "ok <ms>" or the error's name.
std::string read(std::string_view text, const DurationSyntax& syntax) {
  DurationParse p = parseDuration(text, syntax);
  switch (p.error) {
    case DurationError::kNone:
      return std::string("ok ") + std::to_string(p.value.count());
    case DurationError::kEmpty:
      return "empty";
    case DurationError::kExpectedNumber:
      return "expected number";
    case DurationError::kMissingUnit:
      return std::string("missing unit after ") + std::to_string(p.number);
    case DurationError::kUnknownUnit:
      return std::string("unknown unit '") + p.unit + "'";
    case DurationError::kTooManyDigits:
      return "too many digits";
  }
  return "?";
}

struct Case {
  const char* text;
  std::string config, ttl, zone, override_;
};

TEST(Duration, EachSyntaxTakesWhatItsPlaceTakes) {
  const std::string d = "ok 86400000";
  const Case cases[] = {
      // text        config            ttl               zone              override
      {"30s", "ok 30000", "ok 30000", "ok 30000", "ok 30000"},
      {"1h30m", "ok 5400000", "ok 5400000", "ok 5400000", "ok 5400000"},
      {"300", "ok 300000", "ok 300000", "ok 300000", "missing unit after 300"},
      {"500ms", "ok 500", "expected number", "expected number", "expected number"},
      {"1d", "unknown unit 'd'", d, d, d},
      {"1w", "unknown unit 'w'", "ok 604800000", "ok 604800000", "ok 604800000"},
      {"1H", "unknown unit 'H'", "unknown unit 'H'", "ok 3600000", "unknown unit 'H'"},
      {"1h30", "missing unit after 30", "missing unit after 30", "ok 3630000",
       "missing unit after 30"},
      {"", "empty", "empty", "empty", "empty"},
      {"m", "expected number", "expected number", "expected number", "expected number"},
      {"-5m", "expected number", "expected number", "expected number", "expected number"},
      {"1hh", "expected number", "expected number", "expected number", "expected number"},
      {"10x", "unknown unit 'x'", "unknown unit 'x'", "unknown unit 'x'", "unknown unit 'x'"},
      {"10 m", "unknown unit ' '", "unknown unit ' '", "unknown unit ' '", "unknown unit ' '"},
      {"5msx", "expected number", "expected number", "expected number", "expected number"},
      {"0", "ok 0", "ok 0", "ok 0", "missing unit after 0"},
      {"9999999999s", "ok 9999999999000", "ok 9999999999000", "ok 9999999999000",
       "too many digits"},
      {"99999999999999999999", "too many digits", "too many digits", "too many digits",
       "too many digits"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(read(c.text, kConfig), c.config) << "config '" << c.text << "'";
    EXPECT_EQ(read(c.text, kTtl), c.ttl) << "ttl '" << c.text << "'";
    EXPECT_EQ(read(c.text, kZone), c.zone) << "zone '" << c.text << "'";
    EXPECT_EQ(read(c.text, kOverride), c.override_) << "override '" << c.text << "'";
  }
}

TEST(Duration, HugeValuesSaturateInsteadOfWrapping) {
  // 19 nines of weeks is far past 2^64 ms; the sum stops at the cap, which every range refuses.
  EXPECT_EQ(parseDuration("9999999999999999999w", kTtl).value, kDurationCap);
  EXPECT_EQ(parseDuration("9999999999999999999", kTtl).value, kDurationCap);
  EXPECT_EQ(parseDuration("4611686018427387w4611686018427387w", kTtl).value, kDurationCap);
  // Just under the cap is exact.
  EXPECT_EQ(parseDuration("4611686018427387903ms", kConfig).value.count(), (int64_t{1} << 62) - 1);
}

TEST(Duration, TextUsesTheLargestExactUnit) {
  EXPECT_EQ(durationText(0ms), "0s");
  EXPECT_EQ(durationText(10ms), "10ms");
  EXPECT_EQ(durationText(1500ms), "1500ms");
  EXPECT_EQ(durationText(45s), "45s");
  EXPECT_EQ(durationText(600s), "10m");
  EXPECT_EQ(durationText(5400s), "90m");
  EXPECT_EQ(durationText(1h), "1h");
  EXPECT_EQ(durationText(25h), "25h");
  EXPECT_EQ(durationText(24h), "1d");  // was "24h" in the failover log lines and the config
  EXPECT_EQ(durationText(std::chrono::seconds(366 * 86400)), "366d");
  EXPECT_EQ(durationText(std::chrono::seconds(14 * 86400)), "14d");  // never weeks
}

TEST(Duration, TextReadsBack) {
  const DurationSyntax all{.units = unit::kMilliseconds | unit::kSeconds | unit::kMinutes |
                                    unit::kHours | unit::kDays | unit::kWeeks};
  for (std::chrono::milliseconds d :
       {1ms, 999ms, 1000ms, 61000ms, 3600000ms, 90000000ms, 86400000ms, 31622400000ms}) {
    EXPECT_EQ(parseDuration(durationText(d), all).value, d) << durationText(d);
  }
}

}  // namespace
}  // namespace understudy
