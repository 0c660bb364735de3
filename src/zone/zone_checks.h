// The checks of one zone entry or one record alone, whatever the other records are: compile()
// (compile.cc) makes them as it builds, checkSources() (zone_checks.cc) before anything is built.
// Private to src/zone.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "understudy/common/diagnostic.h"
#include "understudy/zone/record.h"

namespace understudy::zone::detail {

// A problem with the record `r`, at its config key.
Diagnostic at(const Record& r, std::string message);

// Appends `d` to `errors` unless it repeats the last one: a record of a YAML entry with several
// values is several Records with one owner and one type, and a mistake in those is the entry's,
// reported once.
void report(std::vector<Diagnostic>& errors, Diagnostic d);

// The owner of `r` is not at or below its zone. `zone_text`: the zone's origin in presentation
// format.
Diagnostic outsideZone(const Record& r, const std::string& zone_text);

// What the record's type and TTL allow, whatever the other records are.
std::optional<Diagnostic> contentProblem(const Record& r);

// `src` names the same zone as `first`, defined before it.
Diagnostic duplicateZone(const ZoneSource& src, const ZoneSource& first);

}  // namespace understudy::zone::detail
