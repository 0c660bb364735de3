#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "understudy/common/diagnostic.h"
#include "understudy/zone/record.h"
#include "understudy/zone/snapshot.h"

namespace understudy::zone {

// Checks zone semantics and builds the query-ready Snapshot. Throws ConfigError listing every
// problem with its location: a missing or duplicate SOA, CNAME beside other data (RFC 1034 §3.6.2,
// RFC 2181 §10.1), records outside the zone, data occluded by a delegation, duplicate zones,
// TTLs that differ within an RRset (RFC 2181 §5.2). Harmless oddities (duplicate RDATA) are
// returned as warnings.
std::shared_ptr<const Snapshot> compile(const std::vector<ZoneSource>& zones,
                                        const ServingOptions& options,
                                        std::vector<Diagnostic>* warnings = nullptr);

// The checks of compile() that look at one zone entry or one record alone, before any tree is
// built: a zone named twice, an owner outside its zone, a type that cannot be zone data, a TTL
// above 2^31-1. compile() makes them as it builds; the config loader calls this so that they are
// reported beside its own errors, in one pass. Each error once, in configuration order.
std::vector<Diagnostic> checkSources(const std::vector<ZoneSource>& zones);

// Whether records of `type` can be zone data: not 0, OPT or a meta/query type (RFC 6895 §3.1).
bool isDataType(uint16_t type);

}  // namespace understudy::zone
