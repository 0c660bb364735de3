#include "understudy/common/duration.h"

namespace understudy {

namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

struct Unit {
  std::string_view name;
  unsigned bit;
  uint64_t ms;
};

// "ms" before "m", so that "5ms" is milliseconds wherever they are accepted; where they are not,
// "5ms" reads as five minutes and then an "s" with no number before it.
constexpr Unit kUnits[] = {
    {"ms", duration_unit::kMilliseconds, 1}, {"s", duration_unit::kSeconds, 1000},
    {"m", duration_unit::kMinutes, 60'000},  {"h", duration_unit::kHours, 3'600'000},
    {"d", duration_unit::kDays, 86'400'000}, {"w", duration_unit::kWeeks, 604'800'000},
};

bool unitAt(std::string_view rest, std::string_view name, bool any_case) {
  if (rest.size() < name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = any_case ? lower(rest[i]) : rest[i];
    if (c != name[i]) return false;
  }
  return true;
}

}  // namespace

DurationParse parseDuration(std::string_view text, const DurationSyntax& syntax) noexcept {
  constexpr uint64_t kCap = static_cast<uint64_t>(kDurationCap.count());
  DurationParse result;
  auto fail = [&](DurationError error) {
    result.error = error;
    result.value = std::chrono::milliseconds(0);
    return result;
  };
  if (text.empty()) return fail(DurationError::kEmpty);
  uint64_t total = 0;
  // Both at most kCap (2^62): their sum fits.
  auto add = [&](uint64_t number, uint64_t scale) {
    total += number > kCap / scale ? kCap : number * scale;
    if (total > kCap) total = kCap;
  };
  size_t i = 0;
  bool first = true;
  while (i < text.size()) {
    uint64_t number = 0;
    unsigned digits = 0;
    while (i < text.size() && isDigit(text[i])) {
      if (++digits > syntax.max_digits) return fail(DurationError::kTooManyDigits);
      number = number * 10 + static_cast<uint64_t>(text[i] - '0');
      ++i;
    }
    if (digits == 0) return fail(DurationError::kExpectedNumber);
    if (i == text.size()) {
      if (syntax.trailing_seconds || (syntax.bare_seconds && first)) {
        add(number, 1000);
        break;
      }
      result.number = number;
      return fail(DurationError::kMissingUnit);
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if ((syntax.units & u.bit) && unitAt(text.substr(i), u.name, syntax.any_case)) {
        unit = &u;
        break;
      }
    }
    if (!unit) {
      result.unit = text[i];
      return fail(DurationError::kUnknownUnit);
    }
    i += unit->name.size();
    add(number, unit->ms);
    first = false;
  }
  result.value = std::chrono::milliseconds(static_cast<int64_t>(total));
  return result;
}

std::string durationText(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  if (ms == 0) return "0s";
  // Built with append: GCC 12 at -O3 reports a false -Wrestrict for std::string + "x".
  auto text = [](int64_t n, const char* unit) {
    std::string out = std::to_string(n);
    out += unit;
    return out;
  };
  if (ms % 86'400'000 == 0) return text(ms / 86'400'000, "d");
  if (ms % 3'600'000 == 0) return text(ms / 3'600'000, "h");
  if (ms % 60'000 == 0) return text(ms / 60'000, "m");
  if (ms % 1000 == 0) return text(ms / 1000, "s");
  return text(ms, "ms");
}

}  // namespace understudy
