// The immutable, query-ready form of every served zone (DESIGN.md "The data"). Built once per
// config (or health change), published through SnapshotHolder, only read by serving threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace understudy::zone {

struct Rrset {
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::vector<std::string> rdatas;  // uncompressed wire RDATA, in configuration order
  int32_t dynamic = -1;             // >= 0: look the content up in Snapshot::dynamic
};

// The current content of a pooled RRset, as decided by the failover controller.
struct DynamicRrset {
  enum class Mode : uint8_t {
    kAnswer,    // serve `rrset`
    kNoData,    // behave as if the RRset did not exist (NODATA)
    kServFail,  // answer SERVFAIL (when_all_down: servfail)
  };
  Mode mode = Mode::kNoData;
  Rrset rrset;
};

struct WireNameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept;
};

struct Node {
  std::string owner;               // wire format, case as configured
  std::vector<Rrset> rrsets;       // sorted by type; empty for an empty non-terminal
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

struct Zone {
  std::string origin;                                                          // wire, lowercased
  std::unordered_map<std::string, Node, WireNameHash, std::equal_to<>> nodes;  // key: lowercased
  const Node* apex = nullptr;
  const Rrset* soa = nullptr;
  uint32_t negative_ttl = 0;  // RFC 2308 §3: min(SOA TTL, SOA MINIMUM)
  int32_t soa_dynamic = -1;   // >= 0 with `serial: auto`: the SOA is rendered per publish
  size_t record_count = 0;

  const Node* find(std::string_view lowered_name) const noexcept {
    auto it = nodes.find(lowered_name);
    return it == nodes.end() ? nullptr : &it->second;
  }
};

struct ServingOptions {
  uint16_t edns_udp_size = 1232;  // the most we send over UDP to an EDNS client
};

// Every zone, immutable and shared between snapshots: a health change publishes a new Snapshot
// that points at the same ZoneSet with a new (small) dynamic table.
struct ZoneSet {
  std::vector<std::unique_ptr<Zone>> zones;
  std::unordered_map<std::string, const Zone*, WireNameHash, std::equal_to<>> by_origin;

  // The zone with the longest origin that contains `lowered_name`, or nullptr.
  const Zone* findZone(std::string_view lowered_name) const noexcept;
  size_t recordCount() const noexcept;
};

struct Snapshot {
  std::shared_ptr<const ZoneSet> zone_set;
  std::vector<DynamicRrset> dynamic;  // indexed by Rrset::dynamic
  ServingOptions options;

  const std::vector<std::unique_ptr<Zone>>& zones() const noexcept { return zone_set->zones; }
  const Zone* findZone(std::string_view lowered_name) const noexcept {
    return zone_set->findZone(lowered_name);
  }
  size_t recordCount() const noexcept { return zone_set->recordCount(); }

  // The SOA to serve for `zone` (its serial may be rendered per publish).
  const Rrset* soa(const Zone& zone) const noexcept {
    const Rrset* r = resolve(zone.soa);
    return r ? r : zone.soa;
  }

  // The content to serve for `rrset`: itself when static, else its dynamic entry; nullptr when
  // the pooled RRset is currently empty (NODATA). `servfail` is set for kServFail.
  // `negative_ttl_cap` receives the pooled record's TTL when it is empty by rule (nodata), so
  // resolvers do not cache the empty answer longer than they would cache a failover answer.
  const Rrset* resolve(const Rrset* rrset, bool* servfail = nullptr,
                       uint32_t* negative_ttl_cap = nullptr) const noexcept {
    if (!rrset || rrset->dynamic < 0) return rrset;
    if (static_cast<size_t>(rrset->dynamic) >= dynamic.size()) return nullptr;
    const DynamicRrset& d = dynamic[rrset->dynamic];
    if (d.mode == DynamicRrset::Mode::kAnswer && !d.rrset.rdatas.empty()) return &d.rrset;
    if (d.mode == DynamicRrset::Mode::kServFail && servfail) *servfail = true;
    if (d.mode == DynamicRrset::Mode::kNoData && negative_ttl_cap) *negative_ttl_cap = d.rrset.ttl;
    return nullptr;
  }
};

}  // namespace understudy::zone
