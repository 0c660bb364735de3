#include "understudy/query/answer.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "understudy/dns/message.h"
#include "understudy/dns/name.h"
#include "understudy/dns/types.h"
#include "understudy/dns/writer.h"

namespace understudy::query {

namespace {

using dns::MessageWriter;
using dns::Section;
using zone::Node;
using zone::Rrset;
using zone::Zone;
namespace rrtype = dns::rrtype;
namespace rcode = dns::rcode;
namespace flag = dns::flag;

// RFC 1034 §3.6.2 allows chains; cap them so a loop (or a very long chain) ends. Knot and BIND
// use similar small limits.
constexpr int kMaxCnameChain = 12;
constexpr size_t kMaxAdditionalTargets = 32;

std::string_view view(const uint8_t* p, size_t n) {
  return std::string_view(reinterpret_cast<const char*>(p), n);
}

// A name to look up in its lowercased form, remembering how to write it in the answer.
struct LookupName {
  uint8_t lower[dns::kMaxNameLength];
  size_t len = 0;
  std::string_view output;  // as it should appear (client's case for the question)

  void set(std::string_view wire) {
    len = std::min(wire.size(), sizeof(lower));
    for (size_t i = 0; i < len; ++i) lower[i] = dns::lowerByte(static_cast<uint8_t>(wire[i]));
    output = wire.substr(0, len);
  }
  std::string_view key() const { return view(lower, len); }
};

// The name inside the RDATA of NS/MX/SRV that wants A/AAAA in the additional section.
std::string_view additionalTarget(uint16_t type, std::string_view rdata) {
  size_t offset = 0;
  if (type == rrtype::kNs)
    offset = 0;
  else if (type == rrtype::kMx)
    offset = 2;
  else if (type == rrtype::kSrv)
    offset = 6;
  else
    return {};
  if (rdata.size() <= offset) return {};
  return rdata.substr(offset);
}

class Resolver {
 public:
  Resolver(const zone::Snapshot& snapshot, const dns::Query& query, MessageWriter& writer)
      : snapshot_(snapshot), query_(query), w_(writer) {}

  // Returns the rcode; sets AA/TC through the writer.
  uint8_t run(const Zone& first_zone) {
    const Zone* zone = &first_zone;
    LookupName name;
    name.len = query_.qname_len;
    std::memcpy(name.lower, query_.qname_lower, name.len);
    name.output = view(query_.qname, query_.qname_len);
    const uint16_t qtype = query_.qtype;

    // RFC 4035 §3.1.4.1: DS lives in the parent; if we also serve the parent, answer from it.
    if (qtype == rrtype::kDs && name.key() == zone->origin && name.len > 1) {
      if (const Zone* parent = snapshot_.findZone(dns::parentName(name.key()))) zone = parent;
    }

    aa_ = true;
    uint8_t result = rcode::kNoError;
    for (int step = 0;; ++step) {
      std::string_view key = name.key();
      const Node* node = zone->find(key);
      const Node* closest = node;
      if (!node) {
        // Closest encloser: the longest existing ancestor (ENTs exist as nodes).
        std::string_view up = key;
        while (!closest && up.size() > zone->origin.size()) {
          up = dns::parentName(up);
          closest = zone->find(up);
        }
        if (!closest) closest = zone->apex;
      }
      const Node* cut = closest->cut;
      if (cut && !(node && node == cut && qtype == rrtype::kDs)) {
        referral(*zone, *cut, step == 0);
        break;
      }
      if (!node) {
        // RFC 6672 §2.2: a name strictly below a DNAME owner is redirected. Nothing exists below
        // a DNAME (compile refuses it), so the closest encloser is the DNAME's owner.
        if (const Rrset* dname = snapshot_.resolve(closest->find(rrtype::kDname))) {
          std::string_view target;
          if (!dnameAnswer(*zone, *closest, *dname, name.output, &target, &result)) break;
          if (qtype == rrtype::kCname) break;  // the synthesized CNAME answers the question
          if (!follow(target, step, name, zone)) break;
          continue;
        }
        if (closest->wildcard) {
          node = closest->wildcard;  // RFC 4592 §3.3.1: the source of synthesis
        } else {
          result = rcode::kNxDomain;  // RFC 6604: the rcode follows the last name of a chain
          negative(*zone);
          break;
        }
      }
      if (qtype == rrtype::kAny) {
        anyAnswer(*zone, *node, name.output);
        break;
      }
      bool servfail = false;
      uint32_t ttl_cap = UINT32_MAX;
      if (const Rrset* rrset = snapshot_.resolve(node->find(qtype), &servfail, &ttl_cap)) {
        answerRrset(*zone, name.output, *rrset);
        break;
      }
      if (servfail) {
        // A pool with `when_all_down: servfail` and nothing healthy.
        result = rcode::kServFail;
        aa_ = false;
        break;
      }
      const Rrset* cname = qtype == rrtype::kCname ? nullptr : node->find(rrtype::kCname);
      if (!cname || cname->rdatas.empty()) {
        negative(*zone, ttl_cap);  // NODATA
        break;
      }
      if (!answerRrset(*zone, name.output, *cname)) break;
      if (!follow(cname->rdatas.front(), step, name, zone)) break;
    }
    writeAdditional();
    return result;
  }

  bool aa() const { return aa_; }
  bool tc() const { return tc_; }

 private:
  // Moves `name` to the next link of a chain; false when the chain ends here.
  bool follow(std::string_view target, int step, LookupName& name, const Zone*& zone) {
    if (step + 1 >= kMaxCnameChain) return false;
    name.set(target);
    // A loop ends here: a name already answered in this message is not followed again.
    if (seen(name.key())) return false;
    remember(name.key());
    const Zone* next = snapshot_.findZone(name.key());
    if (!next) return false;  // target outside our zones: the resolver continues from here
    zone = next;
    return true;
  }

  // RFC 6672 §3.1 (server algorithm, step 3.c): the DNAME, then a CNAME from `qname` to the
  // name with the DNAME's owner replaced by its target, with the DNAME's TTL; `*target` is that
  // name. False when the answer ends here: truncation, or YXDOMAIN (`*rcode`, RFC 6672 §2.2)
  // when the new name would exceed 255 octets.
  bool dnameAnswer(const Zone& zone, const Node& owner, const Rrset& dname, std::string_view qname,
                   std::string_view* target, uint8_t* rcode) {
    if (dname.rdatas.empty()) return false;
    // A chain through the same DNAME twice carries it once (Knot does the same).
    bool written = false;
    for (size_t i = 0; i < dnames_len_; ++i) written = written || dnames_[i] == &dname;
    if (!written) {
      if (!answerRrset(zone, owner.owner, dname)) return false;
      if (dnames_len_ < kMaxCnameChain) dnames_[dnames_len_++] = &dname;
    }
    const std::string_view replacement = dname.rdatas.front();
    const size_t prefix = qname.size() - owner.owner.size();  // the labels below the owner
    if (prefix + replacement.size() > dns::kMaxNameLength) {
      *rcode = rcode::kYxDomain;
      return false;
    }
    // Two buffers in turn: `qname` itself may be the previous synthesis.
    uint8_t* out = synthesized_[next_synthesized_];
    next_synthesized_ ^= 1;
    std::memcpy(out, qname.data(), prefix);  // as asked: the client's case for the question
    std::memcpy(out + prefix, replacement.data(), replacement.size());
    *target = view(out, prefix + replacement.size());
    if (!w_.writeRecord(Section::kAnswer, qname, rrtype::kCname, dns::rrclass::kIn, dname.ttl,
                        *target)) {
      tc_ = true;
      return false;
    }
    return true;
  }

  bool answerRrset(const Zone& zone, std::string_view owner, const Rrset& rrset) {
    MessageWriter::Mark m = w_.mark();
    for (const auto& rdata : rrset.rdatas) {
      if (!w_.writeRecord(Section::kAnswer, owner, rrset.type, dns::rrclass::kIn, rrset.ttl,
                          rdata)) {
        w_.rollback(m);
        tc_ = true;  // RFC 2181 §9: the answer is incomplete
        return false;
      }
    }
    for (const auto& rdata : rrset.rdatas) {
      std::string_view t = additionalTarget(rrset.type, rdata);
      if (!t.empty()) addTarget(zone, t);
    }
    return true;
  }

  // RFC 8482 §4.1: answer ANY with one RRset (the lowest type present), so it can never be used
  // to amplify; Knot does the same over both transports.
  void anyAnswer(const Zone& zone, const Node& node, std::string_view owner) {
    for (const Rrset& candidate : node.rrsets) {
      if (const Rrset* rrset = snapshot_.resolve(&candidate)) {
        answerRrset(zone, owner, *rrset);
        return;
      }
    }
    negative(zone);
  }

  // NODATA and NXDOMAIN: the SOA in the authority section with the negative TTL (RFC 2308 §3).
  void negative(const Zone& zone, uint32_t ttl_cap = UINT32_MAX) {
    if (tc_) return;
    uint32_t ttl = std::min(zone.negative_ttl, ttl_cap);
    if (!w_.writeRecord(Section::kAuthority, zone.apex->owner, rrtype::kSoa, dns::rrclass::kIn, ttl,
                        snapshot_.soa(zone)->rdatas.front())) {
      tc_ = true;
    }
  }

  // RFC 1034 §4.3.2 step 3b: NS of the cut in authority, glue in additional, no AA.
  void referral(const Zone& zone, const Node& cut, bool first) {
    if (first) aa_ = false;
    const Rrset* ns = cut.find(rrtype::kNs);
    if (!ns) return;
    MessageWriter::Mark m = w_.mark();
    for (const auto& rdata : ns->rdatas) {
      if (!w_.writeRecord(Section::kAuthority, cut.owner, rrtype::kNs, dns::rrclass::kIn, ns->ttl,
                          rdata)) {
        w_.rollback(m);
        tc_ = true;
        return;
      }
    }
    for (const auto& rdata : ns->rdatas) addTarget(zone, rdata, /*glue=*/true);
  }

  void addTarget(const Zone& zone, std::string_view target, bool glue = false) {
    if (targets_ == kMaxAdditionalTargets) return;
    targets_list_[targets_++] = Target{&zone, target, glue};
  }

  void writeAdditional() {
    if (tc_) return;
    for (size_t i = 0; i < targets_; ++i) {
      const Target& t = targets_list_[i];
      LookupName name;
      name.set(t.name);
      bool duplicate = false;
      for (size_t j = 0; j < i; ++j) {
        if (t.zone == targets_list_[j].zone && name.len == targets_list_[j].name.size()) {
          LookupName other;
          other.set(targets_list_[j].name);
          if (other.key() == name.key()) duplicate = true;
        }
      }
      if (duplicate) continue;
      if (!dns::isSubdomain(name.key(), t.zone->origin)) continue;
      const Node* node = t.zone->find(name.key());
      if (!node) continue;
      // Below a cut only delegation glue is served; a non-glue lookup would leak occluded data.
      if (node->cut && !t.glue) continue;
      for (uint16_t type : {rrtype::kA, rrtype::kAaaa}) {
        const Rrset* rrset = snapshot_.resolve(node->find(type));
        if (!rrset) continue;
        MessageWriter::Mark m = w_.mark();
        for (const auto& rdata : rrset->rdatas) {
          if (!w_.writeRecord(Section::kAdditional, name.output, type, dns::rrclass::kIn,
                              rrset->ttl, rdata)) {
            w_.rollback(m);
            // RFC 9471 §3: glue for in-domain name servers must fit or the response is truncated.
            if (t.glue && node->cut) tc_ = true;
            return;
          }
        }
      }
    }
  }

  bool seen(std::string_view key) const {
    for (size_t i = 0; i < chain_len_; ++i) {
      if (view(chain_[i], chain_sizes_[i]) == key) return true;
    }
    return view(query_.qname_lower, query_.qname_len) == key;
  }
  void remember(std::string_view key) {
    if (chain_len_ == kMaxCnameChain) return;
    std::memcpy(chain_[chain_len_], key.data(), key.size());
    chain_sizes_[chain_len_++] = key.size();
  }

  struct Target {
    const Zone* zone;
    std::string_view name;
    bool glue;
  };

  const zone::Snapshot& snapshot_;
  const dns::Query& query_;
  MessageWriter& w_;
  bool aa_ = false;
  bool tc_ = false;
  Target targets_list_[kMaxAdditionalTargets];
  size_t targets_ = 0;
  const Rrset* dnames_[kMaxCnameChain];
  size_t dnames_len_ = 0;
  uint8_t synthesized_[2][dns::kMaxNameLength];
  int next_synthesized_ = 0;
  uint8_t chain_[kMaxCnameChain][dns::kMaxNameLength];
  size_t chain_sizes_[kMaxCnameChain];
  size_t chain_len_ = 0;
};

size_t udpLimit(const dns::Query& q, const zone::ServingOptions& options) {
  if (!q.has_edns) return dns::kClassicUdpSize;
  // RFC 6891 §6.2.5: values below 512 are treated as 512.
  size_t client = std::max<size_t>(q.edns_udp_size, dns::kClassicUdpSize);
  size_t ours = std::max<size_t>(options.edns_udp_size, dns::kClassicUdpSize);
  return std::min(client, ours);
}

// RFC 4892 §2: CHAOS TXT id.server. (and BIND's hostname.bind.) names the instance that
// answered, version.server. (version.bind.) its version; each only when configured, otherwise
// REFUSED like any other CHAOS query. TTL 0: an identity must never come from a cache.
uint8_t chaosAnswer(const dns::Query& q, const zone::ServingOptions& options,
                    MessageWriter& w) noexcept {
  using namespace std::string_view_literals;
  if (q.qtype != rrtype::kTxt) return rcode::kRefused;
  const std::string_view name = view(q.qname_lower, q.qname_len);
  std::string_view txt;
  if (name == "\2id\6server\0"sv || name == "\10hostname\4bind\0"sv) {
    txt = options.identity_txt;
  } else if (name == "\7version\6server\0"sv || name == "\7version\4bind\0"sv) {
    txt = options.version_txt;
  }
  if (txt.empty()) return rcode::kRefused;
  uint16_t f = w.flags() | flag::kAa;
  // At most 129 octets of RDATA after a short question: it always fits in 512.
  if (!w.writeRecord(Section::kAnswer, view(q.qname, q.qname_len), rrtype::kTxt, dns::rrclass::kCh,
                     0, txt)) {
    f |= flag::kTc;
  }
  w.setFlags(f);
  return rcode::kNoError;
}

// `*ext_rcode` receives the upper bits of the rcode (RFC 6891 §6.1.3), sent in the OPT.
size_t answerImpl(std::span<const uint8_t> request, const zone::Snapshot* snapshot,
                  Transport transport, std::span<uint8_t> out, uint8_t* ext_rcode) noexcept {
  try {
    dns::Query q;
    dns::ParseStatus status = dns::parseQuery(request, q);
    if (status == dns::ParseStatus::kDrop) return 0;
    static const zone::ServingOptions kDefaults;
    const zone::ServingOptions& options = snapshot ? snapshot->options : kDefaults;

    size_t limit = transport == Transport::kTcp ? dns::kMaxMessageSize : udpLimit(q, options);
    MessageWriter w(out.data(), out.size(), limit);
    // QR set, opcode echoed, RD and CD copied (RFC 1035 §4.1.1, RFC 4035 §3.1.6); RA clear.
    uint16_t flags = flag::kQr | (q.header.flags & (flag::kOpcodeMask | flag::kRd | flag::kCd));
    w.setHeader(q.header.id, flags);

    // RFC 5001 §2.2: the NSID goes only to a client that asked for it, when one is configured.
    const std::string_view nsid =
        q.has_edns && q.edns_nsid ? std::string_view(options.nsid_option) : std::string_view();
    auto finishWith = [&](uint8_t rc) {
      if (q.qname_len) w.writeQuestion(q.qname, q.qname_len, q.qtype, q.qclass);
      w.setRcode(rc);
      if (q.has_edns) w.writeOpt(options.edns_udp_size, 0, 0, q.edns_do, nsid);
      return w.finish();
    };
    if (status == dns::ParseStatus::kNotImp) return finishWith(rcode::kNotImp);
    if (status == dns::ParseStatus::kFormErr) return finishWith(rcode::kFormErr);

    if (!w.writeQuestion(q.qname, q.qname_len, q.qtype, q.qclass))
      return finishWith(rcode::kFormErr);
    const size_t opt_size = 11 + nsid.size();
    if (q.has_edns) w.reserve(opt_size);
    auto done = [&](uint8_t rc, uint8_t ext = 0) {
      w.setRcode(rc);
      if (q.has_edns) {
        w.release(opt_size);
        // Not with BADVERS: the options of an EDNS version we do not speak are not ours to read.
        w.writeOpt(options.edns_udp_size, ext, 0, q.edns_do, ext ? std::string_view() : nsid);
        *ext_rcode = ext;
      }
      return w.finish();
    };

    if (q.has_edns && q.edns_version != 0) {
      // RFC 6891 §6.1.3: BADVERS = 16, carried as 1 in the OPT's extended-rcode field.
      return done(rcode::kBadVers & 0xf, rcode::kBadVers >> 4);
    }
    if (q.has_tsig) return done(rcode::kNotAuth);  // RFC 8945 §5.2.1: no such key here
    if (q.qclass == dns::rrclass::kCh) return done(chaosAnswer(q, options, w));
    // QCLASS * matches every class (RFC 1035 §3.2.5); IN is the only one we hold, as in Knot.
    if (q.qclass != dns::rrclass::kIn && q.qclass != dns::rrclass::kAny) {
      return done(rcode::kRefused);
    }
    switch (q.qtype) {
      case rrtype::kAxfr:
      case rrtype::kIxfr:
        return done(rcode::kRefused);  // zone transfers are not offered (yet)
      case rrtype::kOpt:
      case rrtype::kTsig:
      case rrtype::kTkey:
        return done(rcode::kFormErr);  // meta-types that cannot be asked for (RFC 6895 §3.1)
      default:
        break;
    }
    const zone::Zone* zone =
        snapshot ? snapshot->findZone(view(q.qname_lower, q.qname_len)) : nullptr;
    if (!zone) return done(rcode::kRefused);  // not ours: no referral upwards (RFC 1034 §4.3.1)

    Resolver resolver(*snapshot, q, w);
    uint8_t rc = resolver.run(*zone);
    uint16_t f = w.flags();
    if (resolver.aa()) f |= flag::kAa;
    if (resolver.tc()) f |= flag::kTc;
    w.setFlags(f);
    return done(rc);
  } catch (...) {
    return 0;  // a bug drops this packet, never the daemon
  }
}

}  // namespace

size_t answer(std::span<const uint8_t> request, const zone::Snapshot* snapshot, Transport transport,
              std::span<uint8_t> out, AnswerInfo* info) noexcept {
  uint8_t ext_rcode = 0;
  size_t n = answerImpl(request, snapshot, transport, out, &ext_rcode);
  if (info && n >= dns::kHeaderSize) {
    // Read back from the response itself (the extended bits from where the OPT was written):
    // one place decides, the counters cannot disagree.
    info->rcode = static_cast<uint16_t>((out[3] & 0xf) | (ext_rcode << 4));
    info->truncated = (out[2] & 0x02) != 0;
    info->qtype = 0;
    if (dns::readU16(out.data() + 4) == 1) {
      size_t pos = dns::kHeaderSize;
      while (pos < n && out[pos] != 0 && out[pos] < 64) pos += 1 + out[pos];
      if (pos + 5 <= n) info->qtype = dns::readU16(out.data() + pos + 1);
    }
  }
  return n;
}

}  // namespace understudy::query
