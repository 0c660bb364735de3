#pragma once

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

}  // namespace understudy::zone
