// The immutable, query-ready form of every served zone (DESIGN.md "The data"). Built once per
// config (or health change), published through SnapshotHolder, only read by serving threads.
// Includes the headers of what it is made of (zone.h, rrset.h, rdata_list.h, name_index.h,
// serving_options.h); a file that needs only one of those may include just that one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "understudy/zone/name_index.h"
#include "understudy/zone/rdata_list.h"
#include "understudy/zone/rrset.h"
#include "understudy/zone/serving_options.h"
#include "understudy/zone/zone.h"

namespace understudy::zone {

// Every zone, immutable and shared between snapshots: a health change publishes a new Snapshot
// that points at the same ZoneSet with a new (small) table of rendered slots.
struct ZoneSet {
  std::vector<std::unique_ptr<Zone>> zones;
  struct OriginHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return hashName(s); }
  };
  std::unordered_map<std::string, const Zone*, OriginHash, std::equal_to<>> by_origin;
  // Where each pooled record (indexed by zone::PooledId) was placed: its rendered slot and its
  // zone (an index in `zones`). slot -1: no record of the sources named that PooledId.
  struct PooledSlot {
    int32_t slot = -1;
    uint32_t zone = 0;
  };
  std::vector<PooledSlot> pooled;
  size_t slot_count = 0;  // rendered slots: one per pooled RRset and per `serial: auto` zone

  // The zone with the longest origin that contains `lowered_name`, or nullptr.
  const Zone* findZone(std::string_view lowered_name) const noexcept;
  size_t recordCount() const noexcept;
};

struct Snapshot {
  std::shared_ptr<const ZoneSet> zone_set;
  std::vector<RenderedRrset> rendered;  // indexed by Rrset::slot
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

  // The content to serve for `rrset`: itself when static, else its rendered slot; nullptr when
  // the pooled RRset is currently empty (NODATA). `servfail` is set for kServFail.
  // `negative_ttl_cap` receives the pooled record's TTL when it is empty by rule (nodata), so
  // resolvers do not cache the empty answer longer than they would cache a failover answer.
  const Rrset* resolve(const Rrset* rrset, bool* servfail = nullptr,
                       uint32_t* negative_ttl_cap = nullptr) const noexcept {
    if (!rrset || rrset->slot < 0) return rrset;
    if (static_cast<size_t>(rrset->slot) >= rendered.size()) return nullptr;
    const RenderedRrset& d = rendered[rrset->slot];
    if (d.mode == RenderedRrset::Mode::kAnswer && !d.rrset.rdatas.empty()) return &d.rrset;
    if (d.mode == RenderedRrset::Mode::kServFail && servfail) *servfail = true;
    if (d.mode == RenderedRrset::Mode::kNoData && negative_ttl_cap) *negative_ttl_cap = d.rrset.ttl;
    return nullptr;
  }
};

}  // namespace understudy::zone
