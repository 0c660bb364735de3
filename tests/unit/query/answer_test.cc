// The answer engine, bytes in / bytes out, against a fixture snapshot. Responses are decoded with
// ldns, an independent parser, so an encoding bug cannot hide behind our own reader.
#include "understudy/query/answer.h"

#include <gtest/gtest.h>
#include <ldns/ldns.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../support/zone_builder.h"
#include "understudy/zone/compile.h"

namespace understudy::query {
namespace {

// example.test's SOA: serial 7, minimum 300 and a TTL of its own; the other zones get the default
// one (test::kDefaultSoa).
constexpr const char* kExampleTest = R"(
$TTL 3600
@            600 SOA   ns1 hostmaster 7 3600 600 1209600 300
@                NS    ns1
@                NS    ns2.other.test.
ns1              A     192.0.2.53
ns1              AAAA  2001:db8::53
@                MX    10 mail
@                MX    20 mx.other.test.
mail             A     192.0.2.25
www          300 A     192.0.2.1
www          300 AAAA  2001:db8::1
alias            CNAME www
chain1           CNAME chain2
chain2           CNAME www
dangling         CNAME missing
outside          CNAME www.elsewhere.test.
loop1            CNAME loop2
loop2            CNAME loop1
a.b.c            TXT   "deep"
*.wild           A     192.0.2.99
*.wild           TXT   "wild"
exists.wild      AAAA  2001:db8::99
*.wc             CNAME www
_sip._udp        SRV   10 60 5060 sip
sip              AAAA  2001:db8::5060
sub              NS    ns.sub
sub              NS    ns.other.test.
sub              DS    12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.sub           A     192.0.2.200
nods             NS    ns.nods
ns.nods          A     192.0.2.201
{BIG}
old          600 DNAME new
a.new            A     192.0.2.77
a.new            MX    10 mail
viacname         CNAME a.old
away             DNAME elsewhere.test.
toother          DNAME other.test.
long             DNAME {LONG}.elsewhere.test.
dloop1           DNAME dloop2
dloop2           DNAME dloop1
grow             DNAME x.grow
up               DNAME example.test.
)";

// 3 labels of 63 octets: 192 octets, so a DNAME to it overflows 255 for long enough names.
std::string longLabels() {
  std::string label(63, 'l');
  return label + "." + label + "." + label;
}

std::string exampleTestText() {
  std::string text = kExampleTest;
  std::string big;
  for (int i = 0; i < 40; ++i) {
    if (i) big += '\n';
    big += "big              TXT   \"record number " + std::to_string(i) +
           " with some padding to make it long\"";
  }
  text.replace(text.find("{BIG}"), 5, big);
  text.replace(text.find("{LONG}"), 6, longLabels());
  return text;
}

const zone::Snapshot& fixture() {
  static std::shared_ptr<const zone::Snapshot> snapshot = [] {
    zone::ServingOptions options;
    options.edns_udp_size = 1232;
    return zone::compile({test::zoneFromText("example.test", exampleTestText(), "fixture.zone"),
                          test::zoneFromText("other.test", "www A 198.51.100.1\n", "other.zone"),
                          test::zoneFromText("moved.test",
                                             "@ NS    ns.elsewhere.test.\n"
                                             "@ DNAME example.test.\n",
                                             "moved.zone")},
                         options);
  }();
  return *snapshot;
}

struct QueryOptions {
  bool edns = true;
  uint16_t udp_size = 1232;
  uint8_t edns_version = 0;
  uint16_t qclass = LDNS_RR_CLASS_IN;
  ldns_pkt_opcode opcode = LDNS_PACKET_QUERY;
  Transport transport = Transport::kUdp;
  bool nsid = false;                         // ask for the NSID (RFC 5001: an empty option 3)
  const zone::Snapshot* snapshot = nullptr;  // nullptr: fixture()
};

struct Response {
  size_t size = 0;
  std::vector<uint8_t> wire;
  ldns_pkt* pkt = nullptr;
  ~Response() {
    if (pkt) ldns_pkt_free(pkt);
  }
  ldns_pkt_rcode rcode() const { return ldns_pkt_get_rcode(pkt); }
  bool aa() const { return ldns_pkt_aa(pkt); }
  bool tc() const { return ldns_pkt_tc(pkt); }
  // "owner ttl class type rdata" per record, in the order sent.
  std::vector<std::string> lines(ldns_rr_list* list) const {
    std::vector<std::string> out;
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
      char* s = ldns_rr2str(ldns_rr_list_rr(list, i));
      std::string line(s);
      free(s);
      while (!line.empty() && line.back() == '\n') line.pop_back();
      for (auto& c : line) c = c == '\t' ? ' ' : c;
      out.push_back(line);
    }
    return out;
  }
  std::vector<std::string> section(ldns_rr_list* list) const {
    std::vector<std::string> out = lines(list);
    std::sort(out.begin(), out.end());
    return out;
  }
  // The answer section as sent, for answers whose order is meaningful: a CNAME chain in the
  // order it is followed (RFC 1034 §4.3.2), each DNAME before the CNAME synthesized from it
  // (RFC 6672 §3.1).
  std::vector<std::string> answerInOrder() const { return lines(ldns_pkt_answer(pkt)); }
  std::vector<std::string> answer() const { return section(ldns_pkt_answer(pkt)); }
  // The OPT's RDATA (its EDNS options, encoded), "" when it has none or there is no OPT.
  std::string ednsOptions() const {
    ldns_rdf* data = ldns_pkt_edns_data(pkt);
    if (!data) return "";
    return std::string(reinterpret_cast<const char*>(ldns_rdf_data(data)), ldns_rdf_size(data));
  }
  std::vector<std::string> authority() const { return section(ldns_pkt_authority(pkt)); }
  std::vector<std::string> additional() const { return section(ldns_pkt_additional(pkt)); }
};

std::unique_ptr<Response> ask(const std::string& name, ldns_rr_type type, QueryOptions o = {}) {
  ldns_rdf* qname = ldns_dname_new_frm_str(name.c_str());
  ldns_pkt* q = ldns_pkt_query_new(qname, type, static_cast<ldns_rr_class>(o.qclass), LDNS_RD);
  ldns_pkt_set_id(q, 4242);
  ldns_pkt_set_opcode(q, o.opcode);
  if (o.edns) {
    ldns_pkt_set_edns_udp_size(q, o.udp_size);
    ldns_pkt_set_edns_version(q, o.edns_version);
    ldns_pkt_set_edns_do(q, false);
    // ldns only emits OPT when some EDNS field is non-default; udp size always is here.
    if (o.nsid) {
      static const uint8_t kNsidRequest[] = {0, 3, 0, 0};
      ldns_pkt_set_edns_data(
          q, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, sizeof kNsidRequest, kNsidRequest));
    }
  }
  uint8_t* wire = nullptr;
  size_t wire_len = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, q, &wire_len), LDNS_STATUS_OK);
  ldns_pkt_free(q);
  auto r = std::make_unique<Response>();
  r->wire.resize(kMaxResponseSize);
  r->size = answer(std::span<const uint8_t>(wire, wire_len), o.snapshot ? o.snapshot : &fixture(),
                   o.transport, r->wire);
  free(wire);
  r->wire.resize(r->size);
  if (r->size) {
    EXPECT_EQ(ldns_wire2pkt(&r->pkt, r->wire.data(), r->size), LDNS_STATUS_OK);
  }
  return r;
}

using Lines = std::vector<std::string>;

TEST(Answer, PositiveAnswerIsAuthoritativeWithTtl) {
  auto r = ask("www.example.test.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(r->pkt);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_FALSE(ldns_pkt_ra(r->pkt));
  EXPECT_TRUE(ldns_pkt_rd(r->pkt));
  EXPECT_EQ(ldns_pkt_id(r->pkt), 4242);
  EXPECT_EQ(r->answer(), Lines{"www.example.test. 300 IN A 192.0.2.1"});
  EXPECT_TRUE(r->authority().empty());
}

TEST(Answer, EchoesQuestionCase) {
  auto r = ask("WwW.ExAmPlE.TeSt.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(r->pkt);
  // The question name starts at offset 12, exactly as sent.
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r->wire.data()) + 13, 3), "WwW");
  EXPECT_EQ(r->answer().size(), 1u);
}

TEST(Answer, NoDataHasSoaWithNegativeTtl) {
  auto r = ask("www.example.test.", LDNS_RR_TYPE_MX);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_TRUE(r->answer().empty());
  // RFC 2308: min(SOA TTL 600, MINIMUM 300) = 300.
  EXPECT_EQ(r->authority(),
            Lines{"example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 7 3600 "
                  "600 1209600 300"});
}

TEST(Answer, NxDomainHasSoa) {
  auto r = ask("nope.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NXDOMAIN);
  EXPECT_TRUE(r->aa());
  ASSERT_EQ(r->authority().size(), 1u);
  EXPECT_NE(r->authority()[0].find("SOA"), std::string::npos);
}

TEST(Answer, EmptyNonTerminalIsNoData) {
  for (const char* name : {"b.c.example.test.", "c.example.test."}) {
    auto r = ask(name, LDNS_RR_TYPE_A);
    EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR) << name;
    EXPECT_TRUE(r->answer().empty()) << name;
    EXPECT_EQ(r->authority().size(), 1u) << name;
  }
}

TEST(Answer, CnameIsFollowedWithinTheZone) {
  auto r = ask("alias.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answerInOrder(), (Lines{"alias.example.test. 3600 IN CNAME www.example.test.",
                                       "www.example.test. 300 IN A 192.0.2.1"}));
}

TEST(Answer, CnameQueryIsNotFollowed) {
  auto r = ask("alias.example.test.", LDNS_RR_TYPE_CNAME);
  EXPECT_EQ(r->answer(), Lines{"alias.example.test. 3600 IN CNAME www.example.test."});
}

TEST(Answer, CnameChainAcrossZonesWeServe) {
  auto r = ask("chain1.example.test.", LDNS_RR_TYPE_AAAA);
  EXPECT_EQ(r->answerInOrder(), (Lines{"chain1.example.test. 3600 IN CNAME chain2.example.test.",
                                       "chain2.example.test. 3600 IN CNAME www.example.test.",
                                       "www.example.test. 300 IN AAAA 2001:db8::1"}));
}

TEST(Answer, CnameToMissingNameIsNxDomain) {
  // RFC 6604 §3: the rcode describes the last name in the chain.
  auto r = ask("dangling.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(r->answer(), Lines{"dangling.example.test. 3600 IN CNAME missing.example.test."});
  EXPECT_EQ(r->authority().size(), 1u);
}

TEST(Answer, CnameOutOfOurZonesStops) {
  auto r = ask("outside.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_EQ(r->answer(), Lines{"outside.example.test. 3600 IN CNAME www.elsewhere.test."});
  EXPECT_TRUE(r->authority().empty());
}

TEST(Answer, CnameLoopIsCut) {
  auto r = ask("loop1.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_EQ(r->answerInOrder(), (Lines{"loop1.example.test. 3600 IN CNAME loop2.example.test.",
                                       "loop2.example.test. 3600 IN CNAME loop1.example.test."}));
}

TEST(Answer, WildcardSynthesis) {
  auto r = ask("anything.wild.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answer(), Lines{"anything.wild.example.test. 3600 IN A 192.0.2.99"});
  auto deep = ask("x.y.wild.example.test.", LDNS_RR_TYPE_TXT);
  EXPECT_EQ(deep->answer(), Lines{"x.y.wild.example.test. 3600 IN TXT \"wild\""});
  auto nodata = ask("anything.wild.example.test.", LDNS_RR_TYPE_MX);
  EXPECT_EQ(nodata->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(nodata->answer().empty());
  EXPECT_EQ(nodata->authority().size(), 1u);
}

TEST(Answer, ExistingNameBlocksWildcard) {
  // RFC 4592 §2.2.1: exists.wild exists, so the wildcard does not apply to it, nor below it.
  auto r = ask("exists.wild.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(r->answer().empty());
  auto below = ask("x.exists.wild.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(below->rcode(), LDNS_RCODE_NXDOMAIN);
}

TEST(Answer, WildcardCname) {
  auto r = ask("foo.wc.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->answerInOrder(), (Lines{"foo.wc.example.test. 3600 IN CNAME www.example.test.",
                                       "www.example.test. 300 IN A 192.0.2.1"}));
}

TEST(Answer, ReferralBelowACut) {
  for (const char* name : {"sub.example.test.", "host.sub.example.test."}) {
    auto r = ask(name, LDNS_RR_TYPE_A);
    EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR) << name;
    EXPECT_FALSE(r->aa()) << name;
    EXPECT_TRUE(r->answer().empty()) << name;
    EXPECT_EQ(r->authority(), (Lines{"sub.example.test. 3600 IN NS ns.other.test.",
                                     "sub.example.test. 3600 IN NS ns.sub.example.test."}))
        << name;
    EXPECT_EQ(r->additional(), Lines{"ns.sub.example.test. 3600 IN A 192.0.2.200"}) << name;
  }
  // NS at the cut is a referral too: the child is authoritative for it.
  auto ns = ask("sub.example.test.", LDNS_RR_TYPE_NS);
  EXPECT_FALSE(ns->aa());
  EXPECT_TRUE(ns->answer().empty());
}

TEST(Answer, DsAtTheCutIsAnsweredByTheParent) {
  auto r = ask("sub.example.test.", LDNS_RR_TYPE_DS);
  EXPECT_TRUE(r->aa());
  ASSERT_EQ(r->answer().size(), 1u);
  EXPECT_NE(r->answer()[0].find("IN DS 12345 13 2"), std::string::npos);
  auto none = ask("nods.example.test.", LDNS_RR_TYPE_DS);
  EXPECT_TRUE(none->aa());
  EXPECT_EQ(none->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(none->answer().empty());
  ASSERT_EQ(none->authority().size(), 1u);
  EXPECT_NE(none->authority()[0].find("SOA"), std::string::npos);
  // Below the cut, DS is the child's business: referral.
  auto below = ask("x.sub.example.test.", LDNS_RR_TYPE_DS);
  EXPECT_FALSE(below->aa());
}

TEST(Answer, AdditionalAddressesForNsMxSrv) {
  auto ns = ask("example.test.", LDNS_RR_TYPE_NS);
  EXPECT_TRUE(ns->aa());
  EXPECT_EQ(ns->additional(), (Lines{"ns1.example.test. 3600 IN A 192.0.2.53",
                                     "ns1.example.test. 3600 IN AAAA 2001:db8::53"}));
  auto mx = ask("example.test.", LDNS_RR_TYPE_MX);
  EXPECT_EQ(mx->additional(), Lines{"mail.example.test. 3600 IN A 192.0.2.25"});
  auto srv = ask("_sip._udp.example.test.", LDNS_RR_TYPE_SRV);
  EXPECT_EQ(srv->additional(), Lines{"sip.example.test. 3600 IN AAAA 2001:db8::5060"});
}

TEST(Answer, OutsideOurZonesIsRefused) {
  auto r = ask("www.example.com.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_REFUSED);
  EXPECT_FALSE(r->aa());
  EXPECT_TRUE(r->answer().empty());
  EXPECT_TRUE(r->authority().empty());
}

TEST(Answer, SecondZoneIsServed) {
  auto r = ask("www.other.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->answer(), Lines{"www.other.test. 3600 IN A 198.51.100.1"});
}

TEST(Answer, OpcodeOtherThanQueryIsNotImp) {
  QueryOptions o;
  o.opcode = LDNS_PACKET_STATUS;
  auto r = ask("www.example.test.", LDNS_RR_TYPE_A, o);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOTIMPL);
  EXPECT_TRUE(ldns_pkt_edns(r->pkt));  // the OPT is echoed on errors too
  EXPECT_EQ(ldns_pkt_qdcount(r->pkt), 1);
  o.opcode = LDNS_PACKET_NOTIFY;
  EXPECT_EQ(ask("www.example.test.", LDNS_RR_TYPE_A, o)->rcode(), LDNS_RCODE_NOTIMPL);
}

TEST(Answer, ClassOtherThanInIsRefused) {
  QueryOptions o;
  o.qclass = LDNS_RR_CLASS_CH;
  EXPECT_EQ(ask("www.example.test.", LDNS_RR_TYPE_A, o)->rcode(), LDNS_RCODE_REFUSED);
  o.qclass = LDNS_RR_CLASS_HS;
  EXPECT_EQ(ask("www.example.test.", LDNS_RR_TYPE_A, o)->rcode(), LDNS_RCODE_REFUSED);
}

TEST(Answer, ClassAnyMatchesIn) {
  QueryOptions o;
  o.qclass = LDNS_RR_CLASS_ANY;
  auto r = ask("www.example.test.", LDNS_RR_TYPE_A, o);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_EQ(r->answer(), Lines{"www.example.test. 300 IN A 192.0.2.1"});
}

TEST(Answer, ZoneTransfersAreRefused) {
  EXPECT_EQ(ask("example.test.", LDNS_RR_TYPE_AXFR)->rcode(), LDNS_RCODE_REFUSED);
  QueryOptions tcp;
  tcp.transport = Transport::kTcp;
  EXPECT_EQ(ask("example.test.", LDNS_RR_TYPE_IXFR, tcp)->rcode(), LDNS_RCODE_REFUSED);
}

TEST(Answer, AnyGetsOneRrset) {
  // RFC 8482: the apex has SOA, NS and MX; a single RRset comes back, over UDP and TCP.
  for (Transport t : {Transport::kUdp, Transport::kTcp}) {
    QueryOptions o;
    o.transport = t;
    auto r = ask("example.test.", LDNS_RR_TYPE_ANY, o);
    EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
    EXPECT_TRUE(r->aa());
    std::set<std::string> types;
    for (const auto& line : r->answer()) types.insert(line.substr(line.find(" IN ") + 4, 3));
    EXPECT_EQ(types.size(), 1u);
  }
  auto missing = ask("nope.example.test.", LDNS_RR_TYPE_ANY);
  EXPECT_EQ(missing->rcode(), LDNS_RCODE_NXDOMAIN);
}

TEST(Answer, EdnsEchoedWithOurPayloadSize) {
  auto r = ask("www.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_pkt_edns_udp_size(r->pkt), 1232);
  EXPECT_EQ(ldns_pkt_get_rcode(r->pkt), LDNS_RCODE_NOERROR);
  EXPECT_EQ(r->wire[11], 1);  // ARCOUNT on the wire: just the OPT (ldns hides it)
}

TEST(Answer, NoOptWhenTheQueryHadNone) {
  QueryOptions o;
  o.edns = false;
  auto r = ask("www.example.test.", LDNS_RR_TYPE_A, o);
  EXPECT_FALSE(ldns_pkt_edns(r->pkt));
  EXPECT_EQ(r->wire[11], 0);
}

TEST(Answer, EdnsVersionAboveZeroIsBadVers) {
  QueryOptions o;
  o.edns_version = 1;
  auto r = ask("www.example.test.", LDNS_RR_TYPE_A, o);
  // RFC 6891 §6.1.3: BADVERS (16) = header rcode 0 + extended rcode 1 in the OPT.
  EXPECT_EQ(r->wire[3] & 0xf, 0);
  EXPECT_EQ(ldns_pkt_edns_extended_rcode(r->pkt), 1);
  EXPECT_TRUE(r->answer().empty());
}

TEST(Answer, TruncatesByWholeRrsetsAndTcpGetsAll) {
  QueryOptions o;
  o.edns = false;  // 512 octets
  auto r = ask("big.example.test.", LDNS_RR_TYPE_TXT, o);
  EXPECT_TRUE(r->tc());
  EXPECT_LE(r->size, 512u);
  EXPECT_TRUE(r->answer().empty());  // the one RRset does not fit whole
  EXPECT_EQ(ldns_pkt_qdcount(r->pkt), 1);
  o.transport = Transport::kTcp;
  auto full = ask("big.example.test.", LDNS_RR_TYPE_TXT, o);
  EXPECT_FALSE(full->tc());
  EXPECT_EQ(full->answer().size(), 40u);
  QueryOptions small;
  small.udp_size = 700;
  auto edns = ask("big.example.test.", LDNS_RR_TYPE_TXT, small);
  EXPECT_TRUE(edns->tc());
  EXPECT_LE(edns->size, 700u);
  EXPECT_TRUE(ldns_pkt_edns(edns->pkt));  // the OPT survives truncation
}

TEST(Answer, CompressionKeepsAnswersSmall) {
  auto r = ask("example.test.", LDNS_RR_TYPE_MX);
  // Uncompressed the owner alone would repeat 14 octets per record.
  EXPECT_LT(r->size, 130u) << r->size;
  EXPECT_EQ(r->answer().size(), 2u);
}

TEST(Answer, MalformedPacketsGetFormErrOrSilence) {
  std::vector<uint8_t> out(kMaxResponseSize);
  const uint8_t short_header[] = {0x12, 0x34, 0x01};
  EXPECT_EQ(answer(short_header, &fixture(), Transport::kUdp, out), 0u);
  // Header only, QDCOUNT 0: FORMERR echoing the ID.
  const uint8_t no_question[] = {0x12, 0x34, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
  size_t n = answer(no_question, &fixture(), Transport::kUdp, out);
  ASSERT_EQ(n, 12u);
  EXPECT_EQ(out[0], 0x12);
  EXPECT_EQ(out[2] & 0x80, 0x80);
  EXPECT_EQ(out[3] & 0xf, LDNS_RCODE_FORMERR);
  // A response (QR=1) is never answered.
  const uint8_t response[] = {0x12, 0x34, 0x81, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(answer(response, &fixture(), Transport::kUdp, out), 0u);
}

TEST(Answer, NoSnapshotRefusesEverything) {
  ldns_rdf* qname = ldns_dname_new_frm_str("www.example.test.");
  ldns_pkt* q = ldns_pkt_query_new(qname, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0);
  uint8_t* wire = nullptr;
  size_t len = 0;
  ldns_pkt2wire(&wire, q, &len);
  ldns_pkt_free(q);
  std::vector<uint8_t> out(kMaxResponseSize);
  size_t n = answer(std::span<const uint8_t>(wire, len), nullptr, Transport::kUdp, out);
  free(wire);
  ASSERT_GT(n, 12u);
  EXPECT_EQ(out[3] & 0xf, LDNS_RCODE_REFUSED);
}

// ---------------------------------------------------------------------------------------------
// DNAME (RFC 6672). old.example.test. DNAME new.example.test. (TTL 600).

const std::string kExampleSoa =
    "example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 7 3600 600 1209600 300";

TEST(Dname, BelowTheOwnerSynthesizesACnameAndFollowsIt) {
  auto r = ask("a.old.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answerInOrder(), (Lines{"old.example.test. 600 IN DNAME new.example.test.",
                                       "a.old.example.test. 600 IN CNAME a.new.example.test.",
                                       "a.new.example.test. 3600 IN A 192.0.2.77"}));
  EXPECT_TRUE(r->authority().empty());
}

TEST(Dname, FollowedTargetGetsItsAdditionalRecords) {
  auto r = ask("a.old.example.test.", LDNS_RR_TYPE_MX);
  EXPECT_EQ(r->answerInOrder(), (Lines{"old.example.test. 600 IN DNAME new.example.test.",
                                       "a.old.example.test. 600 IN CNAME a.new.example.test.",
                                       "a.new.example.test. 3600 IN MX 10 mail.example.test."}));
  EXPECT_EQ(r->additional(), Lines{"mail.example.test. 3600 IN A 192.0.2.25"});
}

TEST(Dname, SynthesizedTargetMissingIsNxDomain) {
  // RFC 6604 §3 as for CNAME: the rcode is that of the last name, x.y.new.example.test.
  auto r = ask("x.y.old.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NXDOMAIN);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answerInOrder(),
            (Lines{"old.example.test. 600 IN DNAME new.example.test.",
                   "x.y.old.example.test. 600 IN CNAME x.y.new.example.test."}));
  EXPECT_EQ(r->authority(), Lines{kExampleSoa});
}

TEST(Dname, AtTheOwnerIsAnOrdinaryRrset) {
  auto dname = ask("old.example.test.", LDNS_RR_TYPE_DNAME);
  EXPECT_EQ(dname->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(dname->aa());
  EXPECT_EQ(dname->answerInOrder(), Lines{"old.example.test. 600 IN DNAME new.example.test."});
  EXPECT_TRUE(dname->authority().empty());
  // The owner itself is not redirected: other types are NODATA.
  auto a = ask("old.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(a->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(a->answer().empty());
  EXPECT_EQ(a->authority(), Lines{kExampleSoa});
  auto any = ask("old.example.test.", LDNS_RR_TYPE_ANY);
  EXPECT_EQ(any->answerInOrder(), Lines{"old.example.test. 600 IN DNAME new.example.test."});
}

TEST(Dname, QtypeCnameStopsAtTheSynthesizedCname) {
  auto r = ask("a.old.example.test.", LDNS_RR_TYPE_CNAME);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_EQ(r->answerInOrder(), (Lines{"old.example.test. 600 IN DNAME new.example.test.",
                                       "a.old.example.test. 600 IN CNAME a.new.example.test."}));
  EXPECT_TRUE(r->authority().empty());
}

TEST(Dname, QtypeDnameBelowTheOwnerIsFollowedToTheTarget) {
  // The target a.new has no DNAME: the chain ends in NODATA there (as Knot answers).
  auto r = ask("a.old.example.test.", LDNS_RR_TYPE_DNAME);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_EQ(r->answerInOrder(), (Lines{"old.example.test. 600 IN DNAME new.example.test.",
                                       "a.old.example.test. 600 IN CNAME a.new.example.test."}));
  EXPECT_EQ(r->authority(), Lines{kExampleSoa});
}

TEST(Dname, CnameIntoADnameAndOn) {
  auto r = ask("viacname.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_EQ(r->answerInOrder(), (Lines{"viacname.example.test. 3600 IN CNAME a.old.example.test.",
                                       "old.example.test. 600 IN DNAME new.example.test.",
                                       "a.old.example.test. 600 IN CNAME a.new.example.test.",
                                       "a.new.example.test. 3600 IN A 192.0.2.77"}));
}

TEST(Dname, TargetInAnotherServedZoneIsFollowed) {
  auto r = ask("www.toother.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_EQ(r->answerInOrder(), (Lines{"toother.example.test. 3600 IN DNAME other.test.",
                                       "www.toother.example.test. 3600 IN CNAME www.other.test.",
                                       "www.other.test. 3600 IN A 198.51.100.1"}));
}

TEST(Dname, TargetOutsideOurZonesStopsAfterTheCname) {
  auto r = ask("www.away.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answerInOrder(),
            (Lines{"away.example.test. 3600 IN DNAME elsewhere.test.",
                   "www.away.example.test. 3600 IN CNAME www.elsewhere.test."}));
  EXPECT_TRUE(r->authority().empty());
}

TEST(Dname, AtTheApexRedirectsTheWholeZone) {
  auto r = ask("www.moved.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answerInOrder(), (Lines{"moved.test. 3600 IN DNAME example.test.",
                                       "www.moved.test. 3600 IN CNAME www.example.test.",
                                       "www.example.test. 300 IN A 192.0.2.1"}));
  // The apex itself keeps its own data.
  auto ns = ask("moved.test.", LDNS_RR_TYPE_NS);
  EXPECT_EQ(ns->answerInOrder(), Lines{"moved.test. 3600 IN NS ns.elsewhere.test."});
}

TEST(Dname, OverlongResultIsYxDomainWithTheDname) {
  // 192-octet target + "elsewhere.test.": a query name whose labels below "long" take more than
  // 255 - 208 octets cannot be rewritten (RFC 6672 §2.2).
  std::string label(30, 'q');
  std::string fits = label + ".long.example.test.";                     // 31 + 208 = 239 octets
  std::string overflows = label + "." + label + ".long.example.test.";  // 62 + 208 = 270
  const std::string dname = "long.example.test. 3600 IN DNAME " + longLabels() + ".elsewhere.test.";
  auto ok = ask(fits, LDNS_RR_TYPE_A);
  EXPECT_EQ(ok->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ok->answerInOrder(), (Lines{dname, fits + " 3600 IN CNAME " + label + "." +
                                                   longLabels() + ".elsewhere.test."}));
  auto r = ask(overflows, LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_YXDOMAIN);
  EXPECT_TRUE(r->aa());
  EXPECT_EQ(r->answerInOrder(), Lines{dname});
  EXPECT_TRUE(r->authority().empty());
}

TEST(Dname, KeepsTheQueryCaseBelowTheOwner) {
  // The labels taken from the question keep the client's case in the synthesized target; the
  // DNAME's target keeps its configured case. (Owner names are compressed against the question
  // and earlier RDATA, so they take the case of what they point at: RFC 4343 §4.1 allows it.)
  auto r = ask("A.OLD.EXAMPLE.TEST.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->answerInOrder(), (Lines{"OLD.EXAMPLE.TEST. 600 IN DNAME new.example.test.",
                                       "A.OLD.EXAMPLE.TEST. 600 IN CNAME A.new.example.test.",
                                       "A.new.example.test. 3600 IN A 192.0.2.77"}));
}

TEST(Dname, LoopBetweenTwoDnamesIsCut) {
  auto r = ask("a.dloop1.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_EQ(r->answerInOrder(),
            (Lines{"dloop1.example.test. 3600 IN DNAME dloop2.example.test.",
                   "a.dloop1.example.test. 3600 IN CNAME a.dloop2.example.test.",
                   "dloop2.example.test. 3600 IN DNAME dloop1.example.test.",
                   "a.dloop2.example.test. 3600 IN CNAME a.dloop1.example.test."}));
}

TEST(Dname, TargetBelowItsOwnerEndsAtTheChainLimitWithTheDnameOnce) {
  // grow DNAME x.grow: a.grow -> a.x.grow -> a.x.x.grow ... never repeats a name.
  auto r = ask("a.grow.example.test.", LDNS_RR_TYPE_A);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  Lines got = r->answerInOrder();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0], "grow.example.test. 3600 IN DNAME x.grow.example.test.");
  EXPECT_EQ(std::count_if(got.begin(), got.end(),
                          [](const std::string& l) { return l.find(" DNAME ") != l.npos; }),
            1);
  EXPECT_EQ(got.size(), 1u + 12u) << "one DNAME, then one CNAME per step of the chain limit";
  EXPECT_EQ(got[1], "a.grow.example.test. 3600 IN CNAME a.x.grow.example.test.");
  EXPECT_EQ(got[2], "a.x.grow.example.test. 3600 IN CNAME a.x.x.grow.example.test.");
}

TEST(Dname, TruncatedByWholeRrsetsInChainOrder) {
  // up DNAME example.test.: big.up -> big, whose TXT RRset does not fit in 512 octets.
  QueryOptions o;
  o.edns = false;
  auto r = ask("big.up.example.test.", LDNS_RR_TYPE_TXT, o);
  EXPECT_TRUE(r->tc());
  EXPECT_LE(r->size, 512u);
  EXPECT_EQ(r->answerInOrder(), (Lines{"up.example.test. 3600 IN DNAME example.test.",
                                       "big.up.example.test. 3600 IN CNAME big.example.test."}));
  o.transport = Transport::kTcp;
  auto full = ask("big.up.example.test.", LDNS_RR_TYPE_TXT, o);
  EXPECT_FALSE(full->tc());
  EXPECT_EQ(full->answerInOrder().size(), 2u + 40u);
}

// ---------------------------------------------------------------------------------------------
// Identity: NSID (RFC 5001) and CHAOS TXT (RFC 4892), from `server.nsid` and `server.version`.

const zone::Snapshot& identityFixture() {
  static std::shared_ptr<const zone::Snapshot> snapshot = [] {
    std::string text = "www A 192.0.2.1\n";
    for (int i = 0; i < 8; ++i) {
      text += "big TXT \"" + std::to_string(i) +
              " some padding padding padding padding padding padding padding\"\n";
    }
    zone::ServingOptions options;
    options.setIdentity("ns-ams-1");
    options.setVersion("understudy 9.9");
    return test::snapshotFromText("example.test", text, options);
  }();
  return *snapshot;
}

const std::string kNsidOption = std::string("\0\3\0\x08", 4) + "ns-ams-1";

TEST(Nsid, SentOnlyToAClientThatAsksWhenConfigured) {
  QueryOptions asks;
  asks.nsid = true;
  asks.snapshot = &identityFixture();
  auto r = ask("www.example.test.", LDNS_RR_TYPE_A, asks);
  EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_EQ(r->answer(), Lines{"www.example.test. 3600 IN A 192.0.2.1"});
  EXPECT_EQ(r->ednsOptions(), kNsidOption);
  // Not asked: no option.
  QueryOptions silent;
  silent.snapshot = &identityFixture();
  EXPECT_EQ(ask("www.example.test.", LDNS_RR_TYPE_A, silent)->ednsOptions(), "");
  // Asked, not configured: nothing changes.
  QueryOptions unconfigured;
  unconfigured.nsid = true;
  auto plain = ask("www.example.test.", LDNS_RR_TYPE_A, unconfigured);
  EXPECT_TRUE(ldns_pkt_edns(plain->pkt));
  EXPECT_EQ(plain->ednsOptions(), "");
}

TEST(Nsid, OnEveryAnswerThatCarriesAnOptButBadvers) {
  QueryOptions asks;
  asks.nsid = true;
  asks.snapshot = &identityFixture();
  // Negative and refused answers say which instance answered, too.
  auto nx = ask("nope.example.test.", LDNS_RR_TYPE_A, asks);
  EXPECT_EQ(nx->rcode(), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(nx->ednsOptions(), kNsidOption);
  auto refused = ask("www.example.com.", LDNS_RR_TYPE_A, asks);
  EXPECT_EQ(refused->rcode(), LDNS_RCODE_REFUSED);
  EXPECT_EQ(refused->ednsOptions(), kNsidOption);
  auto notimp = ask("www.example.test.", LDNS_RR_TYPE_A, [&] {
    QueryOptions o = asks;
    o.opcode = LDNS_PACKET_STATUS;
    return o;
  }());
  EXPECT_EQ(notimp->rcode(), LDNS_RCODE_NOTIMPL);
  EXPECT_EQ(notimp->ednsOptions(), kNsidOption);
  // BADVERS: the options of an EDNS version we do not speak are not read.
  QueryOptions v1 = asks;
  v1.edns_version = 1;
  auto badvers = ask("www.example.test.", LDNS_RR_TYPE_A, v1);
  EXPECT_EQ(ldns_pkt_edns_extended_rcode(badvers->pkt), 1);
  EXPECT_EQ(badvers->ednsOptions(), "");
}

TEST(Nsid, AlwaysFitsBesideATruncatedAnswer) {
  QueryOptions asks;
  asks.nsid = true;
  asks.udp_size = 512;
  asks.snapshot = &identityFixture();
  auto r = ask("big.example.test.", LDNS_RR_TYPE_TXT, asks);
  EXPECT_TRUE(r->tc());
  EXPECT_LE(r->size, 512u);
  EXPECT_TRUE(r->answer().empty());
  EXPECT_EQ(r->ednsOptions(), kNsidOption);
  // With a little more room the RRset fits beside the NSID exactly as it would without it.
  asks.udp_size = 1232;
  auto whole = ask("big.example.test.", LDNS_RR_TYPE_TXT, asks);
  EXPECT_FALSE(whole->tc());
  EXPECT_EQ(whole->answer().size(), 8u);
}

TEST(Chaos, IdServerAndHostnameBindAnswerTheIdentity) {
  QueryOptions ch;
  ch.qclass = LDNS_RR_CLASS_CH;
  ch.snapshot = &identityFixture();
  for (const char* name : {"id.server.", "hostname.bind.", "ID.Server."}) {
    auto r = ask(name, LDNS_RR_TYPE_TXT, ch);
    EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR) << name;
    EXPECT_TRUE(r->aa()) << name;
    EXPECT_EQ(r->answerInOrder(), Lines{std::string(name) + " 0 CH TXT \"ns-ams-1\""}) << name;
    EXPECT_TRUE(r->authority().empty()) << name;
  }
  for (const char* name : {"version.server.", "version.bind."}) {
    auto r = ask(name, LDNS_RR_TYPE_TXT, ch);
    EXPECT_EQ(r->rcode(), LDNS_RCODE_NOERROR) << name;
    EXPECT_TRUE(r->aa()) << name;
    EXPECT_EQ(r->answerInOrder(), Lines{std::string(name) + " 0 CH TXT \"understudy 9.9\""})
        << name;
  }
}

TEST(Chaos, EverythingElseIsRefusedAsBefore) {
  QueryOptions ch;
  ch.qclass = LDNS_RR_CLASS_CH;
  ch.snapshot = &identityFixture();
  // Another type, another CHAOS name, an IN name in class CH.
  for (auto [name, type] :
       {std::pair{"id.server.", LDNS_RR_TYPE_A}, std::pair{"id.server.", LDNS_RR_TYPE_ANY},
        std::pair{"authors.bind.", LDNS_RR_TYPE_TXT},
        std::pair{"www.example.test.", LDNS_RR_TYPE_TXT}}) {
    auto r = ask(name, type, ch);
    EXPECT_EQ(r->rcode(), LDNS_RCODE_REFUSED) << name;
    EXPECT_FALSE(r->aa()) << name;
    EXPECT_TRUE(r->answer().empty()) << name;
  }
  // id.server. in class IN is not ours either.
  QueryOptions in;
  in.snapshot = &identityFixture();
  EXPECT_EQ(ask("id.server.", LDNS_RR_TYPE_TXT, in)->rcode(), LDNS_RCODE_REFUSED);
  // Without `server.nsid` / `server.version` all four names are REFUSED, as before.
  QueryOptions unconfigured;
  unconfigured.qclass = LDNS_RR_CLASS_CH;
  for (const char* name : {"id.server.", "hostname.bind.", "version.server.", "version.bind."}) {
    auto r = ask(name, LDNS_RR_TYPE_TXT, unconfigured);
    EXPECT_EQ(r->rcode(), LDNS_RCODE_REFUSED) << name;
    EXPECT_TRUE(r->answer().empty()) << name;
  }
}

TEST(Chaos, VersionAloneDoesNotNameTheInstance) {
  zone::ServingOptions options;
  options.setVersion("v1");
  auto snapshot = zone::compile({}, options);
  QueryOptions ch;
  ch.qclass = LDNS_RR_CLASS_CH;
  ch.snapshot = snapshot.get();
  EXPECT_EQ(ask("version.bind.", LDNS_RR_TYPE_TXT, ch)->rcode(), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ask("id.server.", LDNS_RR_TYPE_TXT, ch)->rcode(), LDNS_RCODE_REFUSED);
  ch.nsid = true;
  EXPECT_EQ(ask("version.bind.", LDNS_RR_TYPE_TXT, ch)->ednsOptions(), "");
}
}  // namespace
}  // namespace understudy::query

namespace understudy::query {
namespace {

TEST(Answer, RdataNamesKeepTheirCaseWhateverTheQuestionCase) {
  // RFC 4343 §4.1: the CNAME target is served as configured even when the query is upper case.
  auto r = ask("ALIAS.EXAMPLE.TEST.", LDNS_RR_TYPE_CNAME);
  ASSERT_EQ(r->answer().size(), 1u);
  EXPECT_EQ(r->answer()[0], "ALIAS.EXAMPLE.TEST. 3600 IN CNAME www.example.test.");
  // The target is written out in full rather than pointing into the upper-case question.
  std::string wire(r->wire.begin(), r->wire.end());
  EXPECT_NE(wire.find(std::string("\3www\7example\4test", 17)), std::string::npos);
}

}  // namespace
}  // namespace understudy::query

namespace understudy::query {
namespace {

TEST(AnswerInfo, ReportsQtypeRcodeAndTruncation) {
  auto run = [](const std::string& name, ldns_rr_type type, QueryOptions o) {
    ldns_pkt* q =
        ldns_pkt_query_new(ldns_dname_new_frm_str(name.c_str()), type, LDNS_RR_CLASS_IN, LDNS_RD);
    if (o.edns) {
      ldns_pkt_set_edns_udp_size(q, o.udp_size);
      ldns_pkt_set_edns_version(q, o.edns_version);
    }
    uint8_t* wire = nullptr;
    size_t len = 0;
    ldns_pkt2wire(&wire, q, &len);
    ldns_pkt_free(q);
    std::vector<uint8_t> out(kMaxResponseSize);
    AnswerInfo info;
    answer(std::span<const uint8_t>(wire, len), &fixture(), o.transport, out, &info);
    free(wire);
    return info;
  };
  AnswerInfo nx = run("nope.example.test.", LDNS_RR_TYPE_AAAA, {});
  EXPECT_EQ(nx.qtype, LDNS_RR_TYPE_AAAA);
  EXPECT_EQ(nx.rcode, 3);
  EXPECT_FALSE(nx.truncated);
  QueryOptions badvers;
  badvers.edns_version = 1;
  EXPECT_EQ(run("www.example.test.", LDNS_RR_TYPE_A, badvers).rcode, 16);
  QueryOptions small;
  small.edns = false;
  AnswerInfo tc = run("big.example.test.", LDNS_RR_TYPE_TXT, small);
  EXPECT_TRUE(tc.truncated);
  EXPECT_EQ(tc.qtype, LDNS_RR_TYPE_TXT);
  EXPECT_EQ(run("www.example.com.", LDNS_RR_TYPE_MX, {}).rcode, 5);
}

}  // namespace
}  // namespace understudy::query
