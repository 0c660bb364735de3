// Domain names in wire format (RFC 1035 §3.1): a sequence of length-prefixed labels ending in the
// zero-length root label. Names are kept in wire format everywhere; lookups use a lowercased copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace understudy::dns {

// Why a name in presentation format was refused.
enum class NameError : uint8_t {
  kNone,
  kEmpty,              // ""
  kNoOrigin,           // a relative name or "@", and no origin to complete it
  kEmptyLabel,         // "a..b", ".a"
  kLabelTooLong,       // a label of more than 63 octets (RFC 1035 §2.3.4)
  kNameTooLong,        // more than 255 octets in wire format, the origin included
  kBadEscape,          // "\1x", "\300": \DDD is exactly three digits, 000..255
  kDanglingBackslash,  // a backslash at the very end
  kWhitespace,         // an unescaped space, tab, CR, LF or NUL
};

// "empty label", "label longer than 63 octets", ...: the words the zone-file reader and the
// control API use. (The YAML config words some of them as ldns did; see
// src/config/yaml_helpers.cc.)
const char* nameErrorText(NameError error) noexcept;

// The one parser of names in presentation format (RFC 1035 §5.1), for the config, zone files and
// the control API alike:
// - "@" is `origin` and "." the root; a name ending in an unescaped dot is absolute, any other
//   is relative to `origin` (wire format). With an empty `origin`, relative names and "@" are
//   refused.
// - "\X" is the character X (even a dot, a backslash or a space); "\DDD" is the octet DDD.
// - An unescaped space, tab, CR, LF or NUL is refused: a zone file's tokenizer never passes one,
//   and in YAML or a URL it is a typo (a trailing space of an unclosed quote) to be shown.
// - Labels are 1..63 octets and the whole name at most 255 (RFC 1035 §2.3.4); the first of
//   these problems reading left to right is the one reported.
// - Case is kept as written (RFC 4343 §4.1); compare with lowered().
// Writes the wire name (at most kMaxNameLength octets) to `out` and its length to `out_len`.
// No allocation: the zone-file reader calls this for every name of a zone.
NameError parseName(std::string_view text, std::string_view origin, uint8_t* out,
                    size_t* out_len) noexcept;

// parseName() into a string. nullopt with nameErrorText() in `error` when it is refused.
std::optional<std::string> nameFromText(std::string_view text, std::string_view origin,
                                        std::string* error = nullptr);

// Presentation format with a trailing dot, escaping as RFC 4343 / RFC 1035 §5.1 require.
std::string nameToText(std::string_view wire);

// ASCII lowercase; DNS names compare case-insensitively (RFC 4343).
inline uint8_t lowerByte(uint8_t c) noexcept {
  return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}
void lowerInPlace(char* data, size_t len) noexcept;
std::string lowered(std::string_view wire);

// True if `name` equals `zone` or is below it. Both wire format, already lowercased.
bool isSubdomain(std::string_view name, std::string_view zone) noexcept;

// Number of labels, not counting the root.
int labelCount(std::string_view wire) noexcept;

// The name with its first label removed; the root stays the root.
inline std::string_view parentName(std::string_view wire) noexcept {
  if (wire.size() <= 1) return wire;
  return wire.substr(1 + static_cast<uint8_t>(wire[0]));
}

// Validates a wire name held in a string (labels <= 63, total <= 255, ends with the root).
bool isValidWireName(std::string_view wire) noexcept;

// Reads a possibly compressed name from a message starting at `offset`. Writes the uncompressed
// wire name (at most 255 octets) to `out`, its length to `out_len`, and the offset just past the
// name's encoding at `offset` to `next`. Rejects pointer loops, forward pointers, labels > 63,
// names > 255 and reads past `len`.
bool readName(const uint8_t* msg, size_t len, size_t offset, uint8_t* out, size_t* out_len,
              size_t* next) noexcept;

}  // namespace understudy::dns
