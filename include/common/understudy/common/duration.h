// Durations as operators write them: "30s", "10m", "1h30m", "500ms", and where allowed a bare
// number of seconds. One grammar and one formatter for every place that reads or shows one (config
// durations and TTLs, zone-file TTLs, override `?for=` and `ctl --for`, log lines). Each place
// says which units and forms it takes (DurationSyntax) and judges the range itself, so its
// bounds and its messages stay its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace understudy {

namespace duration_unit {
inline constexpr unsigned kMilliseconds = 1u << 0;  // "ms"
inline constexpr unsigned kSeconds = 1u << 1;       // "s"
inline constexpr unsigned kMinutes = 1u << 2;       // "m"
inline constexpr unsigned kHours = 1u << 3;         // "h"
inline constexpr unsigned kDays = 1u << 4;          // "d"
inline constexpr unsigned kWeeks = 1u << 5;         // "w"
}  // namespace duration_unit

// What one place accepts: one or more <digits><unit> groups ("1h30m"), plus these.
struct DurationSyntax {
  unsigned units = 0;             // duration_unit bits
  bool bare_seconds = false;      // "300" alone is 300 s
  bool trailing_seconds = false;  // "1h30" is 1h30s: a last number without a unit (BIND)
  bool any_case = false;          // "1H30M" (BIND master files)
  unsigned max_digits = 19;       // in one number; more is kTooManyDigits (19 never overflows)
};

enum class DurationError : uint8_t {
  kNone,
  kEmpty,           // ""
  kExpectedNumber,  // a group does not start with a digit: "m", "-5m", "1hh"
  kMissingUnit,     // a number without a unit where one is needed: "10", "1h30"
  kUnknownUnit,     // a character that is not one of the accepted units: "10x", "10 m", "5ms"
  kTooManyDigits,   // a number longer than max_digits
};

// Values this large or larger are all the same to every range check; sums stop here rather than
// overflow.
inline constexpr std::chrono::milliseconds kDurationCap{int64_t{1} << 62};

struct DurationParse {
  DurationError error = DurationError::kNone;
  std::chrono::milliseconds value{0};  // kNone: the sum, at most kDurationCap
  uint64_t number = 0;                 // kMissingUnit: the number written without a unit
  char unit = 0;                       // kUnknownUnit: the first character that is no unit here
  explicit operator bool() const { return error == DurationError::kNone; }
};

// Reads all of `text`; the first problem reading left to right is the one reported.
DurationParse parseDuration(std::string_view text, const DurationSyntax& syntax) noexcept;

// The largest unit that divides it exactly, up to days: 45 s -> "45s", 5400 s -> "90m",
// 86400 s -> "1d", 1500 ms -> "1500ms", 0 -> "0s". Reads back through parseDuration.
std::string durationText(std::chrono::milliseconds d);

}  // namespace understudy
