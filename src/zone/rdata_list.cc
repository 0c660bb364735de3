#include "understudy/zone/rdata_list.h"

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

}  // namespace understudy::zone
