#include "understudy/zone/snapshot.h"

#include <functional>

namespace understudy::zone {

size_t WireNameHash::operator()(std::string_view s) const noexcept {
  return std::hash<std::string_view>{}(s);
}

const Zone* ZoneSet::findZone(std::string_view lowered_name) const noexcept {
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
