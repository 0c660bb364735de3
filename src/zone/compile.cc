#include "understudy/zone/compile.h"

#include <algorithm>
#include <map>

#include "understudy/dns/message.h"
#include "understudy/dns/name.h"
#include "understudy/dns/types.h"

namespace understudy::zone {

namespace {

using dns::nameToText;
namespace rrtype = dns::rrtype;

struct RrsetBuild {
  Rrset rrset;
  const Record* first = nullptr;
};

struct NodeBuild {
  std::string owner;  // case of the first record seen
  std::map<uint16_t, RrsetBuild> rrsets;
};

Diagnostic at(const Record& r, std::string message) {
  return Diagnostic{r.where, r.key, std::move(message)};
}

std::string where(const Record& r) {
  Diagnostic d{r.where, "", ""};
  std::string s = d.str();
  return s.substr(0, s.size() - 2);  // drop the ": " before the empty message
}

bool isMetaType(uint16_t t) {
  // RFC 6895 §3.1: OPT and 128-255 are meta/query types, never zone data.
  return t == rrtype::kOpt || (t >= 128 && t <= 255) || t == 0;
}

std::string typeName(uint16_t t) {
  return typeToText(t);
}

void buildZone(const ZoneSource& src, Zone& zone, std::vector<Diagnostic>& errors,
               std::vector<Diagnostic>& warnings, int32_t& max_dynamic) {
  zone.origin = src.origin;
  const std::string zone_text = nameToText(src.origin);
  std::map<std::string, NodeBuild> owners;  // key: lowercased owner

  for (const Record& r : src.records) {
    std::string key = dns::lowered(r.owner);
    if (!dns::isSubdomain(key, src.origin)) {
      errors.push_back(
          at(r, "record owner '" + nameToText(r.owner) + "' is outside zone '" + zone_text + "'"));
      continue;
    }
    if (isMetaType(r.type)) {
      errors.push_back(at(r, "type " + typeName(r.type) + " cannot appear in zone data"));
      continue;
    }
    if (r.type == rrtype::kDname) {
      errors.push_back(at(r, "DNAME records are not supported"));
      continue;
    }
    if (r.ttl > dns::kMaxTtl) {
      errors.push_back(at(r, "TTL " + std::to_string(r.ttl) + " out of range (0..2147483647)"));
      continue;
    }
    NodeBuild& node = owners[key];
    if (node.owner.empty()) node.owner = r.owner;
    RrsetBuild& set = node.rrsets[r.type];
    if (set.first && (r.dynamic >= 0 || set.rrset.dynamic >= 0)) {
      // A pooled RRset is owned by its pool as a whole; static records cannot join it.
      errors.push_back(at(r, "'" + nameToText(r.owner) + "' " + typeName(r.type) +
                                 " is already defined at " + where(*set.first) +
                                 "; a pooled record must be the only " + typeName(r.type) +
                                 " record of its name"));
      continue;
    }
    if (!set.first) {
      set.first = &r;
      set.rrset.type = r.type;
      set.rrset.ttl = r.ttl;
      set.rrset.dynamic = r.dynamic;
      if (r.dynamic >= 0) {
        max_dynamic = std::max(max_dynamic, r.dynamic);
        continue;
      }
    } else if (set.rrset.ttl != r.ttl) {
      // RFC 2181 §5.2: all RRs of an RRset share one TTL.
      errors.push_back(at(r, "TTL " + std::to_string(r.ttl) + " differs from TTL " +
                                 std::to_string(set.rrset.ttl) + " of the same " +
                                 typeName(r.type) + " RRset at " + where(*set.first) +
                                 " (RFC 2181 §5.2)"));
      continue;
    }
    if (std::find(set.rrset.rdatas.begin(), set.rrset.rdatas.end(), r.rdata) !=
        set.rrset.rdatas.end()) {
      warnings.push_back(at(r, "duplicate " + typeName(r.type) + " record for '" +
                                   nameToText(r.owner) + "' ignored (an RRset is a set)"));
      continue;
    }
    set.rrset.rdatas.push_back(r.rdata);
  }

  // SOA: exactly one RRset with one record, at the apex.
  auto apex_it = owners.find(src.origin);
  const RrsetBuild* soa = nullptr;
  if (apex_it != owners.end()) {
    auto s = apex_it->second.rrsets.find(rrtype::kSoa);
    if (s != apex_it->second.rrsets.end()) soa = &s->second;
  }
  if (!soa) {
    errors.push_back(Diagnostic{src.where, src.key, "zone '" + zone_text + "' has no SOA record"});
    return;
  }
  if (soa->rrset.rdatas.size() != 1) {
    errors.push_back(at(*soa->first, "zone '" + zone_text + "' has more than one SOA record"));
  }

  // Delegation points: NS below the apex. Sorted map order puts no guarantee on hierarchy, so
  // collect them first and then judge every owner against them.
  std::map<std::string, bool> is_cut;
  for (const auto& [key, node] : owners) {
    if (key != src.origin && node.rrsets.count(rrtype::kNs)) is_cut[key] = true;
  }
  // The topmost delegation strictly above `key` (walks parents up to the apex).
  auto cutAbove = [&](const std::string& key) -> std::string {
    std::string best;
    std::string_view name = key;
    while (name.size() > src.origin.size()) {
      name = dns::parentName(name);
      if (name.size() > src.origin.size() && is_cut.count(std::string(name))) best = name;
    }
    return best;
  };

  for (const auto& [key, node] : owners) {
    const bool apex = key == src.origin;
    for (const auto& [type, set] : node.rrsets) {
      const Record& r = *set.first;
      if (type == rrtype::kSoa && !apex) {
        errors.push_back(at(r, "SOA record is only allowed at the zone apex '" + zone_text + "'"));
      }
      if (type == rrtype::kDs && apex) {
        errors.push_back(
            at(r, "DS record at the zone apex belongs in the parent zone (RFC 4034 §5)"));
      }
      if (type == rrtype::kDs && !apex && !node.rrsets.count(rrtype::kNs)) {
        errors.push_back(at(r, "DS record for '" + nameToText(node.owner) +
                                   "' needs an NS record there: DS belongs at a delegation point"));
      }
    }
    auto cname = node.rrsets.find(rrtype::kCname);
    if (cname != node.rrsets.end()) {
      const Record& r = *cname->second.first;
      if (cname->second.rrset.rdatas.size() > 1) {
        errors.push_back(at(
            r, "more than one CNAME record for '" + nameToText(node.owner) + "' (RFC 2181 §10.1)"));
      }
      for (const auto& [type, set] : node.rrsets) {
        if (type == rrtype::kCname || type == rrtype::kRrsig || type == rrtype::kNsec) continue;
        // Point at the CNAME when the other data is the (synthesized) SOA: that is the mistake.
        const Record& culprit = type == rrtype::kSoa ? r : *set.first;
        errors.push_back(at(culprit, "CNAME and other data: '" + nameToText(node.owner) +
                                         "' has a CNAME at " + where(r) + " and a " +
                                         typeName(type) + " record (RFC 1034 §3.6.2)"));
      }
    }
    if (std::string cut = cutAbove(key); !cut.empty()) {
      for (const auto& [type, set] : node.rrsets) {
        if (type == rrtype::kA || type == rrtype::kAaaa) continue;  // glue
        errors.push_back(at(*set.first, typeName(type) + " record for '" + nameToText(node.owner) +
                                            "' is below the delegation to '" + nameToText(cut) +
                                            "' and would never be served"));
      }
    } else if (!apex && node.rrsets.count(rrtype::kNs)) {
      for (const auto& [type, set] : node.rrsets) {
        if (type == rrtype::kNs || type == rrtype::kDs || type == rrtype::kA ||
            type == rrtype::kAaaa || type == rrtype::kRrsig || type == rrtype::kNsec)
          continue;
        errors.push_back(at(*set.first, typeName(type) + " record at delegation point '" +
                                            nameToText(node.owner) +
                                            "' would never be served (only NS, DS and glue)"));
      }
    }
  }

  // Materialize nodes, then empty non-terminals between each owner and the apex (RFC 4592 §2.2.2:
  // they exist, so they answer NODATA and block wildcards).
  for (auto& [key, build] : owners) {
    Node& node = zone.nodes[key];
    node.owner = build.owner;
    for (auto& [type, set] : build.rrsets) {
      zone.record_count += set.rrset.dynamic >= 0 ? 1 : set.rrset.rdatas.size();
      node.rrsets.push_back(std::move(set.rrset));
    }
  }
  for (const auto& [key, build] : owners) {
    std::string_view name = key;
    while (name.size() > src.origin.size()) {
      name = dns::parentName(name);
      auto [it, inserted] = zone.nodes.try_emplace(std::string(name));
      if (!inserted) break;
      // An ENT's owner text: the lowercased key is as good as any case here.
      it->second.owner = std::string(name);
    }
  }

  // Parents before children, so each node inherits its parent's cut.
  std::vector<std::pair<int, Node*>> order;
  order.reserve(zone.nodes.size());
  for (auto& [key, node] : zone.nodes) order.emplace_back(dns::labelCount(key), &node);
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [labels, node] : order) {
    std::string key = dns::lowered(node->owner);
    if (key == src.origin) {
      node->is_apex = true;
      zone.apex = node;
      continue;
    }
    const Node* parent = zone.find(dns::parentName(key));
    if (parent && parent->cut) {
      node->cut = parent->cut;
    } else if (node->find(rrtype::kNs)) {
      node->cut = node;
    }
    if (key.size() > 2 && key[0] == 1 && key[1] == '*' && parent) {
      const_cast<Node*>(parent)->wildcard = node;
    }
  }

  zone.soa = zone.apex->find(rrtype::kSoa);
  if (src.serial_auto) {
    // The SOA becomes a dynamic RRset (after every pooled one) whose serial each publish sets;
    // its static content stays in the zone as the template.
    zone.soa_dynamic = ++max_dynamic;
    const_cast<Rrset*>(zone.soa)->dynamic = zone.soa_dynamic;
  }
  const std::string& soa_rdata = zone.soa->rdatas.front();
  uint32_t minimum =
      dns::readU32(reinterpret_cast<const uint8_t*>(soa_rdata.data()) + soa_rdata.size() - 4);
  zone.negative_ttl = std::min(zone.soa->ttl, minimum);  // RFC 2308 §3
}

}  // namespace

std::shared_ptr<const Snapshot> compile(const std::vector<ZoneSource>& zones,
                                        const ServingOptions& options,
                                        std::vector<Diagnostic>* warnings) {
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> local_warnings;
  auto zone_set = std::make_shared<ZoneSet>();
  // Pooled records carry indexes from the loader; auto-serial SOAs are numbered after them.
  int32_t max_dynamic = -1;
  for (const ZoneSource& src : zones) {
    for (const Record& r : src.records) max_dynamic = std::max(max_dynamic, r.dynamic);
  }
  std::map<std::string, const ZoneSource*> seen;
  for (const ZoneSource& src : zones) {
    auto [it, inserted] = seen.emplace(src.origin, &src);
    if (!inserted) {
      Diagnostic first{it->second->where, "", ""};
      std::string first_at = first.str();
      first_at.resize(first_at.size() - 2);
      errors.push_back(Diagnostic{
          src.where, src.key,
          "duplicate zone '" + nameToText(src.origin) + "' (first defined at " + first_at + ")"});
      continue;
    }
    auto zone = std::make_unique<Zone>();
    size_t before = errors.size();
    buildZone(src, *zone, errors, local_warnings, max_dynamic);
    if (errors.size() != before) continue;
    zone_set->by_origin.emplace(zone->origin, zone.get());
    zone_set->zones.push_back(std::move(zone));
  }
  if (!errors.empty()) throw ConfigError(std::move(errors));
  if (warnings) *warnings = std::move(local_warnings);
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->zone_set = std::move(zone_set);
  snapshot->options = options;
  // Pooled RRsets start empty; the failover controller fills them before anything is served.
  // Auto-serial SOAs start as written, so a Snapshot without a controller still serves them.
  snapshot->dynamic.resize(static_cast<size_t>(max_dynamic + 1));
  for (const auto& z : snapshot->zone_set->zones) {
    if (z->soa_dynamic < 0) continue;
    auto& entry = snapshot->dynamic[static_cast<size_t>(z->soa_dynamic)];
    entry.mode = DynamicRrset::Mode::kAnswer;
    entry.rrset = *z->soa;
    entry.rrset.dynamic = -1;
  }
  return snapshot;
}

}  // namespace understudy::zone
