#include "understudy/zone/name_index.h"

#include <cstring>

namespace understudy::zone {

uint64_t hashName(std::string_view wire) noexcept {
  // 8 bytes at a time, multiply-xorshift mixing (names are short: 2-4 rounds for most), then a
  // final avalanche so both the slot (low bits) and the tag (high bits) are well spread.
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = wire.size() * kMul;
  const char* p = wire.data();
  size_t n = wire.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * kMul;
  }
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return h;
}

void NameIndex::reset(size_t expected) {
  size_t capacity = 16;
  while (capacity < expected * 2) capacity *= 2;
  slots_.assign(capacity, 0);
  used_ = 0;
}

}  // namespace understudy::zone
