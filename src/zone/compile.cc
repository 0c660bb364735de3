#include "understudy/zone/compile.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>
#include <optional>
#include <string>

#include "understudy/dns/message.h"
#include "understudy/dns/name.h"
#include "understudy/dns/types.h"
#include "zone_checks.h"

namespace understudy::zone {

namespace {

using dns::nameToText;
namespace rrtype = dns::rrtype;
using detail::at;
using detail::contentProblem;
using detail::duplicateZone;
using detail::outsideZone;
using detail::report;

std::string where(const Record& r) {
  Diagnostic d{r.where, "", ""};
  std::string s = d.str();
  return s.substr(0, s.size() - 2);  // drop the ": " before the empty message
}

std::string typeName(uint16_t t) {
  return typeToText(t);
}

constexpr uint32_t kNone = UINT32_MAX;

}  // namespace

// Builds one Zone in passes over flat arrays, so a million-name zone costs a few hash probes and
// no allocation per name:
//   1. every valid record gets its node (one probe per new owner; consecutive records with the
//      same owner, the usual zone-file order, skip the probe);
//   2. records are grouped per node (counting sort, keeping configuration order) and per type;
//      each group becomes an RRset after the TTL, pool and duplicate checks;
//   3. empty non-terminals are added between each owner and the apex;
//   4. nodes are visited parents first to find delegation cuts and wildcards;
//   5. the per-name checks (CNAME, DS, occlusion) run; then the arenas are filled.
// The rendered slots handed out so far, over all zones of one compile: one per pooled RRset and
// one per `serial: auto` SOA, numbered in the order they are met.
struct SlotAllocator {
  int32_t next = 0;
  std::vector<ZoneSet::PooledSlot> pooled;  // indexed by PooledId
  uint32_t zone = 0;                        // index of the zone being built
};

class ZoneBuilder {
 public:
  ZoneBuilder(const ZoneSource& src, Zone& zone, std::vector<Diagnostic>& errors,
              std::vector<Diagnostic>& warnings, SlotAllocator& slots)
      : src_(src), zone_(zone), errors_(errors), warnings_(warnings), slots_(slots) {}

  void build() {
    zone_.origin = src_.origin;
    zone_text_ = nameToText(src_.origin);
    const size_t errors_before = errors_.size();
    assignNodes();
    groupRecords();
    const uint32_t apex_index = findIndex(src_.origin);
    const BuildNode* apex = apex_index == kNone ? nullptr : &nodes_[apex_index];
    const RrsetBuild* soa = nullptr;
    if (apex) {
      for (uint32_t s = apex->first_rrset; s < apex->first_rrset + apex->rrset_count; ++s) {
        if (rrsets_[s].type == rrtype::kSoa) soa = &rrsets_[s];
      }
    }
    if (!soa) {
      errors_.push_back(
          Diagnostic{src_.where, src_.key, "zone '" + zone_text_ + "' has no SOA record"});
      return;
    }
    if (soa->count != 1) {
      errors_.push_back(
          at(record(soa->first), "zone '" + zone_text_ + "' has more than one SOA record"));
    }
    const uint32_t owners = static_cast<uint32_t>(nodes_.size());
    addEmptyNonTerminals();
    linkParents();
    for (uint32_t n = 0; n < owners; ++n) checkNode(n);
    if (errors_.size() != errors_before) return;
    materialize();
  }

 private:
  struct BuildNode {
    std::string_view key;       // lowercased wire name (into keys_, or a suffix of another key)
    uint32_t first_record = 0;  // whose owner gives the case to serve; kNone for an ENT
    uint32_t first_rrset = 0;
    uint32_t rrset_count = 0;
    uint32_t cut = kNone;        // delegation at or above (never the apex)
    uint32_t cut_above = kNone;  // the topmost delegation strictly above
    uint32_t wildcard = kNone;
    uint32_t dname_above = kNone;  // the topmost DNAME owner strictly above
    bool has_ns = false;
    bool has_cname = false;
    bool has_dname = false;
  };
  struct RrsetBuild {
    uint16_t type = 0;
    uint32_t ttl = 0;
    std::optional<PooledId> pooled;
    uint32_t first = 0;     // record index
    uint32_t rdata_at = 0;  // into kept_: the record indexes whose RDATA is served
    uint32_t count = 0;
  };

  const Record& record(uint32_t i) const { return src_.records[i]; }

  // The node whose (lowercased) key is `key`, or kNone.
  uint32_t findIndex(std::string_view key, uint64_t hash) const {
    int64_t i = index_.find(
        key, hash, [this](uint32_t n) { return nodes_[n].key; }, /*fold=*/false);
    return i < 0 ? kNone : static_cast<uint32_t>(i);
  }
  uint32_t findIndex(std::string_view key) const { return findIndex(key, hashName(key)); }
  uint32_t addNode(std::string_view key, uint64_t hash, uint32_t first_record) {
    uint32_t n = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back(BuildNode{key, first_record});
    index_.insert(hash, n, [this](uint32_t i) { return nodes_[i].key; });
    return n;
  }

  // Pass 1: validate each record and find (or create) its node.
  void assignNodes() {
    const auto& records = src_.records;
    size_t key_bytes = 0;
    for (const Record& r : records) key_bytes += r.owner.size();
    // Keys are views into keys_, so it must never reallocate: reserve the worst case up front.
    keys_.reserve(key_bytes);
    node_of_.assign(records.size(), kNone);
    index_.reset(records.size() / 2 + 16);
    nodes_.reserve(records.size() / 2 + 16);
    const Record* previous = nullptr;
    uint32_t previous_node = kNone;
    for (uint32_t i = 0; i < records.size(); ++i) {
      const Record& r = records[i];
      if (previous && previous->owner == r.owner && previous_node != kNone) {
        if (validRecord(r)) node_of_[i] = previous_node;
        continue;
      }
      size_t start = keys_.size();
      keys_.append(r.owner);
      dns::lowerInPlace(keys_.data() + start, r.owner.size());
      std::string_view key(keys_.data() + start, r.owner.size());
      if (!dns::isSubdomain(key, src_.origin)) {
        keys_.resize(start);
        report(errors_, outsideZone(r, zone_text_));
        previous = nullptr;
        continue;
      }
      previous = &r;
      uint64_t hash = hashName(key);
      uint32_t n = findIndex(key, hash);
      if (n != kNone) {
        keys_.resize(start);
      } else {
        n = addNode(key, hash, i);
      }
      previous_node = n;
      if (validRecord(r)) node_of_[i] = n;
    }
  }

  bool validRecord(const Record& r) {
    std::optional<Diagnostic> problem = contentProblem(r);
    if (problem) report(errors_, std::move(*problem));
    return !problem;
  }

  // Pass 2: records per node (configuration order), then per type, into RRsets.
  void groupRecords() {
    const size_t n_nodes = nodes_.size();
    std::vector<uint32_t> start(n_nodes + 1, 0);
    for (uint32_t node : node_of_) {
      if (node != kNone) ++start[node + 1];
    }
    std::partial_sum(start.begin(), start.end(), start.begin());
    std::vector<uint32_t> order(start[n_nodes]);
    {
      std::vector<uint32_t> fill(start.begin(), start.end() - 1);
      for (uint32_t i = 0; i < node_of_.size(); ++i) {
        if (node_of_[i] != kNone) order[fill[node_of_[i]]++] = i;
      }
    }
    node_of_.clear();
    node_of_.shrink_to_fit();
    rrsets_.reserve(order.size());
    kept_.reserve(order.size());
    for (uint32_t n = 0; n < n_nodes; ++n) {
      auto first = order.begin() + start[n];
      auto last = order.begin() + start[n + 1];
      // Insertion sort: stable, no allocation, and a name has only a few records.
      for (auto it = first + (first != last); it < last; ++it) {
        uint32_t moving = *it;
        auto hole = it;
        while (hole != first && record(*(hole - 1)).type > record(moving).type) {
          *hole = *(hole - 1);
          --hole;
        }
        *hole = moving;
      }
      BuildNode& node = nodes_[n];
      node.first_rrset = static_cast<uint32_t>(rrsets_.size());
      for (auto it = first; it != last;) {
        auto group_end = it;
        const uint16_t type = record(*it).type;
        while (group_end != last && record(*group_end).type == type) ++group_end;
        addRrset(it, group_end);
        it = group_end;
      }
      node.rrset_count = static_cast<uint32_t>(rrsets_.size()) - node.first_rrset;
      for (uint32_t s = node.first_rrset; s < rrsets_.size(); ++s) {
        if (rrsets_[s].type == rrtype::kNs) node.has_ns = true;
        if (rrsets_[s].type == rrtype::kCname) node.has_cname = true;
        if (rrsets_[s].type == rrtype::kDname) node.has_dname = true;
      }
    }
  }

  void addRrset(std::vector<uint32_t>::iterator first, std::vector<uint32_t>::iterator last) {
    const Record& head = record(*first);
    RrsetBuild set;
    set.type = head.type;
    set.ttl = head.ttl;
    set.pooled = head.pooled;
    set.first = *first;
    set.rdata_at = static_cast<uint32_t>(kept_.size());
    for (auto it = first; it != last; ++it) {
      const Record& r = record(*it);
      if (it != first && (r.pooled || head.pooled)) {
        // A pooled RRset is owned by its pool as a whole; static records cannot join it.
        // Appended in steps: GCC 12 at -O3 reports a false -Wrestrict for "x" + std::string&&.
        std::string why = "'";
        why += nameToText(r.owner);
        why += "' ";
        why += typeName(r.type);
        why += " is already defined at " + where(head);
        why += "; a pooled record must be the only ";
        why += typeName(r.type);
        why += " record of its name";
        errors_.push_back(at(r, why));
        continue;
      }
      if (head.pooled) continue;  // the content comes from the pool
      if (r.ttl != head.ttl) {
        // RFC 2181 §5.2: all RRs of an RRset share one TTL.
        errors_.push_back(at(r, "TTL " + std::to_string(r.ttl) + " differs from TTL " +
                                    std::to_string(head.ttl) + " of the same " + typeName(r.type) +
                                    " RRset at " + where(head) + " (RFC 2181 §5.2)"));
        continue;
      }
      if (isDuplicate(set, r.rdata)) {
        warnings_.push_back(at(r, "duplicate " + typeName(r.type) + " record for '" +
                                      nameToText(r.owner) + "' ignored (an RRset is a set)"));
        continue;
      }
      kept_.push_back(*it);
      ++set.count;
      rdata_bytes_ += 2 + r.rdata.size();
    }
    record_count_ += set.pooled ? 1 : set.count;
    rrsets_.push_back(set);
  }

  bool isDuplicate(const RrsetBuild& set, const std::string& rdata) {
    if (set.count < 32) {
      for (uint32_t k = set.rdata_at; k < set.rdata_at + set.count; ++k) {
        if (record(kept_[k]).rdata == rdata) return true;
      }
      return false;
    }
    // A large RRset: keep a sorted side table instead of comparing with every member.
    if (dup_set_ != set.rdata_at) {
      dup_set_ = set.rdata_at;
      dup_seen_.clear();
      for (uint32_t k = set.rdata_at; k < set.rdata_at + set.count; ++k) {
        dup_seen_.emplace(record(kept_[k]).rdata, 0);
      }
    }
    return !dup_seen_.emplace(rdata, 0).second;
  }

  // Pass 3: every ancestor of an owner, up to the apex, exists (RFC 4592 §2.2.2) and answers
  // NODATA; its key is a suffix of the owner's key, so it needs no storage of its own.
  void addEmptyNonTerminals() {
    const size_t owners = nodes_.size();
    for (size_t n = 0; n < owners; ++n) {
      std::string_view name = nodes_[n].key;
      while (name.size() > src_.origin.size()) {
        name = dns::parentName(name);
        uint64_t hash = hashName(name);
        if (findIndex(name, hash) != kNone) break;
        addNode(name, hash, kNone);
      }
    }
  }

  // Pass 4: parents before children, so each node inherits its parent's cut.
  void linkParents() {
    // Counting sort by label count (a name has at most 127 labels).
    std::vector<uint8_t> labels(nodes_.size());
    std::vector<uint32_t> start(129, 0);
    for (size_t n = 0; n < nodes_.size(); ++n) {
      labels[n] = static_cast<uint8_t>(dns::labelCount(nodes_[n].key));
      ++start[labels[n] + 1];
    }
    std::partial_sum(start.begin(), start.end(), start.begin());
    std::vector<uint32_t> order(nodes_.size());
    for (uint32_t n = 0; n < nodes_.size(); ++n) order[start[labels[n]]++] = n;
    for (uint32_t n : order) {
      BuildNode& node = nodes_[n];
      if (node.key.size() == src_.origin.size()) continue;  // the apex
      const uint32_t parent = findIndex(dns::parentName(node.key));
      if (parent == kNone) continue;  // cannot happen: ENTs fill every gap
      const BuildNode& p = nodes_[parent];
      node.cut_above = p.cut;
      node.dname_above = p.dname_above != kNone ? p.dname_above : p.has_dname ? parent : kNone;
      if (p.cut != kNone) {
        node.cut = p.cut;
      } else if (node.has_ns) {
        node.cut = n;
      }
      if (node.key.size() > 2 && node.key[0] == 1 && node.key[1] == '*') {
        nodes_[parent].wildcard = n;
      }
    }
  }

  // Pass 5: the checks that need a whole name.
  void checkNode(uint32_t n) {
    const BuildNode& node = nodes_[n];
    const bool apex = node.key.size() == src_.origin.size();
    const RrsetBuild* first = rrsets_.data() + node.first_rrset;
    const RrsetBuild* last = first + node.rrset_count;
    auto owner_text = [&] { return nameToText(record(node.first_record).owner); };
    for (const RrsetBuild* s = first; s != last; ++s) {
      const Record& r = record(s->first);
      if (s->type == rrtype::kSoa && !apex) {
        errors_.push_back(
            at(r, "SOA record is only allowed at the zone apex '" + zone_text_ + "'"));
      }
      if (s->type == rrtype::kDs && apex) {
        errors_.push_back(
            at(r, "DS record at the zone apex belongs in the parent zone (RFC 4034 §5)"));
      }
      if (s->type == rrtype::kDs && !apex && !node.has_ns) {
        errors_.push_back(
            at(r, "DS record for '" + owner_text() +
                      "' needs an NS record there: DS belongs at a delegation point"));
      }
    }
    if (node.has_cname) {
      const RrsetBuild* cname = first;
      while (cname->type != rrtype::kCname) ++cname;
      const Record& r = record(cname->first);
      if (cname->count > 1) {
        errors_.push_back(
            at(r, "more than one CNAME record for '" + owner_text() + "' (RFC 2181 §10.1)"));
      }
      for (const RrsetBuild* s = first; s != last; ++s) {
        if (s->type == rrtype::kCname || s->type == rrtype::kRrsig || s->type == rrtype::kNsec)
          continue;
        // Point at the CNAME when the other data is the (synthesized) SOA: that is the mistake.
        const Record& culprit = s->type == rrtype::kSoa ? r : record(s->first);
        errors_.push_back(at(culprit, "CNAME and other data: '" + owner_text() +
                                          "' has a CNAME at " + where(r) + " and a " +
                                          typeName(s->type) + " record (RFC 1034 §3.6.2)"));
      }
    }
    if (node.has_dname) {
      const RrsetBuild* dname = first;
      while (dname->type != rrtype::kDname) ++dname;
      if (dname->count > 1) {
        errors_.push_back(at(record(dname->first), "more than one DNAME record for '" +
                                                       owner_text() + "' (RFC 6672 §2.4)"));
      }
    }
    // RFC 6672 §2.4: no data below a DNAME owner, which redirects every name there (Knot refuses
    // such a zone too). Below both a DNAME and a delegation, name the higher of the two.
    const bool below_dname = node.dname_above != kNone &&
                             (node.cut_above == kNone || nodes_[node.dname_above].key.size() <
                                                             nodes_[node.cut_above].key.size());
    if (below_dname) {
      for (const RrsetBuild* s = first; s != last; ++s) {
        std::string why = typeName(s->type);
        why += " record for '";
        why += owner_text();
        why += "' is below the DNAME at '";
        why += nameToText(nodes_[node.dname_above].key);
        why += "' and would never be served (RFC 6672 §2.4)";
        errors_.push_back(at(record(s->first), why));
      }
    } else if (node.cut_above != kNone) {
      for (const RrsetBuild* s = first; s != last; ++s) {
        if (s->type == rrtype::kA || s->type == rrtype::kAaaa) continue;  // glue
        errors_.push_back(at(record(s->first), typeName(s->type) + " record for '" + owner_text() +
                                                   "' is below the delegation to '" +
                                                   nameToText(nodes_[node.cut_above].key) +
                                                   "' and would never be served"));
      }
    } else if (!apex && node.has_ns) {
      for (const RrsetBuild* s = first; s != last; ++s) {
        if (s->type == rrtype::kNs || s->type == rrtype::kDs || s->type == rrtype::kA ||
            s->type == rrtype::kAaaa || s->type == rrtype::kRrsig || s->type == rrtype::kNsec)
          continue;
        errors_.push_back(at(record(s->first),
                             typeName(s->type) + " record at delegation point '" + owner_text() +
                                 "' would never be served (only NS, DS and glue)"));
      }
    }
  }

  // Fill the zone's arenas (sized exactly, so the views into them stay valid) and its index.
  void materialize() {
    size_t name_bytes = 0;
    for (const BuildNode& b : nodes_) name_bytes += b.key.size();
    zone_.names_.resize(name_bytes);
    zone_.rdata_.resize(rdata_bytes_);
    zone_.rrsets_.resize(rrsets_.size());
    zone_.nodes_.resize(nodes_.size());
    char* name_out = zone_.names_.data();
    uint8_t* rdata_out = zone_.rdata_.data();
    for (size_t s = 0; s < rrsets_.size(); ++s) {
      const RrsetBuild& b = rrsets_[s];
      Rrset& out = zone_.rrsets_[s];
      out.type = b.type;
      out.ttl = b.ttl;
      if (b.pooled) {
        out.slot = slots_.next++;
        const size_t id = static_cast<size_t>(*b.pooled);
        if (slots_.pooled.size() <= id) slots_.pooled.resize(id + 1);
        slots_.pooled[id] = ZoneSet::PooledSlot{out.slot, slots_.zone};
      }
      const uint8_t* begin = rdata_out;
      for (uint32_t k = b.rdata_at; k < b.rdata_at + b.count; ++k) {
        const std::string& rdata = record(kept_[k]).rdata;
        *rdata_out++ = static_cast<uint8_t>(rdata.size() >> 8);
        *rdata_out++ = static_cast<uint8_t>(rdata.size() & 0xff);
        std::memcpy(rdata_out, rdata.data(), rdata.size());
        rdata_out += rdata.size();
      }
      out.rdatas = RdataList(begin, static_cast<uint32_t>(rdata_out - begin), b.count);
    }
    for (size_t n = 0; n < nodes_.size(); ++n) {
      const BuildNode& b = nodes_[n];
      Node& node = zone_.nodes_[n];
      // The case to serve: the first record's owner; for an ENT the lowercased key will do.
      std::string_view owner = b.first_record == kNone ? b.key : record(b.first_record).owner;
      std::memcpy(name_out, owner.data(), owner.size());
      node.owner = std::string_view(name_out, owner.size());
      name_out += owner.size();
      node.rrsets = std::span<const Rrset>(zone_.rrsets_.data() + b.first_rrset, b.rrset_count);
      node.cut = b.cut == kNone ? nullptr : &zone_.nodes_[b.cut];
      node.wildcard = b.wildcard == kNone ? nullptr : &zone_.nodes_[b.wildcard];
      node.is_apex = b.key.size() == src_.origin.size();
      if (node.is_apex) zone_.apex = &node;
    }
    zone_.index_ = std::move(index_);  // same node numbering; compares fold case from now on
    zone_.record_count = record_count_;

    zone_.soa = zone_.apex->find(rrtype::kSoa);
    if (src_.serial_auto) {
      // The SOA gets a rendered slot whose serial each publish sets; its static content stays in
      // the zone as the template.
      zone_.serial_slot = slots_.next++;
      const_cast<Rrset*>(zone_.soa)->slot = zone_.serial_slot;
    }
    std::string_view soa_rdata = zone_.soa->rdatas.front();
    uint32_t minimum =
        dns::readU32(reinterpret_cast<const uint8_t*>(soa_rdata.data()) + soa_rdata.size() - 4);
    zone_.negative_ttl = std::min(zone_.soa->ttl, minimum);  // RFC 2308 §3
  }

  const ZoneSource& src_;
  Zone& zone_;
  std::vector<Diagnostic>& errors_;
  std::vector<Diagnostic>& warnings_;
  SlotAllocator& slots_;
  std::string zone_text_;

  std::string keys_;                // lowercased owner names, one per owner node
  std::vector<uint32_t> node_of_;   // record -> node (kNone: invalid record)
  std::vector<BuildNode> nodes_;    // owners first, then empty non-terminals
  NameIndex index_;                 // over nodes_[i].key
  std::vector<RrsetBuild> rrsets_;  // per node, sorted by type
  std::vector<uint32_t> kept_;      // record indexes whose RDATA is served, per RRset
  size_t rdata_bytes_ = 0;
  size_t record_count_ = 0;
  uint32_t dup_set_ = kNone;
  std::map<std::string_view, int> dup_seen_;
};

std::shared_ptr<const Snapshot> compile(const std::vector<ZoneSource>& zones,
                                        const ServingOptions& options,
                                        std::vector<Diagnostic>* warnings) {
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> local_warnings;
  auto zone_set = std::make_shared<ZoneSet>();
  SlotAllocator slots;
  std::map<std::string, const ZoneSource*> seen;
  for (const ZoneSource& src : zones) {
    auto [it, inserted] = seen.emplace(src.origin, &src);
    if (!inserted) {
      errors.push_back(duplicateZone(src, *it->second));
      continue;
    }
    auto zone = std::make_unique<Zone>();
    size_t before = errors.size();
    slots.zone = static_cast<uint32_t>(zone_set->zones.size());
    ZoneBuilder(src, *zone, errors, local_warnings, slots).build();
    if (errors.size() != before) continue;
    zone_set->by_origin.emplace(zone->origin, zone.get());
    zone_set->zones.push_back(std::move(zone));
  }
  if (!errors.empty()) throw ConfigError(reportable(std::move(errors), "errors"));
  if (warnings) *warnings = reportable(std::move(local_warnings), "warnings");
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->options = options;
  // Pooled RRsets start empty; the failover controller fills them before anything is served.
  // Auto-serial SOAs start as written, so a Snapshot without a controller still serves them.
  zone_set->pooled = std::move(slots.pooled);
  zone_set->slot_count = static_cast<size_t>(slots.next);
  snapshot->zone_set = std::move(zone_set);
  snapshot->rendered.resize(snapshot->zone_set->slot_count);
  for (const auto& z : snapshot->zone_set->zones) {
    if (z->serial_slot < 0) continue;
    auto& entry = snapshot->rendered[static_cast<size_t>(z->serial_slot)];
    entry.mode = RenderedRrset::Mode::kAnswer;
    entry.assign(*z->soa);
  }
  return snapshot;
}

}  // namespace understudy::zone
