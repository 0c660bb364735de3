// The zone model as loaded from configuration: plain records in wire format, each remembering
// where it was written so semantic errors (CNAME beside other data, ...) point at file:line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "understudy/common/diagnostic.h"

namespace understudy::zone {

// Names a pooled record: its index in the caller's list of them (failover::Plan::pool_records).
// The zone module does not know what a pool is; it only keeps one rendered slot per pooled
// RRset, and compile() says which slot each PooledId got (ZoneSet::pooled).
enum class PooledId : uint32_t {};

struct Record {
  std::string owner;  // wire format, case as written
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::string rdata;  // wire format, uncompressed
  // Set: the RRset's content is not static but what failover currently renders for this pooled
  // record; rdata is then unused.
  std::optional<PooledId> pooled;
  SourceLocation where;
  std::string key;  // config key path, e.g. "zones[0].records[2]"; empty for zone-file records
  // Where the owner name and the type were written when the config gives them keys of their own
  // (`<key>.name` and `<key>.type` of a YAML record; line 0 for zone-file records, whose line is
  // `where`): zone::compile's errors about the owner or the type point there, not at the value.
  struct Mark {
    int line = 0;  // 1-based, in where.file
    int column = 0;
  };
  Mark name_at;
  Mark type_at;
};

struct ZoneSource {
  std::string origin;  // wire format, lowercased
  std::vector<Record> records;
  bool serial_auto = false;  // `soa: {serial: auto}`: the SOA serial follows every publish
  SourceLocation where;
  std::string key;  // "zones[0]"
};

// RR type mnemonics ("A", "TYPE65534") via ldns, so every type ldns knows is accepted.
std::optional<uint16_t> typeFromText(std::string_view text);
std::string typeToText(uint16_t type);

// RDATA in presentation format -> uncompressed wire format, parsed by ldns. Relative names in the
// RDATA are completed with `origin` (wire). On failure returns nullopt and a readable reason,
// e.g. "not a valid IPv4 address '192.0.2.300'".
std::optional<std::string> parseRdata(uint16_t type, std::string_view text, std::string_view origin,
                                      std::string* error);

// Imports an RFC 1035 master file (our own reader; RDATA of uncommon types goes through ldns).
// `origin` is wire format; `default_ttl` applies where the file has no $TTL. Throws ConfigError
// naming file:line on the first bad line.
std::vector<Record> importZoneFile(const std::string& path, std::string_view origin,
                                   uint32_t default_ttl);

}  // namespace understudy::zone
