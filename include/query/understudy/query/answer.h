// The answer engine: request bytes + snapshot -> response bytes. Pure: no sockets, no clock, no
// allocation, no exceptions; UDP and TCP servers and the unit tests all call the same function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "understudy/zone/snapshot.h"

namespace understudy::query {

enum class Transport : uint8_t { kUdp, kTcp };

// Buffer size that always suffices for `out`.
inline constexpr size_t kMaxResponseSize = 65535;

// Writes the response into `out` and returns its length, or 0 when the request must be dropped
// (shorter than a header, or itself a response). `snapshot` may be null (nothing loaded yet):
// every query is then REFUSED.
// What was answered, for counters (filled when `info` is given and the request was not dropped).
struct AnswerInfo {
  uint16_t qtype = 0;  // 0 when the question could not be parsed
  uint16_t rcode = 0;  // extended (BADVERS = 16)
  bool truncated = false;
};

size_t answer(std::span<const uint8_t> request, const zone::Snapshot* snapshot, Transport transport,
              std::span<uint8_t> out, AnswerInfo* info = nullptr) noexcept;

}  // namespace understudy::query
