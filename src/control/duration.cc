#include "duration.h"

#include <cstdint>

namespace understudy::control {

namespace {

constexpr DurationSyntax kOverrideSyntax{
    .units = duration_unit::kSeconds | duration_unit::kMinutes | duration_unit::kHours |
             duration_unit::kDays | duration_unit::kWeeks,
    .max_digits = 9,
};

}  // namespace

std::optional<std::chrono::seconds> parseDuration(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<std::chrono::seconds> {
    if (error) *error = "invalid duration '" + std::string(text) + "': " + why;
    return std::nullopt;
  };
  const DurationParse parsed = understudy::parseDuration(text, kOverrideSyntax);
  switch (parsed.error) {
    case DurationError::kNone:
      break;
    case DurationError::kEmpty:
      return fail("empty (expected e.g. 30s, 10m, 2h)");
    case DurationError::kExpectedNumber:
      return fail("expected a number (e.g. 30s, 10m, 2h)");
    case DurationError::kMissingUnit:
      return fail("missing unit after " + std::to_string(parsed.number) + " (s, m, h, d or w)");
    case DurationError::kUnknownUnit:
      return fail(std::string("unknown unit '") + parsed.unit + "' (s, m, h, d or w)");
    case DurationError::kTooManyDigits:
      return fail("number too large");
  }
  // Every unit taken here is whole seconds.
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(parsed.value);
  if (seconds > kMaxOverrideDuration)
    return fail("longer than " + durationText(kMaxOverrideDuration));
  if (seconds.count() == 0) return fail("must be at least 1s");
  return seconds;
}

}  // namespace understudy::control
