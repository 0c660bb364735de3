// zone::compile: the semantic checks that need the whole zone, each with its message and the
// location of the offending record, and the shape of the compiled Snapshot.
#include "understudy/zone/compile.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/zone_builder.h"
#include "understudy/dns/name.h"
#include "understudy/dns/types.h"

namespace understudy::zone {
namespace {

// The zone example.test from `text` (records at t.zone:1, 2, ...) beside a zone `extra_zone`
// with only its SOA, compiled: the errors, or "" when it compiles.
std::string compileErrors(const std::string& text, const char* extra_zone = nullptr) {
  try {
    std::vector<ZoneSource> zones{test::zoneFromText("example.test", text, "t.zone")};
    if (extra_zone) zones.push_back(test::zoneFromText(extra_zone, "", "t.zone"));
    compile(zones, {});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

struct Case {
  const char* what;
  std::string records;
  std::string expected;  // the full "file:line: message"
};

class CompileErrors : public ::testing::TestWithParam<Case> {};

TEST_P(CompileErrors, NamesTheRecordAndTheProblem) {
  EXPECT_EQ(compileErrors(GetParam().records), GetParam().expected) << GetParam().what;
}

INSTANTIATE_TEST_SUITE_P(
    Table, CompileErrors,
    ::testing::Values(
        Case{"cname_and_a",
             "www CNAME other\n"
             "www A 192.0.2.1\n",
             "t.zone:2: CNAME and other data: 'www.example.test.' has a "
             "CNAME at t.zone:1 and a A record (RFC 1034 §3.6.2)"},
        Case{"two_cnames",
             "www CNAME a\n"
             "www CNAME b\n",
             "t.zone:1: more than one CNAME record for "
             "'www.example.test.' (RFC 2181 §10.1)"},
        Case{"cname_at_apex", "@ CNAME www\n",
             "t.zone:1: CNAME and other data: 'example.test.' has a "
             "CNAME at t.zone:1 and a SOA record (RFC 1034 §3.6.2)"},
        Case{"ttl_mismatch",
             "www 60 A 192.0.2.1\n"
             "www 70 A 192.0.2.2\n",
             "t.zone:2: TTL 70 differs from TTL 60 of the same A RRset "
             "at t.zone:1 (RFC 2181 §5.2)"},
        Case{"occluded_by_delegation",
             "sub NS ns.sub\n"
             "www.sub TXT hidden\n",
             "t.zone:2: TXT record for 'www.sub.example.test.' is below "
             "the delegation to 'sub.example.test.' and would never be served"},
        Case{"data_at_delegation",
             "sub NS ns.sub\n"
             "sub MX 10 mx\n",
             "t.zone:2: MX record at delegation point "
             "'sub.example.test.' would never be served (only NS, DS and glue)"},
        Case{"ds_without_ns",
             "sub DS 1 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
             "t.zone:1: DS record for 'sub.example.test.' needs an NS "
             "record there: DS belongs at a delegation point"},
        Case{"ds_at_apex",
             "@ DS 1 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
             "t.zone:1: DS record at the zone apex belongs in the parent "
             "zone (RFC 4034 §5)"},
        Case{"data_below_dname",
             "old DNAME new.example.\n"
             "www.old A 192.0.2.1\n",
             "t.zone:2: A record for 'www.old.example.test.' is below the "
             "DNAME at 'old.example.test.' and would never be served (RFC 6672 §2.4)"},
        Case{"wildcard_below_dname",
             "old DNAME new.example.\n"
             "*.a.old TXT x\n",
             "t.zone:2: TXT record for '*.a.old.example.test.' is below "
             "the DNAME at 'old.example.test.' and would never be served (RFC 6672 §2.4)"},
        Case{"two_dnames",
             "old DNAME a.example.\n"
             "old DNAME b.example.\n",
             "t.zone:1: more than one DNAME record for "
             "'old.example.test.' (RFC 6672 §2.4)"},
        Case{"dname_and_cname",
             "old DNAME new.example.\n"
             "old CNAME www\n",
             "t.zone:1: CNAME and other data: 'old.example.test.' has a "
             "CNAME at t.zone:2 and a DNAME record (RFC 1034 §3.6.2)"},
        Case{"dname_at_delegation",
             "sub NS ns.example.\n"
             "sub DNAME new.example.\n",
             "t.zone:2: DNAME record at delegation point "
             "'sub.example.test.' would never be served (only NS, DS and glue)"},
        Case{"dname_below_delegation",
             "sub NS ns.example.\n"
             "d.sub DNAME new.example.\n"
             "x.d.sub TXT x\n",
             "t.zone:2: DNAME record for 'd.sub.example.test.' is below "
             "the delegation to 'sub.example.test.' and would never be served\n"
             "t.zone:3: TXT record for 'x.d.sub.example.test.' is below "
             "the delegation to 'sub.example.test.' and would never be served"}),
    [](const auto& info) { return std::string(info.param.what); });

TEST(Compile, DuplicateZoneNamesTheFirst) {
  std::string err = compileErrors("www A 192.0.2.1\n", "EXAMPLE.test.");
  EXPECT_NE(err.find("duplicate zone 'example.test.'"), std::string::npos) << err;
}

TEST(Compile, DuplicateRdataIsAWarningNotAnError) {
  ZoneSource source = test::zoneFromText("example.test",
                                         "www A 192.0.2.1\n"
                                         "www A 192.0.2.1\n");
  std::vector<Diagnostic> warnings;
  auto snapshot = compile({source}, {}, &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].str().find("duplicate A record"), std::string::npos);
  const Zone& z = *snapshot->zones()[0];
  EXPECT_EQ(
      z.find(dns::lowered(*dns::nameFromText("www.example.test.", "")))->find(1)->rdatas.size(),
      1u);
}

TEST(Compile, BuildsEmptyNonTerminalsCutsAndWildcards) {
  auto snapshot = test::snapshotFromText("example.test",
                                         "a.b.c  A  192.0.2.1\n"
                                         "sub    NS ns.sub\n"
                                         "ns.sub A  192.0.2.2\n"
                                         "*.w    A  192.0.2.3\n");
  const Zone& z = *snapshot->zones()[0];
  auto node = [&](const char* text) { return z.find(*dns::nameFromText(text, "")); };
  ASSERT_NE(node("b.c.example.test."), nullptr);
  EXPECT_TRUE(node("b.c.example.test.")->rrsets.empty());
  ASSERT_NE(node("c.example.test."), nullptr);
  const Node* sub = node("sub.example.test.");
  ASSERT_NE(sub, nullptr);
  EXPECT_TRUE(sub->isDelegation());
  EXPECT_EQ(node("ns.sub.example.test.")->cut, sub);
  EXPECT_EQ(node("w.example.test.")->wildcard, node("*.w.example.test."));
  EXPECT_TRUE(z.apex->is_apex);
  EXPECT_EQ(z.negative_ttl, 300u);  // default SOA minimum 300 < default TTL 3600
  EXPECT_EQ(snapshot->findZone(*dns::nameFromText("x.y.example.test.", "")), &z);
  EXPECT_EQ(snapshot->findZone(*dns::nameFromText("example.com.", "")), nullptr);
}

TEST(Compile, DnameIsServedDataAndAllowedAtTheApex) {
  // RFC 6672 §2.3: a DNAME may sit at the apex beside SOA and NS (the zone then holds nothing
  // else); elsewhere it is an RRset of its owner like any other.
  auto snapshot = compile({test::zoneFromText("example.test", "old 60 DNAME new.example.\n"),
                           test::zoneFromText("moved.test",
                                              "@ NS    ns.example.\n"
                                              "@ DNAME example.test.\n")},
                          {});
  const Zone& z = *snapshot->zones()[0];
  const Node* old = z.find(*dns::nameFromText("old.example.test.", ""));
  ASSERT_NE(old, nullptr);
  const Rrset* dname = old->find(dns::rrtype::kDname);
  ASSERT_NE(dname, nullptr);
  EXPECT_EQ(dname->ttl, 60u);
  EXPECT_EQ(dname->rdatas.front(), *dns::nameFromText("new.example.", ""));
  const Zone& moved = *snapshot->zones()[1];
  ASSERT_NE(moved.apex->find(dns::rrtype::kDname), nullptr);
}

}  // namespace
}  // namespace understudy::zone
