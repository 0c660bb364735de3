// Helpers shared by the sections of the config loader (private to src/config): numbers, names,
// key paths, the characters a message may show, and the keys of one YAML map.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "understudy/common/diagnostic.h"
#include "understudy/common/duration.h"
#include "understudy/dns/name.h"

namespace understudy::config::detail {

inline constexpr uint64_t kMaxTtl = 2147483647;  // RFC 2181 §8: TTLs are 31-bit
inline constexpr uint32_t kDefaultZoneTtl = 3600;
inline constexpr uint16_t kTypeSoa = 6;
inline constexpr unsigned kMaxThreads = 256;
inline constexpr std::chrono::milliseconds kMinTcpIdle{100};
inline constexpr std::chrono::milliseconds kMaxTcpIdle{3600 * 1000};

// The root name in wire format.
inline const std::string kRootWire(1, '\0');

using dns::lowered;
using dns::nameToText;

// ---- names -------------------------------------------------------------------------------------

// The config's words for a name dns::parseName refuses (see yaml_helpers.cc).
const char* configNameError(dns::NameError error);

// "@" is the origin, names without a trailing dot are relative to it (RFC 1035 §5.1).
std::optional<std::string> nameFromText(std::string_view text, std::string_view origin,
                                        std::string* error);

// ---- scalars -----------------------------------------------------------------------------------

std::optional<uint64_t> parseUnsigned(std::string_view text);

// "-5" and "99999999999999999999" are integers, merely out of range; "5x" is not one.
bool looksLikeInteger(std::string_view text);

// Durations: "500ms", "10s", "2m", "1h", "1h30m", or a bare number of seconds.
inline constexpr DurationSyntax kDurationSyntax{
    .units = duration_unit::kMilliseconds | duration_unit::kSeconds | duration_unit::kMinutes |
             duration_unit::kHours,
    .bare_seconds = true,
};
// TTLs: seconds, or units up to weeks ("5m", "1h30m", "1d"); never ms, a TTL is whole seconds.
inline constexpr DurationSyntax kTtlSyntax{
    .units = duration_unit::kSeconds | duration_unit::kMinutes | duration_unit::kHours |
             duration_unit::kDays | duration_unit::kWeeks,
    .bare_seconds = true,
};

// ---- locations and key paths -------------------------------------------------------------------

std::string formatLocation(const SourceLocation& where);                 // "file:line:column"
std::string joinKey(const std::string& parent, std::string_view child);  // "a.b"
std::string indexKey(const std::string& parent, size_t index);           // "a[3]"

// ---- characters in messages --------------------------------------------------------------------

// A character as it may be shown in a message: never raw, as a control character in a message
// would itself break the log line it is written to.
std::string describeChar(unsigned char c);

// `text` with control characters escaped (\r, \n, \t, \xNN), for quoting in messages.
std::string printable(std::string_view text);

bool isControl(unsigned char c);

// RFC 9110 §5.6.2: a header name is a token.
bool isTokenChar(unsigned char c);

// The first character of `text` that `allowed` refuses, if any.
template <typename Allowed>
std::optional<unsigned char> firstRefused(std::string_view text, Allowed allowed) {
  for (unsigned char c : text) {
    if (!allowed(c)) return c;
  }
  return std::nullopt;
}

// ---- maps --------------------------------------------------------------------------------------

// The values of a YAML map by key, after the keys were checked against the allowed set.
class Fields {
 public:
  // The value, unless the key is absent or was given without a value.
  std::optional<YAML::Node> get(std::string_view key) const {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  // Whether the key was written at all, even if its value was unusable.
  bool given(std::string_view key) const { return given_.count(key) != 0; }
  void set(std::string key, YAML::Node value) { values_.emplace(std::move(key), value); }
  void markGiven(std::string key) { given_.insert(std::move(key)); }

 private:
  std::map<std::string, YAML::Node, std::less<>> values_;
  std::set<std::string, std::less<>> given_;
};

}  // namespace understudy::config::detail
