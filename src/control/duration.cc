#include "duration.h"

#include <cstdint>

namespace understudy::control {

std::optional<std::chrono::seconds> parseDuration(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<std::chrono::seconds> {
    if (error) *error = "invalid duration '" + std::string(text) + "': " + why;
    return std::nullopt;
  };
  if (text.empty()) return fail("empty (expected e.g. 30s, 10m, 2h)");
  uint64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    uint64_t n = 0;
    size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + static_cast<uint64_t>(text[i] - '0');
      ++i;
      if (++digits > 9) return fail("number too large");
    }
    if (digits == 0) return fail("expected a number (e.g. 30s, 10m, 2h)");
    if (i == text.size())
      return fail("missing unit after " + std::to_string(n) + " (s, m, h or d)");
    uint64_t unit = 0;
    switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        return fail(std::string("unknown unit '") + text[i] + "' (s, m, h or d)");
    }
    ++i;
    total += n * unit;
    if (total > static_cast<uint64_t>(kMaxOverrideDuration.count())) {
      return fail("longer than " + durationText(kMaxOverrideDuration));
    }
  }
  if (total == 0) return fail("must be at least 1s");
  return std::chrono::seconds(total);
}

std::string durationText(std::chrono::seconds d) {
  auto s = d.count();
  if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

}  // namespace understudy::control
