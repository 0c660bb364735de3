#include "understudy/zone/snapshot.h"

#include <algorithm>

namespace understudy::zone {

std::string_view RdataList::operator[](size_t i) const noexcept {
  auto it = begin();
  while (i-- > 0) ++it;
  return *it;
}

std::vector<std::string> RdataList::strings() const {
  std::vector<std::string> out;
  out.reserve(size());
  for (std::string_view rdata : *this) out.emplace_back(rdata);
  return out;
}

void appendPacked(std::string& packed, std::string_view rdata) {
  packed.push_back(static_cast<char>(rdata.size() >> 8));
  packed.push_back(static_cast<char>(rdata.size() & 0xff));
  packed.append(rdata);
}

namespace {

// One TXT character-string (RFC 1035 §3.3.14); empty stays empty (not configured).
std::string txtRdata(std::string_view text) {
  if (text.empty()) return {};
  text = text.substr(0, 255);
  std::string out(1, static_cast<char>(text.size()));
  out.append(text);
  return out;
}

}  // namespace

void ServingOptions::setIdentity(std::string_view identity) {
  identity_txt = txtRdata(identity);
  nsid_option.clear();
  if (identity.empty()) return;
  identity = identity.substr(0, 255);
  // RFC 5001 §2.3: OPTION-CODE 3, OPTION-LENGTH, then the identifier's octets.
  nsid_option = {0, 3, static_cast<char>(identity.size() >> 8),
                 static_cast<char>(identity.size() & 0xff)};
  nsid_option.append(identity);
}

void ServingOptions::setVersion(std::string_view version) {
  version_txt = txtRdata(version);
}

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

const Node* Zone::find(std::string_view lowered_name, uint64_t hash) const noexcept {
  int64_t i = index_.find(
      lowered_name, hash, [this](uint32_t n) { return nodes_[n].owner; }, /*fold=*/true);
  return i < 0 ? nullptr : &nodes_[static_cast<size_t>(i)];
}

size_t Zone::memoryBytes() const noexcept {
  return nodes_.capacity() * sizeof(Node) + names_.capacity() + rrsets_.capacity() * sizeof(Rrset) +
         rdata_.capacity() + index_.memoryBytes();
}

const Zone* ZoneSet::findZone(std::string_view lowered_name) const noexcept {
  // Few zones (the usual case): compare each origin with the tail of the name, no hashing.
  if (zones.size() <= 8) {
    const Zone* best = nullptr;
    for (const auto& z : zones) {
      const std::string& o = z->origin;
      if (o.size() > lowered_name.size() || (best && o.size() <= best->origin.size())) continue;
      size_t start = lowered_name.size() - o.size();
      if (std::memcmp(lowered_name.data() + start, o.data(), o.size()) != 0) continue;
      // The tail must start at a label boundary: walk the labels from the front.
      size_t pos = 0;
      while (pos < start) pos += 1 + static_cast<uint8_t>(lowered_name[pos]);
      if (pos == start) best = z.get();
    }
    return best;
  }
  // Longest match first: the query name itself, then each parent down to the root.
  std::string_view name = lowered_name;
  while (!name.empty()) {
    auto it = by_origin.find(name);
    if (it != by_origin.end()) return it->second;
    if (name.size() == 1) break;
    name = name.substr(1 + static_cast<uint8_t>(name[0]));
  }
  return nullptr;
}

size_t ZoneSet::recordCount() const noexcept {
  size_t n = 0;
  for (const auto& z : zones) n += z->record_count;
  return n;
}

}  // namespace understudy::zone
