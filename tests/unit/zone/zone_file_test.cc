// RFC 1035 master files imported through ldns: records, TTL rules, per-record line numbers, and
// errors that name file:line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "understudy/zone/record.h"

namespace understudy::zone {
namespace {

using namespace std::string_literals;

const std::string kOrigin = "\4demo\4test\0"s;
const std::string kZones = UNDERSTUDY_TEST_DATA "/zones/";

std::string rdata(uint16_t type, const std::string& text) {
  std::string error;
  auto wire = parseRdata(type, text, kOrigin, &error);
  EXPECT_TRUE(wire) << error;
  return wire.value_or("");
}

Diagnostic importError(const std::string& file, uint32_t default_ttl = 3600) {
  try {
    importZoneFile(kZones + file, kOrigin, default_ttl);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.diagnostics().size(), 1u);
    return e.diagnostics().front();
  }
  ADD_FAILURE() << file << " was accepted";
  return {};
}

TEST(ZoneFile, ImportsEveryRecordWithLineAndTtl) {
  const std::string path = kZones + "good.zone";
  std::vector<Record> records = importZoneFile(path, kOrigin, 3600);
  struct Expected {
    std::string owner;
    uint16_t type;
    uint32_t ttl;
    std::string rdata;
    int line;
  };
  const std::vector<Expected> expected = {
      {kOrigin, 6, 300, rdata(6, "ns1 hostmaster 2026112101 3600 600 1209600 300"), 5},
      {kOrigin, 2, 300, rdata(2, "ns1"), 8},
      {kOrigin, 2, 300, "\3ns2\4Demo\4Test\0"s, 9},
      {"\3ns1"s + kOrigin, 1, 300, "\xc0\x00\x02\x35"s, 10},
      {"\3ns2"s + kOrigin, 1, 300, "\xc0\x00\x02\x36"s, 11},
      {"\3www"s + kOrigin, 1, 60, "\xc0\x00\x02\x01"s, 12},
      // A blank owner repeats the previous one; the TTL falls back to $TTL, not the last one.
      {"\3www"s + kOrigin, 28, 300, rdata(28, "2001:db8::1"), 13},
      {"\4Mail"s + kOrigin, 15, 300, rdata(15, "10 mail"), 14},
      {kOrigin, 16, 300, "\x0bv=spf1 -all\x06second"s, 15},
      {"\4_sip\4_tcp"s + kOrigin, 33, 300, rdata(33, "10 60 5060 sip"), 16},
      {kOrigin, 257, 300, rdata(257, "0 issue \"letsencrypt.org\""), 17},
      {"\4host\3sub"s + kOrigin, 1, 300, "\xc0\x00\x02\x07"s, 19},
      {"\5other\3sub"s + kOrigin, 1, 120, "\xc0\x00\x02\x08"s, 21},
  };
  ASSERT_EQ(records.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    EXPECT_EQ(records[i].owner, expected[i].owner);
    EXPECT_EQ(records[i].type, expected[i].type);
    EXPECT_EQ(records[i].ttl, expected[i].ttl);
    EXPECT_EQ(records[i].rdata, expected[i].rdata);
    EXPECT_EQ(records[i].where.file, path);
    EXPECT_EQ(records[i].where.line, expected[i].line);
    EXPECT_TRUE(records[i].key.empty());
  }
}

TEST(ZoneFile, DefaultTtlAppliesWithoutDollarTtl) {
  std::vector<Record> records = importZoneFile(kZones + "no_soa.zone", kOrigin, 1234);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].owner, "\3www"s + kOrigin);
  EXPECT_EQ(records[0].ttl, 1234u);
  EXPECT_EQ(records[1].where.line, 2);
}

TEST(ZoneFile, LastLineWithoutNewline) {
  std::vector<Record> records = importZoneFile(kZones + "no_final_newline.zone", kOrigin, 60);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].where.line, 1);
  EXPECT_EQ(records[1].owner, "\4last"s + kOrigin);
  EXPECT_EQ(records[1].where.line, 2);
}

TEST(ZoneFile, OutOfZoneOwnersAreReturnedForCompileToReport) {
  std::vector<Record> records = importZoneFile(kZones + "outside.zone", kOrigin, 60);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].owner, "\3www\5other\4test\0"s);
}

TEST(ZoneFile, Errors) {
  struct Case {
    std::string file;
    int line;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"syntax_error.zone", 6, "Syntax error, could not parse the RR's rdata"},
      {"unknown_type.zone", 3, "Syntax error, could not parse the RR's rdata"},
      {"chaos.zone", 2, "class CH is not supported (only IN)"},
      {"include.zone", 2, "$INCLUDE is not supported"},
      {"two_soa.zone", 3, "more than one SOA record"},
      {"soa_not_apex.zone", 1,
       "SOA record owner 'www.demo.test.' is not the zone apex 'demo.test.'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    Diagnostic d = importError(c.file);
    EXPECT_EQ(d.where.file, kZones + c.file);
    EXPECT_EQ(d.where.line, c.line);
    EXPECT_EQ(d.message, c.message);
    EXPECT_EQ(d.str(), kZones + c.file + ":" + std::to_string(c.line) + ": " + c.message);
  }
}

TEST(ZoneFile, MissingFile) {
  Diagnostic d = importError("does_not_exist.zone");
  EXPECT_EQ(d.where.file, kZones + "does_not_exist.zone");
  EXPECT_EQ(d.where.line, 0);
  EXPECT_EQ(d.message, "cannot open zone file: No such file or directory");
}

}  // namespace
}  // namespace understudy::zone
