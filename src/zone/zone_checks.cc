#include "zone_checks.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

#include "understudy/dns/message.h"
#include "understudy/dns/name.h"
#include "understudy/dns/types.h"
#include "understudy/zone/compile.h"

namespace understudy::zone {

namespace detail {

using dns::nameToText;

Diagnostic at(const Record& r, std::string message) {
  return Diagnostic{r.where, r.key, std::move(message)};
}

namespace {

// A problem with the owner or the type of `r`: at that field's own config key when it has one (a
// YAML record's `name:` or `type:`), else at the record.
Diagnostic atField(const Record& r, Record::Mark mark, const char* field, std::string message) {
  if (mark.line == 0) return at(r, std::move(message));
  return Diagnostic{SourceLocation{r.where.file, mark.line, mark.column},
                    r.key.empty() ? std::string() : r.key + "." + field, std::move(message)};
}

}  // namespace

void report(std::vector<Diagnostic>& errors, Diagnostic d) {
  if (!errors.empty()) {
    const Diagnostic& last = errors.back();
    if (last.where.file == d.where.file && last.where.line == d.where.line &&
        last.where.column == d.where.column && last.key == d.key && last.message == d.message) {
      return;
    }
  }
  errors.push_back(std::move(d));
}

Diagnostic outsideZone(const Record& r, const std::string& zone_text) {
  return atField(r, r.name_at, "name",
                 "record owner '" + nameToText(r.owner) + "' is outside zone '" + zone_text + "'");
}

std::optional<Diagnostic> contentProblem(const Record& r) {
  if (!isDataType(r.type)) {
    return atField(r, r.type_at, "type",
                   "type " + typeToText(r.type) + " cannot appear in zone data");
  }
  if (r.ttl > dns::kMaxTtl) {
    return at(r, "TTL " + std::to_string(r.ttl) + " out of range (0..2147483647)");
  }
  return std::nullopt;
}

Diagnostic duplicateZone(const ZoneSource& src, const ZoneSource& first) {
  Diagnostic first_at{first.where, "", ""};
  std::string text = first_at.str();
  text.resize(text.size() - 2);  // drop the ": " before the empty message
  return Diagnostic{
      src.where, src.key,
      "duplicate zone '" + nameToText(src.origin) + "' (first defined at " + text + ")"};
}

}  // namespace detail

std::vector<Diagnostic> checkSources(const std::vector<ZoneSource>& zones) {
  std::vector<Diagnostic> errors;
  std::map<std::string, const ZoneSource*> seen;
  for (const ZoneSource& src : zones) {
    auto [it, inserted] = seen.emplace(src.origin, &src);
    if (!inserted) {
      errors.push_back(detail::duplicateZone(src, *it->second));
      continue;  // as compile(): the records of a zone defined twice are not looked at
    }
    const std::string zone_text = dns::nameToText(src.origin);
    uint8_t owner[dns::kMaxNameLength];
    for (const Record& r : src.records) {
      // Lowercased on the stack: no allocation per record of a big zone.
      const size_t len = std::min(r.owner.size(), sizeof owner);
      std::memcpy(owner, r.owner.data(), len);
      dns::lowerInPlace(reinterpret_cast<char*>(owner), len);
      if (!dns::isSubdomain(std::string_view(reinterpret_cast<const char*>(owner), len),
                            src.origin)) {
        detail::report(errors, detail::outsideZone(r, zone_text));
      } else if (std::optional<Diagnostic> problem = detail::contentProblem(r)) {
        detail::report(errors, std::move(*problem));
      }
    }
  }
  return errors;
}

bool isDataType(uint16_t type) {
  // RFC 6895 §3.1: OPT and 128-255 are meta/query types, never zone data; 0 is reserved.
  return type != 0 && type != dns::rrtype::kOpt && (type < 128 || type > 255);
}

}  // namespace understudy::zone
