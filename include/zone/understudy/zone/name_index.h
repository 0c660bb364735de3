// The hash table a zone finds its names with: hashName() and NameIndex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace understudy::zone {

// Hash of a wire-format name (already lowercased by the caller when used as a key).
uint64_t hashName(std::string_view wire) noexcept;

// Open addressing over names: each slot holds the high 32 bits of the name's hash and the
// element's index + 1 (0 = empty). Capacity is a power of two, at least twice the element count.
class NameIndex {
 public:
  void reset(size_t expected);
  // The element whose lowercased name equals `lowered`, or -1. `nameOf(i)` gives element i's
  // name; `fold` says whether that name must be lowercased to compare.
  template <typename NameOf>
  int64_t find(std::string_view lowered, uint64_t hash, NameOf&& nameOf, bool fold) const noexcept;
  // Inserts element `index` (not checked for duplicates). Grows when over half full.
  template <typename NameOf>
  void insert(uint64_t hash, uint32_t index, NameOf&& nameOf);
  size_t memoryBytes() const noexcept { return slots_.capacity() * sizeof(uint64_t); }

 private:
  static bool sameName(std::string_view lowered, std::string_view stored, bool fold) noexcept;
  std::vector<uint64_t> slots_;
  size_t used_ = 0;
};

// ---------------------------------------------------------------------------------------------

inline bool NameIndex::sameName(std::string_view lowered, std::string_view stored,
                                bool fold) noexcept {
  if (lowered.size() != stored.size()) return false;
  if (!fold) return std::memcmp(lowered.data(), stored.data(), lowered.size()) == 0;
  for (size_t i = 0; i < lowered.size(); ++i) {
    uint8_t c = static_cast<uint8_t>(stored[i]);
    if (c >= 'A' && c <= 'Z') c = static_cast<uint8_t>(c + 32);
    if (c != static_cast<uint8_t>(lowered[i])) return false;
  }
  return true;
}

template <typename NameOf>
int64_t NameIndex::find(std::string_view lowered, uint64_t hash, NameOf&& nameOf,
                        bool fold) const noexcept {
  if (slots_.empty()) return -1;
  const size_t mask = slots_.size() - 1;
  const uint64_t tag = hash >> 32;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    uint64_t s = slots_[i];
    if (s == 0) return -1;
    if ((s >> 32) == tag) {
      uint32_t index = static_cast<uint32_t>(s) - 1;
      if (sameName(lowered, nameOf(index), fold)) return index;
    }
  }
}

template <typename NameOf>
void NameIndex::insert(uint64_t hash, uint32_t index, NameOf&& nameOf) {
  if ((used_ + 1) * 2 > slots_.size()) {
    std::vector<uint64_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, 0);
    const size_t mask = slots_.size() - 1;
    for (uint64_t s : old) {
      if (s == 0) continue;
      // The low bits of the hash are not stored: recompute them from the element's name.
      uint64_t h = hashName(nameOf(static_cast<uint32_t>(s) - 1));
      size_t i = h & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = (hash >> 32) << 32 | (static_cast<uint64_t>(index) + 1);
  ++used_;
}

}  // namespace understudy::zone
