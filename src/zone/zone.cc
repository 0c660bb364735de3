#include "understudy/zone/zone.h"

namespace understudy::zone {

const Node* Zone::find(std::string_view lowered_name, uint64_t hash) const noexcept {
  int64_t i = index_.find(
      lowered_name, hash, [this](uint32_t n) { return nodes_[n].owner; }, /*fold=*/true);
  return i < 0 ? nullptr : &nodes_[static_cast<size_t>(i)];
}

size_t Zone::memoryBytes() const noexcept {
  return nodes_.capacity() * sizeof(Node) + names_.capacity() + rrsets_.capacity() * sizeof(Rrset) +
         rdata_.capacity() + index_.memoryBytes();
}

}  // namespace understudy::zone
