// One served zone, immutable once built (ZoneBuilder, compile.cc), and its names (Node).
//
// Memory layout: a zone is a handful of flat arrays, not a node-per-allocation map, so a
// million-name zone costs about 180 bytes a name and one hash probe finds a name:
//   nodes_   every name (owners and empty non-terminals), each pointing into
//   names_   their owner names (wire format, case as configured),
//   rrsets_  their RRsets, sorted by type within a node, each pointing into
//   rdata_   packed RDATA: [2-byte length][RDATA] per record, in configuration order;
//   index_   an open-addressing hash table over the lowercased owner names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "understudy/zone/name_index.h"
#include "understudy/zone/rrset.h"

namespace understudy::zone {

struct Node {
  std::string_view owner;          // wire format, case as configured
  std::span<const Rrset> rrsets;   // sorted by type; empty for an empty non-terminal
  const Node* cut = nullptr;       // delegation point at or above this node (never the apex)
  const Node* wildcard = nullptr;  // the "*.<this>" child, if there is one
  bool is_apex = false;

  const Rrset* find(uint16_t type) const noexcept {
    for (const auto& r : rrsets) {
      if (r.type == type) return &r;
      if (r.type > type) break;
    }
    return nullptr;
  }
  bool isDelegation() const noexcept { return cut == this; }
};

class ZoneBuilder;

class Zone {
 public:
  std::string origin;  // wire, lowercased
  const Node* apex = nullptr;
  const Rrset* soa = nullptr;
  uint32_t negative_ttl = 0;  // RFC 2308 §3: min(SOA TTL, SOA MINIMUM)
  int32_t serial_slot = -1;   // >= 0 with `serial: auto`: the SOA's rendered slot
  size_t record_count = 0;

  Zone() = default;
  Zone(const Zone&) = delete;
  Zone& operator=(const Zone&) = delete;

  // `lowered_name` must be lowercased wire format.
  const Node* find(std::string_view lowered_name) const noexcept {
    return find(lowered_name, hashName(lowered_name));
  }
  const Node* find(std::string_view lowered_name, uint64_t hash) const noexcept;
  std::span<const Node> nodes() const noexcept { return nodes_; }
  size_t memoryBytes() const noexcept;

 private:
  friend class ZoneBuilder;
  std::vector<Node> nodes_;
  std::vector<char> names_;
  std::vector<Rrset> rrsets_;
  std::vector<uint8_t> rdata_;
  NameIndex index_;
};

}  // namespace understudy::zone
