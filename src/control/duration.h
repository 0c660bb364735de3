// Override durations on the command line and in `?for=`: "30s", "10m", "2h", "1d", "1h30m".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace understudy::control {

// The longest override expiry accepted: past that, "until cleared" is what is meant.
inline constexpr std::chrono::seconds kMaxOverrideDuration{366 * 24 * 3600};

// Returns nullopt and a reason for anything but one or more <digits><unit> groups (units s, m,
// h, d) adding up to between 1 s and kMaxOverrideDuration.
std::optional<std::chrono::seconds> parseDuration(std::string_view text, std::string* error);

// 600 s -> "10m", 5400 s -> "90m", 45 s -> "45s".
std::string durationText(std::chrono::seconds d);

}  // namespace understudy::control
