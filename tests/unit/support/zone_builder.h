// Snapshots for unit tests without the config loader: zones are written as RFC 1035 master-file
// text, read by the zone module's own reader (zone::importZoneFile) and compiled with
// zone::compile, so the zone, query and server tests need nothing above the zone module.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "understudy/common/diagnostic.h"
#include "understudy/dns/name.h"
#include "understudy/dns/types.h"
#include "understudy/zone/compile.h"
#include "understudy/zone/record.h"

namespace understudy::test {

// The SOA RDATA a config zone gets when it has no `soa:` key (docs/configuration.md): all defaults.
inline constexpr std::string_view kDefaultSoa = "ns1 hostmaster 1 3600 600 1209600 300";

// One zone from master-file text. `origin` is the zone name as written ("Example.test"); its case
// is the apex owner's, and relative names in `text` complete with it. Records without a TTL (and
// no $TTL before them) get `default_ttl`. Without an SOA in `text` the zone gets the default one
// (kDefaultSoa, TTL `default_ttl`) as its first record, as a config zone without `soa:` does.
// Record locations read `file`:line of `text`. Throws ConfigError for text the reader refuses.
inline zone::ZoneSource zoneFromText(std::string_view origin, std::string_view text,
                                     const std::string& file = "test.zone",
                                     uint32_t default_ttl = 3600) {
  std::string reason;
  std::optional<std::string> apex = dns::nameFromText(origin, std::string("\0", 1), &reason);
  if (!apex) throw std::invalid_argument("zone name '" + std::string(origin) + "': " + reason);

  // importZoneFile reads a path: the text goes through a temporary file, removed at once.
  std::string path = ::testing::TempDir() + "understudy-zone-builder-XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) throw std::runtime_error("cannot create a temporary zone file in " + path);
  ::close(fd);
  std::ofstream(path, std::ios::binary) << text;
  struct Remove {
    const std::string& path;
    ~Remove() { std::remove(path.c_str()); }
  } remove{path};

  zone::ZoneSource source;
  source.origin = dns::lowered(*apex);
  source.where.file = file;
  std::vector<zone::Record> records = zone::importZoneFile(path, *apex, default_ttl);
  bool has_soa = false;
  for (zone::Record& r : records) {
    r.where.file = file;
    has_soa = has_soa || r.type == dns::rrtype::kSoa;
  }
  if (!has_soa) {
    zone::Record soa;
    soa.owner = *apex;
    soa.type = dns::rrtype::kSoa;
    soa.ttl = default_ttl;
    std::optional<std::string> rdata =
        zone::parseRdata(dns::rrtype::kSoa, kDefaultSoa, *apex, &reason);
    if (!rdata) throw std::logic_error("default SOA: " + reason);
    soa.rdata = std::move(*rdata);
    soa.where.file = file;
    source.records.push_back(std::move(soa));
  }
  for (zone::Record& r : records) source.records.push_back(std::move(r));
  return source;
}

// A snapshot of one zone from master-file text (see zoneFromText).
inline std::shared_ptr<const zone::Snapshot> snapshotFromText(
    std::string_view origin, std::string_view text, const zone::ServingOptions& options = {}) {
  return zone::compile({zoneFromText(origin, text)}, options);
}

}  // namespace understudy::test
