// `zones:`: each zone's name, SOA, records and zone file, as zone::ZoneSource for zone::compile.
#include <filesystem>

#include "loader.h"
#include "understudy/dns/types.h"
#include "understudy/zone/compile.h"

namespace understudy::config::detail {

namespace {

// Where a key's value was written, as Loader::at() counts (1-based); line 0 when absent.
zone::Record::Mark markOf(const std::optional<YAML::Node>& node) {
  if (!node || node->Mark().is_null()) return {};
  return zone::Record::Mark{node->Mark().line + 1, node->Mark().column + 1};
}

}  // namespace

void Loader::loadZones(const YAML::Node& node, std::vector<zone::ZoneSource>& zones) {
  if (!expectList(node, "zones")) return;
  // A zone defined twice is zone::compile's to refuse (see checkSources in Loader::load).
  for (size_t i = 0; i < node.size(); ++i) {
    if (auto zone = loadZone(node[i], i)) zones.push_back(std::move(*zone));
  }
}

std::optional<zone::ZoneSource> Loader::loadZone(const YAML::Node& node, size_t index) {
  ZoneContext ctx;
  ctx.key = indexKey("zones", index);
  if (!expectMap(node, ctx.key)) return std::nullopt;
  Fields f = fields(node, ctx.key, {"name", "default_ttl", "soa", "file", "records"});

  zone::ZoneSource zone;
  zone.key = ctx.key;
  zone.where = at(node);
  ctx.origin = kRootWire;
  if (auto name = f.get("name")) {
    const std::string key = joinKey(ctx.key, "name");
    if (auto text = scalar(*name, key)) {
      // Zone names are always absolute, with or without the trailing dot.
      std::string reason;
      std::optional<std::string> wire;
      if (*text == "@") {
        reason = "'@' has no meaning here";
      } else {
        wire = nameFromText(*text, kRootWire, &reason);
      }
      if (!wire) {
        error(*name, key, "invalid zone name '" + *text + "': " + reason);
      } else {
        ctx.origin = *wire;
        ctx.origin_lower = lowered(*wire);
        ctx.origin_valid = true;
      }
    }
  } else if (!f.given("name")) {
    error(node, ctx.key, "missing required key 'name'");
  }
  if (auto ttl_node = f.get("default_ttl")) {
    if (auto value = ttl(*ttl_node, joinKey(ctx.key, "default_ttl"))) ctx.default_ttl = *value;
  }

  std::vector<zone::Record> file_records;
  std::optional<SourceLocation> file_soa;
  if (auto file = f.get("file")) {
    const std::string key = joinKey(ctx.key, "file");
    if (auto text = scalar(*file, key)) {
      std::filesystem::path path(*text);
      if (path.is_relative()) path = std::filesystem::path(base_dir_) / path;
      if (ctx.origin_valid) {
        try {
          file_records = zone::importZoneFile(path.string(), ctx.origin, ctx.default_ttl);
        } catch (const ConfigError& e) {
          for (const Diagnostic& d : e.diagnostics()) {
            if (d.where.line == 0) {
              // Cannot open or read it: point at the file: key instead of nowhere (the message
              // names the path as resolved).
              error(*file, key, d.message);
            } else {
              error(d.where, key, d.message);
            }
          }
        }
        for (const zone::Record& r : file_records) {
          if (r.type == kTypeSoa) file_soa = r.where;
        }
      }
    }
  }

  std::optional<zone::Record> soa;
  if (auto soa_node = f.get("soa")) {
    if (file_soa) {
      error(*soa_node, joinKey(ctx.key, "soa"),
            "the zone file already has an SOA record (" + formatLocation(*file_soa) +
                "); remove one of them");
    } else {
      soa = loadSoa(*soa_node, ctx, at(*soa_node), &zone.serial_auto);
    }
  } else if (!file_soa) {
    soa = loadSoa(std::nullopt, ctx, zone.where, &zone.serial_auto);
  }

  // A big zone file is most of the records: take its vector whole rather than copy it.
  if (zone.records.empty() && !soa) {
    zone.records = std::move(file_records);
  } else {
    zone.records.reserve(zone.records.size() + file_records.size() + 1);
    if (soa) zone.records.push_back(std::move(*soa));
    for (zone::Record& r : file_records) zone.records.push_back(std::move(r));
  }
  if (auto records = f.get("records")) {
    const std::string key = joinKey(ctx.key, "records");
    if (expectList(*records, key)) {
      for (size_t j = 0; j < records->size(); ++j) {
        loadRecord((*records)[j], indexKey(key, j), ctx, zone.records);
      }
    }
  }

  // A zone with other errors still takes part in the duplicate check; the load fails anyway.
  if (!ctx.origin_valid) return std::nullopt;
  zone.origin = ctx.origin_lower;
  return zone;
}

// RFC 1035 §3.3.13. Everything has a default, so a zone needs no soa: key at all.
// `node` is absent when the zone has no soa: key and every default applies.
std::optional<zone::Record> Loader::loadSoa(const std::optional<YAML::Node>& node,
                                            const ZoneContext& ctx, const SourceLocation& where,
                                            bool* serial_auto) {
  const std::string key = joinKey(ctx.key, "soa");
  Fields f;
  if (node) {
    if (!expectMap(*node, key)) return std::nullopt;
    f = fields(*node, key,
               {"mname", "rname", "serial", "refresh", "retry", "expire", "minimum", "ttl"});
  }
  bool ok = true;
  auto name = [&](std::string_view field, const char* fallback) {
    std::string text = fallback;
    std::optional<YAML::Node> value = f.get(field);
    if (value) {
      auto given = scalar(*value, joinKey(key, field));
      if (!given) {
        ok = false;
        return std::string();
      }
      text = *given;
    }
    std::string reason;
    auto wire = nameFromText(text, ctx.origin, &reason);
    if (!wire) {
      error(value ? at(*value) : where, joinKey(key, field),
            "invalid domain name '" + text + "': " + reason);
      ok = false;
      return std::string();
    }
    return *wire;
  };
  auto number = [&](std::string_view field, uint32_t fallback, bool is_serial) {
    std::optional<YAML::Node> value = f.get(field);
    if (!value) return fallback;
    std::optional<uint64_t> parsed;
    if (is_serial && value->IsScalar() && value->Scalar() == "auto") {
      // The serial follows every published change (reloads and health swaps), so secondaries
      // and monitoring see each one; it starts from the current Unix time.
      *serial_auto = true;
      return fallback;
    }
    if (is_serial) {
      parsed = integer(*value, joinKey(key, field), 0, 0xffffffff);  // RFC 1982 serial
    } else {
      parsed = ttl(*value, joinKey(key, field));
    }
    if (!parsed) ok = false;
    return parsed ? static_cast<uint32_t>(*parsed) : fallback;
  };

  std::string rdata = name("mname", "ns1");
  rdata += name("rname", "hostmaster");
  const uint32_t values[] = {number("serial", 1, true), number("refresh", 3600, false),
                             number("retry", 600, false), number("expire", 1209600, false),
                             number("minimum", 300, false)};
  for (uint32_t v : values) {
    rdata += static_cast<char>(v >> 24);
    rdata += static_cast<char>(v >> 16);
    rdata += static_cast<char>(v >> 8);
    rdata += static_cast<char>(v);
  }
  const uint32_t soa_ttl = number("ttl", ctx.default_ttl, false);
  if (!ok) return std::nullopt;
  zone::Record record;
  record.owner = ctx.origin;
  record.type = kTypeSoa;
  record.ttl = soa_ttl;
  record.rdata = std::move(rdata);
  record.where = where;
  record.key = key;
  return record;
}

void Loader::loadRecord(const YAML::Node& node, const std::string& key, const ZoneContext& ctx,
                        std::vector<zone::Record>& out) {
  if (!expectMap(node, key)) return;
  Fields f = fields(node, key,
                    {"name", "type", "ttl", "value", "values", "pool", "failover_ttl",
                     "when_all_down", "fallback"});

  std::optional<std::string> owner;
  if (auto name = f.get("name")) {
    const std::string name_key = joinKey(key, "name");
    if (auto text = scalar(*name, name_key)) {
      std::string reason;
      owner = nameFromText(*text, ctx.origin, &reason);
      // An owner outside the zone is zone::compile's to refuse, at this key (name_at).
      if (!owner) error(*name, name_key, "invalid domain name '" + *text + "': " + reason);
    }
  } else if (!f.given("name")) {
    error(node, key, "missing required key 'name'");
  }

  uint16_t type = 0;  // 0 = not usable
  if (auto type_node = f.get("type")) {
    const std::string type_key = joinKey(key, "type");
    if (auto text = scalar(*type_node, type_key)) {
      auto parsed = zone::typeFromText(*text);
      if (!parsed) {
        error(*type_node, type_key, "unknown record type '" + *text + "'");
      } else if (*parsed == kTypeSoa) {
        error(*type_node, type_key, "use the zone's soa: key instead of an SOA record");
      } else {
        type = *parsed;
      }
    }
  } else if (!f.given("type")) {
    error(node, key, "missing required key 'type'");
  }

  uint32_t record_ttl = ctx.default_ttl;
  bool ttl_ok = true;
  if (auto ttl_node = f.get("ttl")) {
    auto value = ttl(*ttl_node, joinKey(key, "ttl"));
    if (value) {
      record_ttl = *value;
    } else {
      ttl_ok = false;
    }
  }

  // Where name: and type: were written, for zone::compile's errors about the owner or the type.
  const zone::Record::Mark name_at = markOf(f.get("name"));
  const zone::Record::Mark type_at = markOf(f.get("type"));

  if (type != 0 && !zone::isDataType(type)) {
    // A type that is never zone data (OPT, the meta and query types) is zone::compile's to refuse,
    // at the type: key. Its values have no format to parse and no pool can answer for it: the
    // entry goes on as one record without RDATA, and nothing else is built from it.
    if (owner && ttl_ok) {
      zone::Record record;
      record.owner = *owner;
      record.type = type;
      record.ttl = record_ttl;
      record.where = at(node);
      record.key = key;
      record.name_at = name_at;
      record.type_at = type_at;
      out.push_back(std::move(record));
    }
    type = 0;
  }

  if (f.given("pool")) {
    const size_t first = out.size();
    loadPoolRecord(node, f, key, ctx, owner, type, record_ttl, ttl_ok && f.given("ttl"), out);
    for (size_t i = first; i < out.size(); ++i) {
      out[i].name_at = name_at;
      out[i].type_at = type_at;
    }
    return;
  }
  for (const char* pool_only : {"failover_ttl", "when_all_down", "fallback"}) {
    if (auto extra = f.get(pool_only)) {
      error(*extra, joinKey(key, pool_only),
            std::string("'") + pool_only + "' applies only to records with a 'pool'");
    }
  }

  // (value node, key path) for each RDATA.
  std::vector<std::pair<YAML::Node, std::string>> values;
  auto value = f.get("value");
  auto list = f.get("values");
  if (value && list) {
    error(node, key, "use either 'value' or 'values', not both");
    return;
  }
  if (!value && !list) {
    if (!f.given("value") && !f.given("values")) error(node, key, "missing 'value' or 'values'");
    return;
  }
  if (value) {
    values.emplace_back(*value, joinKey(key, "value"));
  } else {
    const std::string list_key = joinKey(key, "values");
    if (!expectList(*list, list_key)) return;
    if (list->size() == 0) {
      error(*list, list_key, "expected at least one value");
      return;
    }
    for (size_t i = 0; i < list->size(); ++i)
      values.emplace_back((*list)[i], indexKey(list_key, i));
  }

  for (const auto& [value_node, value_key] : values) {
    auto text = scalar(value_node, value_key);
    if (!text || type == 0) continue;
    std::string reason;
    auto rdata = zone::parseRdata(type, *text, ctx.origin, &reason);
    if (!rdata) {
      error(value_node, value_key, reason);
      continue;
    }
    if (!owner || !ttl_ok) continue;
    zone::Record record;
    record.owner = *owner;
    record.type = type;
    record.ttl = record_ttl;
    record.rdata = std::move(*rdata);
    record.where = at(value_node);
    record.key = key;
    record.name_at = name_at;
    record.type_at = type_at;
    out.push_back(std::move(record));
  }
}

}  // namespace understudy::config::detail
