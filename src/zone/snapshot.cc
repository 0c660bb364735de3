#include "understudy/zone/snapshot.h"

#include <cstring>

namespace understudy::zone {

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
