// RFC 1035 master files: records, TTL rules, per-record line numbers, and errors that name
// file:line and what is wrong. (zone_file_diff_test.cc checks the records against ldns.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
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

// A zone file with `text` in it, removed again at the end of the test.
class ZoneText {
 public:
  explicit ZoneText(const std::string& text) {
    path_ = ::testing::TempDir() + "understudy-zone-XXXXXX";
    int fd = ::mkstemp(path_.data());
    EXPECT_GE(fd, 0);
    ::close(fd);
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~ZoneText() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<Record> importText(const std::string& text, uint32_t default_ttl = 3600) {
  ZoneText file(text);
  try {
    return importZoneFile(file.path(), kOrigin, default_ttl);
  } catch (const ConfigError& e) {
    ADD_FAILURE() << e.what();
  }
  return {};
}

Diagnostic importTextError(const std::string& text) {
  ZoneText file(text);
  try {
    importZoneFile(file.path(), kOrigin, 3600);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics().front().where.file, file.path());
    return e.diagnostics().front();
  }
  ADD_FAILURE() << "accepted:\n" << text;
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
      {"syntax_error.zone", 6, "not a valid IPv4 address '192.0.2.300'"},
      {"unknown_type.zone", 3, "unknown type 'FOO'"},
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

struct TextCase {
  std::string text;
  int line;
  std::string message;
};

void PrintTo(const TextCase& c, std::ostream* os) {
  *os << "'" << c.text.substr(0, 60) << "'";
}

class ZoneFileSyntaxError : public ::testing::TestWithParam<TextCase> {};

TEST_P(ZoneFileSyntaxError, NamesLineAndProblem) {
  const TextCase& c = GetParam();
  Diagnostic d = importTextError(c.text);
  EXPECT_EQ(d.where.line, c.line);
  EXPECT_EQ(d.message, c.message);
}

const std::string kLabel63(63, 'a');
const std::string kLongName = kLabel63 + "." + kLabel63 + "." + kLabel63 + "." + kLabel63 + ".";

INSTANTIATE_TEST_SUITE_P(
    Table, ZoneFileSyntaxError,
    ::testing::Values(
        // Addresses.
        TextCase{"www A 192.0.2.1\nbad A 10.0.0.300\n", 2, "not a valid IPv4 address '10.0.0.300'"},
        TextCase{"a A 10.0.0.01\n", 1, "not a valid IPv4 address '10.0.0.01'"},
        TextCase{"a A 10.0.0\n", 1, "not a valid IPv4 address '10.0.0'"},
        TextCase{"a A 1.2.3.4 5.6.7.8\n", 1, "not a valid IPv4 address '1.2.3.4 5.6.7.8'"},
        TextCase{"a A \"1.2.3.4\"\n", 1, "not a valid IPv4 address '\"1.2.3.4\"'"},
        TextCase{"a AAAA 2001:db8::g\n", 1, "not a valid IPv6 address '2001:db8::g'"},
        TextCase{"a AAAA 192.0.2.1\n", 1, "not a valid IPv6 address '192.0.2.1'"},
        // Types.
        TextCase{"www IN AAA 192.0.2.1\n", 1, "unknown type 'AAA'"},
        TextCase{"www TYPE65x 1\n", 1, "unknown type 'TYPE65x'"},
        TextCase{"www TYPE0 \\# 0\n", 1, "unknown type 'TYPE0'"},
        TextCase{"www TYPE65536 \\# 0\n", 1, "unknown type 'TYPE65536'"},
        TextCase{"www IN\n", 1, "missing record type"},
        TextCase{"www 300\n", 1, "missing record type"},
        TextCase{"www A\n", 1, "missing RDATA for A"},
        TextCase{"www 300 300 A 192.0.2.1\n", 1, "unknown type '300'"},
        // Delimiters.
        TextCase{"www IN TXT ( \"a\"\n\nnext A 192.0.2.1\n", 1,
                 "unbalanced parentheses: '(' is never closed"},
        TextCase{"; c\n@ SOA ns1 host (\n 1 2 3 4 5\n", 2,
                 "unbalanced parentheses: '(' is never closed"},
        TextCase{"www A 192.0.2.1 )\n", 1, "unbalanced parentheses: ')' without '('"},
        TextCase{"www A 192.0.2.1\n)\n", 2, "unbalanced parentheses: ')' without '('"},
        TextCase{"www TXT \"abc\nnext A 192.0.2.1\n", 1, "unterminated quoted string"},
        TextCase{"www TXT \"abc", 1, "unterminated quoted string"},
        TextCase{"www TXT \"abc\\", 1, "unterminated quoted string"},
        TextCase{"www A 192.0.2.1\nx\0y A 192.0.2.2\n"s, 2, "NUL byte in zone file"},
        // A record spanning lines is reported at its first line.
        TextCase{"www A 192.0.2.1\n@ SOA ns1 host (\n 1 2 3 ; c\n x 5 )\n", 2,
                 "invalid SOA data 'ns1 host 1 2 3 x 5': invalid time value 'x' (expected e.g. "
                 "3600 or 1h)"},
        // Names.
        TextCase{kLongName + " A 192.0.2.1\n", 1,
                 "invalid owner name '" + kLongName + "': name too long (more than 255 octets)"},
        TextCase{kLabel63 + "." + kLabel63 + "." + kLabel63 + "." + kLabel63 + " A 192.0.2.1\n", 1,
                 "invalid owner name '" + kLabel63 + "." + kLabel63 + "." + kLabel63 + "." +
                     kLabel63 + "': name too long (more than 255 octets)"},
        TextCase{kLabel63 + "a A 192.0.2.1\n", 1,
                 "invalid owner name '" + kLabel63 + "a': label longer than 63 octets"},
        TextCase{"a..b A 192.0.2.1\n", 1, "invalid owner name 'a..b': empty label"},
        TextCase{".a A 192.0.2.1\n", 1, "invalid owner name '.a': empty label"},
        TextCase{"a\\1x A 192.0.2.1\n", 1, "invalid owner name 'a\\1x': bad \\DDD escape"},
        TextCase{"\\300 A 192.0.2.1\n", 1, "invalid owner name '\\300': bad \\DDD escape"},
        TextCase{"x A 192.0.2.1\na\\", 2, "invalid owner name 'a\\': dangling backslash"},
        TextCase{"\"www\" A 192.0.2.1\n", 1,
                 "invalid owner name '\"www\"': a quoted string is not a domain name"},
        TextCase{"www CNAME a..b\n", 1, "invalid CNAME data 'a..b': bad name 'a..b': empty label"},
        TextCase{"www NS \"ns1\"\n", 1,
                 "invalid NS data '\"ns1\"': bad name '\"ns1\"': a quoted string is not a "
                 "domain name"},
        // Strings and numbers.
        TextCase{
            "t TXT \"" + std::string(256, 'x') + "\"\n", 1,
            "invalid TXT data '\"" + std::string(256, 'x') + "\"': string longer than 255 octets"},
        TextCase{"t TXT \"a\\2\"\n", 1, "invalid TXT data '\"a\\2\"': bad \\DDD escape"},
        TextCase{"m MX 99999 mail\n", 1,
                 "invalid MX data '99999 mail': integer 99999 out of range (0..65535)"},
        TextCase{"m MX ten mail\n", 1, "invalid MX data 'ten mail': invalid integer 'ten'"},
        TextCase{"m MX -1 mail\n", 1, "invalid MX data '-1 mail': invalid integer '-1'"},
        TextCase{"m MX 10\n", 1,
                 "invalid MX data '10': expected 2 fields (preference exchange), got 1"},
        TextCase{"_s._tcp SRV 1 2 3 t extra\n", 1,
                 "invalid SRV data '1 2 3 t extra': expected 4 fields (priority weight port "
                 "target), got 5"},
        TextCase{"_s._tcp SRV 1 2 65536 t\n", 1,
                 "invalid SRV data '1 2 65536 t': integer 65536 out of range (0..65535)"},
        TextCase{"@ SOA ns1 host 4294967296 1 2 3 4\n", 1,
                 "invalid SOA data 'ns1 host 4294967296 1 2 3 4': integer 4294967296 out of "
                 "range (0..4294967295)"},
        TextCase{"@ SOA ns1 host 1 2 3 4\n", 1,
                 "invalid SOA data 'ns1 host 1 2 3 4': expected 7 fields (mname rname serial "
                 "refresh retry expire minimum), got 6"},
        // Classes and TTLs.
        TextCase{"www CH A 192.0.2.1\n", 1, "class CH is not supported (only IN)"},
        TextCase{"www 300 hs TXT x\n", 1, "class HS is not supported (only IN)"},
        TextCase{"www CLASS3 A 192.0.2.1\n", 1, "class CH is not supported (only IN)"},
        TextCase{"www CLASS5 A 192.0.2.1\n", 1, "class CLASS5 is not supported (only IN)"},
        TextCase{"www ANY A 192.0.2.1\n", 1, "class ANY is not supported (only IN)"},
        TextCase{"www 5x A 192.0.2.1\n", 1,
                 "invalid TTL '5x' (expected seconds or e.g. 300, 5m, 1h, 1d, 1h30m)"},
        TextCase{"www 1hh A 192.0.2.1\n", 1,
                 "invalid TTL '1hh' (expected seconds or e.g. 300, 5m, 1h, 1d, 1h30m)"},
        TextCase{"www 2147483648 A 192.0.2.1\n", 1, "TTL 2147483648 out of range (0..2147483647)"},
        TextCase{"www 99999999999999999999 A 192.0.2.1\n", 1,
                 "TTL 99999999999999999999 out of range (0..2147483647)"},
        // Directives.
        TextCase{"www A 192.0.2.1\n$TTL forever\n", 2,
                 "invalid TTL 'forever' (expected seconds or e.g. 300, 5m, 1h, 1d, 1h30m)"},
        TextCase{"$TTL\n", 1, "$TTL takes one TTL"},
        TextCase{"$TTL 1 2\n", 1, "$TTL takes one TTL"},
        TextCase{"$ORIGIN\n", 1, "$ORIGIN takes one domain name"},
        TextCase{"$ORIGIN a..b.\n", 1, "invalid $ORIGIN 'a..b.': empty label"},
        TextCase{"$INCLUDE other.zone\n", 1, "$INCLUDE is not supported"},
        TextCase{"$include other.zone sub\n", 1, "$INCLUDE is not supported"},
        TextCase{"$GENERATE 1-10 host$ A 192.0.2.$\n", 1, "$GENERATE is not supported"},
        TextCase{"$FOO bar\n", 1, "unknown directive '$FOO'"},
        // Types parsed by ldns keep parseRdata's messages, range checks included.
        TextCase{"@ SSHFP 256 1 123456789abcdef67890123456789abcdef67890\n", 1,
                 "invalid SSHFP data '256 1 123456789abcdef67890123456789abcdef67890': integer 256 "
                 "out of range (0..255)"},
        TextCase{"www TYPE65000 \\# 2 abcdef\n", 1,
                 "invalid TYPE65000 data '\\# 2 abcdef': Syntax error, could not parse the RR's "
                 "rdata"},
        // SOA rules.
        TextCase{"www A 192.0.2.1\n@ SOA a b 1 2 3 4 5\n@ SOA a b 2 2 3 4 5\n", 3,
                 "more than one SOA record"},
        TextCase{"\n\nwww SOA a b 1 2 3 4 5\n", 3,
                 "SOA record owner 'www.demo.test.' is not the zone apex 'demo.test.'"}));

TEST(ZoneFile, RecordsOfAllSyntaxForms) {
  std::vector<Record> records = importText(
      "$TTL 1h30m\n"
      "@ IN SOA ns1 Host\\.Master ( 1 ; serial\n"
      "  1h 10m ; timers\n"
      "  2w 5m )\n"
      "  NS ns1\n"
      "www 60 IN A 192.0.2.1\n"
      "  IN 120 AAAA ::1\n"  // class before TTL, as RFC 1035 allows
      "a\\.b\\065 TXT \"x\\\"y\" z \"\"\n"
      "_sip._tcp SRV 1 2 5060 @\n"
      "\\@ MX 10 Mail.Example.\n"
      "x TYPE257 0 issue \"ca.example\"\n"
      "y TYPE65534 \\# 2 ( ab\n"
      "  cd )\n"
      "z CNAME x\n");
  ASSERT_EQ(records.size(), 10u);
  EXPECT_EQ(records[0].type, 6);
  EXPECT_EQ(records[0].ttl, 5400u);
  EXPECT_EQ(records[0].rdata, "\3ns1"s + kOrigin + "\13Host.Master"s + kOrigin +
                                  "\0\0\0\1\0\0\x0e\x10\0\0\x02\x58\0\x12\x75\0\0\0\x01\x2c"s);
  EXPECT_EQ(records[0].where.line, 2);
  EXPECT_EQ(records[1].owner, kOrigin);
  EXPECT_EQ(records[1].where.line, 5);
  EXPECT_EQ(records[2].ttl, 60u);
  EXPECT_EQ(records[3].owner, "\3www"s + kOrigin);
  EXPECT_EQ(records[3].type, 28);
  EXPECT_EQ(records[3].ttl, 120u);
  EXPECT_EQ(records[4].owner, "\4a.bA"s + kOrigin);
  EXPECT_EQ(records[4].rdata, "\3x\"y\1z\0"s);
  EXPECT_EQ(records[5].rdata, "\0\1\0\2\x13\xc4"s + kOrigin);
  EXPECT_EQ(records[6].owner, "\1@"s + kOrigin);
  EXPECT_EQ(records[6].rdata, "\0\x0a\4Mail\7Example\0"s);
  EXPECT_EQ(records[7].type, 257);
  EXPECT_EQ(records[7].rdata, rdata(257, "0 issue \"ca.example\""));
  EXPECT_EQ(records[8].type, 65534);
  EXPECT_EQ(records[8].rdata, "\xab\xcd"s);
  EXPECT_EQ(records[8].where.line, 12);
  EXPECT_EQ(records[9].rdata, "\1x"s + kOrigin);
  EXPECT_EQ(records[9].where.line, 14);
}

// Where ldns (which read zone files before) did something else, on purpose.
TEST(ZoneFile, DeliberateDifferencesFromLdns) {
  // RFC 1035 §5.1 allows the class before the TTL; ldns did not.
  EXPECT_EQ(importText("www IN 300 A 192.0.2.1\n").at(0).ttl, 300u);
  // A relative $ORIGIN is relative to the current origin (RFC 1035 §5.1); ldns made it absolute.
  EXPECT_EQ(importText("$ORIGIN sub\nhost A 192.0.2.1\n").at(0).owner, "\4host\3sub"s + kOrigin);
  // $TTL 0 means 0; ldns gave such records 3600.
  EXPECT_EQ(importText("$TTL 0\nwww A 192.0.2.1\n").at(0).ttl, 0u);
  EXPECT_EQ(importText("www A 192.0.2.1\n", 0).at(0).ttl, 0u);
  // Directives in any case, like BIND; ldns took "$ttl" for an owner name.
  std::vector<Record> lower = importText("$ttl 60\n$origin Sub.demo.test.\nwww A 192.0.2.1\n");
  ASSERT_EQ(lower.size(), 1u);
  EXPECT_EQ(lower[0].ttl, 60u);
  EXPECT_EQ(lower[0].owner, "\3www\3Sub"s + kOrigin);
  // Only a lone "@" is the origin; ldns read any owner starting with '@' as the origin.
  EXPECT_EQ(importText("@x A 192.0.2.1\n").at(0).owner, "\2@x"s + kOrigin);
  // A line starting with '(' has an owner; ldns took it for a blank owner.
  std::vector<Record> paren = importText("a A 192.0.2.1\n( b A 192.0.2.2 )\n");
  ASSERT_EQ(paren.size(), 2u);
  EXPECT_EQ(paren[1].owner, "\1b"s + kOrigin);
  // A quote inside a word quotes up to the next quote, spaces included (an SVCB value).
  EXPECT_EQ(importText("t TXT a\"b c\"\n").at(0).rdata, "\6a\"b c\""s);
}

TEST(ZoneFile, EmptyFiles) {
  EXPECT_TRUE(importText("").empty());
  EXPECT_TRUE(importText("; nothing but a comment").empty());
  EXPECT_TRUE(importText("\n  \n\t; x\n( )\n$TTL 5\n").empty());
}

// Odd inputs: each is either a zone or an error naming a line, never a crash.
TEST(ZoneFile, MalformedInputsGiveErrors) {
  const std::vector<std::string> inputs = {
      "(",
      ")",
      "\"",
      "\\",
      "$",
      "@",
      "a",
      " ",
      "\n\n",
      "a (",
      "a \"",
      "a \\",
      "$ORIGIN",
      "$TTL",
      "a A",
      "a A (",
      "a A )",
      "( ( ) ",
      "\\#",
      "a \\#",
      "a TXT \\#",
      "a TXT \\# 1",
      "a TXT \\# 2 a",
      "a A \\# 4 0a0000",
      "a TXT \"\\",
      "a\\",
      "a\\0",
      "a\\00",
      "@ SOA",
      "@ SOA (\n)",
      "\t\t\t",
      "\r\n",
      "a TXT \"\"\"",
      "a MX 1 .",
      "a SRV 1 2 3",
      ";\n(\n;\n)",
  };
  for (const std::string& text : inputs) {
    SCOPED_TRACE(text);
    ZoneText file(text);
    try {
      importZoneFile(file.path(), kOrigin, 3600);
    } catch (const ConfigError& e) {
      ASSERT_EQ(e.diagnostics().size(), 1u);
      EXPECT_EQ(e.diagnostics()[0].where.file, file.path());
      EXPECT_GT(e.diagnostics()[0].where.line, 0);
      EXPECT_FALSE(e.diagnostics()[0].message.empty());
    }
  }
}

TEST(ZoneFile, MissingFile) {
  Diagnostic d = importError("does_not_exist.zone");
  EXPECT_EQ(d.where.file, kZones + "does_not_exist.zone");
  EXPECT_EQ(d.where.line, 0);
  EXPECT_EQ(d.message,
            "cannot open zone file '" + kZones + "does_not_exist.zone': No such file or directory");
}

}  // namespace
}  // namespace understudy::zone
