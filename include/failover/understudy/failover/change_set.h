// What one publish changed (issue 13): per zone, the old and the new serial and each pooled RRset
// as it was and as it is. The seam between deciding and publishing: DNSSEC signs exactly these
// RRsets, an IXFR journal keeps them, NOTIFY goes to the secondaries of these zones. Nothing
// downstream diffs whole snapshots.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "understudy/zone/snapshot.h"

namespace understudy::failover {

struct RrsetChange {
  std::string owner;  // wire
  uint16_t type = 0;
  zone::RenderedRrset removed;  // as it was served (mode kNoData with no records: nothing)
  zone::RenderedRrset added;    // as it is served from this publish on
};

struct ZoneChange {
  std::string origin;  // wire, lowercased
  // The SOA serial before and after; equal when the zone's serial is not `auto` (its content
  // still changed: pooled RRsets are served as they are).
  uint32_t old_serial = 0;
  uint32_t new_serial = 0;
  std::vector<RrsetChange> rrsets;
};

struct ChangeSet {
  // The first publish of a configuration (start-up, reload): every zone is new to whoever
  // consumes this, and `zones` lists every zone with pooled records or an auto serial.
  bool full = false;
  std::vector<ZoneChange> zones;
};

}  // namespace understudy::failover
