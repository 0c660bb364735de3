// zone::compile: the semantic checks that need the whole zone, each with its message and the
// location of the offending record, and the shape of the compiled Snapshot.
#include "understudy/zone/compile.h"

#include <gtest/gtest.h>

#include <string>

#include "understudy/config/config.h"
#include "understudy/dns/name.h"
#include "understudy/dns/types.h"

namespace understudy::zone {
namespace {

std::string compileErrors(const std::string& records, const std::string& extra_zone = "") {
  std::string yaml = "zones:\n  - name: example.test\n    records:\n" + records + extra_zone;
  try {
    config::Config c = config::loadString(yaml, "t.yaml");
    compile(c.zones, {});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

struct Case {
  const char* what;
  std::string records;
  std::string expected;  // the full "file:line:col: key: message"
};

class CompileErrors : public ::testing::TestWithParam<Case> {};

TEST_P(CompileErrors, NamesTheRecordAndTheProblem) {
  EXPECT_EQ(compileErrors(GetParam().records), GetParam().expected) << GetParam().what;
}

INSTANTIATE_TEST_SUITE_P(
    Table, CompileErrors,
    ::testing::Values(
        Case{"cname_and_a",
             "      - { name: www, type: CNAME, value: other }\n"
             "      - { name: www, type: A, value: 192.0.2.1 }\n",
             "t.yaml:5:38: zones[0].records[1]: CNAME and other data: 'www.example.test.' has a "
             "CNAME at t.yaml:4:42 and a A record (RFC 1034 §3.6.2)"},
        Case{"two_cnames", "      - { name: www, type: CNAME, values: [a, b] }\n",
             "t.yaml:4:44: zones[0].records[0]: more than one CNAME record for "
             "'www.example.test.' (RFC 2181 §10.1)"},
        Case{"cname_at_apex", "      - { name: \"@\", type: CNAME, value: www }\n",
             "t.yaml:4:42: zones[0].records[0]: CNAME and other data: 'example.test.' has a "
             "CNAME at t.yaml:4:42 and a SOA record (RFC 1034 §3.6.2)"},
        Case{"ttl_mismatch",
             "      - { name: www, type: A, ttl: 60, value: 192.0.2.1 }\n"
             "      - { name: www, type: A, ttl: 70, value: 192.0.2.2 }\n",
             "t.yaml:5:47: zones[0].records[1]: TTL 70 differs from TTL 60 of the same A RRset "
             "at t.yaml:4:47 (RFC 2181 §5.2)"},
        Case{"occluded_by_delegation",
             "      - { name: sub, type: NS, value: ns.sub }\n"
             "      - { name: www.sub, type: TXT, value: hidden }\n",
             "t.yaml:5:44: zones[0].records[1]: TXT record for 'www.sub.example.test.' is below "
             "the delegation to 'sub.example.test.' and would never be served"},
        Case{"data_at_delegation",
             "      - { name: sub, type: NS, value: ns.sub }\n"
             "      - { name: sub, type: MX, value: 10 mx }\n",
             "t.yaml:5:39: zones[0].records[1]: MX record at delegation point "
             "'sub.example.test.' would never be served (only NS, DS and glue)"},
        Case{"ds_without_ns",
             "      - { name: sub, type: DS, value: \"1 13 2 "
             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\" }\n",
             "t.yaml:4:39: zones[0].records[0]: DS record for 'sub.example.test.' needs an NS "
             "record there: DS belongs at a delegation point"},
        Case{"ds_at_apex",
             "      - { name: \"@\", type: DS, value: \"1 13 2 "
             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\" }\n",
             "t.yaml:4:39: zones[0].records[0]: DS record at the zone apex belongs in the parent "
             "zone (RFC 4034 §5)"},
        Case{"data_below_dname",
             "      - { name: old, type: DNAME, value: new.example. }\n"
             "      - { name: www.old, type: A, value: 192.0.2.1 }\n",
             "t.yaml:5:42: zones[0].records[1]: A record for 'www.old.example.test.' is below the "
             "DNAME at 'old.example.test.' and would never be served (RFC 6672 §2.4)"},
        Case{"wildcard_below_dname",
             "      - { name: old, type: DNAME, value: new.example. }\n"
             "      - { name: \"*.a.old\", type: TXT, value: x }\n",
             "t.yaml:5:46: zones[0].records[1]: TXT record for '*.a.old.example.test.' is below "
             "the DNAME at 'old.example.test.' and would never be served (RFC 6672 §2.4)"},
        Case{"two_dnames", "      - { name: old, type: DNAME, values: [a.example., b.example.] }\n",
             "t.yaml:4:44: zones[0].records[0]: more than one DNAME record for "
             "'old.example.test.' (RFC 6672 §2.4)"},
        Case{"dname_and_cname",
             "      - { name: old, type: DNAME, value: new.example. }\n"
             "      - { name: old, type: CNAME, value: www }\n",
             "t.yaml:4:42: zones[0].records[0]: CNAME and other data: 'old.example.test.' has a "
             "CNAME at t.yaml:5:42 and a DNAME record (RFC 1034 §3.6.2)"},
        Case{"dname_at_delegation",
             "      - { name: sub, type: NS, value: ns.example. }\n"
             "      - { name: sub, type: DNAME, value: new.example. }\n",
             "t.yaml:5:42: zones[0].records[1]: DNAME record at delegation point "
             "'sub.example.test.' would never be served (only NS, DS and glue)"},
        Case{"dname_below_delegation",
             "      - { name: sub, type: NS, value: ns.example. }\n"
             "      - { name: d.sub, type: DNAME, value: new.example. }\n"
             "      - { name: x.d.sub, type: TXT, value: x }\n",
             "t.yaml:5:44: zones[0].records[1]: DNAME record for 'd.sub.example.test.' is below "
             "the delegation to 'sub.example.test.' and would never be served\n"
             "t.yaml:6:44: zones[0].records[2]: TXT record for 'x.d.sub.example.test.' is below "
             "the delegation to 'sub.example.test.' and would never be served"}),
    [](const auto& info) { return std::string(info.param.what); });

TEST(Compile, DuplicateZoneNamesTheFirst) {
  std::string err = compileErrors("      - { name: www, type: A, value: 192.0.2.1 }\n",
                                  "  - name: EXAMPLE.test.\n");
  EXPECT_NE(err.find("duplicate zone 'example.test.'"), std::string::npos) << err;
}

// The loader hands zone content to compile's checks (checkSources) with the name: and type:
// locations: an entry with several values is several records, but one mistake, reported once.
TEST(Compile, OwnerAndTypeErrorsNameTheirKeysOnce) {
  try {
    config::loadString(
        "zones:\n  - name: example.test\n    records:\n"
        "      - { name: www.other.test., type: A, values: [192.0.2.1, 192.0.2.2] }\n"
        "      - { name: x, type: any, values: [a, b] }\n",
        "t.yaml");
    FAIL() << "loaded";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "t.yaml:4:17: zones[0].records[0].name: record owner 'www.other.test.' is outside "
              "zone 'example.test.'\n"
              "t.yaml:5:26: zones[0].records[1].type: type ANY cannot appear in zone data");
  }
}

TEST(Compile, DuplicateRdataIsAWarningNotAnError) {
  config::Config c = config::loadString(
      "zones:\n  - name: example.test\n    records:\n"
      "      - { name: www, type: A, values: [192.0.2.1, 192.0.2.1] }\n",
      "t.yaml");
  std::vector<Diagnostic> warnings;
  auto snapshot = compile(c.zones, {}, &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].str().find("duplicate A record"), std::string::npos);
  const Zone& z = *snapshot->zones()[0];
  EXPECT_EQ(
      z.find(dns::lowered(*dns::nameFromText("www.example.test.", "")))->find(1)->rdatas.size(),
      1u);
}

TEST(Compile, BuildsEmptyNonTerminalsCutsAndWildcards) {
  config::Config c = config::loadString(
      "zones:\n  - name: example.test\n    records:\n"
      "      - { name: a.b.c, type: A, value: 192.0.2.1 }\n"
      "      - { name: sub, type: NS, value: ns.sub }\n"
      "      - { name: ns.sub, type: A, value: 192.0.2.2 }\n"
      "      - { name: \"*.w\", type: A, value: 192.0.2.3 }\n",
      "t.yaml");
  auto snapshot = compile(c.zones, {});
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
  config::Config c = config::loadString(
      "zones:\n"
      "  - name: example.test\n    records:\n"
      "      - { name: old, type: DNAME, ttl: 60, value: new.example. }\n"
      "  - name: moved.test\n    records:\n"
      "      - { name: \"@\", type: NS, value: ns.example. }\n"
      "      - { name: \"@\", type: DNAME, value: example.test. }\n",
      "t.yaml");
  auto snapshot = compile(c.zones, {});
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
