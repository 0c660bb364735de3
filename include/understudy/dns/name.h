// Domain names in wire format (RFC 1035 §3.1): a sequence of length-prefixed labels ending in the
// zero-length root label. Names are kept in wire format everywhere; lookups use a lowercased copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace understudy::dns {

// Parses a presentation-format name ("www", "@", "a.example.", "a\.b", "\065") relative to
// `origin` (wire format). Returns the wire name, or nullopt and a reason in `error`.
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
