// Override durations on the command line and in `?for=`: "30s", "10m", "2h", "1d", "1w", "1h30m".
// The grammar and the formatter are the common ones (understudy/common/duration.h); the units
// taken here and the range rule are the control endpoint's own.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "understudy/common/duration.h"

namespace understudy::control {

// The longest override expiry accepted: past that, "until cleared" is what is meant.
inline constexpr std::chrono::seconds kMaxOverrideDuration{366 * 24 * 3600};

// Returns nullopt and a reason for anything but one or more <digits><unit> groups (units s, m,
// h, d, w) adding up to between 1 s and kMaxOverrideDuration. Not taken, as they would be
// misread: a bare number (seconds or minutes?), "ms" (an override is not sub-second) and upper
// case ("1M": a month?).
std::optional<std::chrono::seconds> parseDuration(std::string_view text, std::string* error);

// 600 s -> "10m", 5400 s -> "90m", 45 s -> "45s": understudy::durationText.
using understudy::durationText;

}  // namespace understudy::control
