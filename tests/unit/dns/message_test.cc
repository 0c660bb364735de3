#include "understudy/dns/message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "understudy/dns/writer.h"

namespace understudy::dns {
namespace {

using std::string_literals::operator""s;

std::vector<uint8_t> bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

// id 0x1234, RD, qdcount 1, then the given counts.
std::string header(uint16_t flags = 0x0100, uint16_t qd = 1, uint16_t an = 0, uint16_t ns = 0,
                   uint16_t ar = 0) {
  std::string h = "\x12\x34"s;
  for (uint16_t v : {flags, qd, an, ns, ar}) {
    h += static_cast<char>(v >> 8);
    h += static_cast<char>(v & 0xff);
  }
  return h;
}
const std::string kQuestion = "\3WwW\4demo\4test\0\0\1\0\1"s;  // WwW.demo.test A IN
const std::string kOpt = "\0\0\x29\x04\xd0\0\0\x80\0\0\0"s;    // OPT, 1232, DO

ParseStatus parse(const std::string& s, Query& q) {
  auto b = bytes(s);
  return parseQuery(b, q);
}

TEST(ParseQuery, PlainQuestion) {
  Query q;
  ASSERT_EQ(parse(header() + kQuestion, q), ParseStatus::kOk);
  EXPECT_EQ(q.header.id, 0x1234);
  EXPECT_EQ(q.qtype, 1);
  EXPECT_EQ(q.qclass, 1);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(q.qname), q.qname_len), "\3WwW\4demo\4test\0"s);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(q.qname_lower), q.qname_len),
            "\3www\4demo\4test\0"s);
  EXPECT_FALSE(q.has_edns);
}

TEST(ParseQuery, Edns) {
  Query q;
  ASSERT_EQ(parse(header(0x0100, 1, 0, 0, 1) + kQuestion + kOpt, q), ParseStatus::kOk);
  EXPECT_TRUE(q.has_edns);
  EXPECT_EQ(q.edns_udp_size, 1232);
  EXPECT_TRUE(q.edns_do);
  EXPECT_EQ(q.edns_version, 0);
}

TEST(ParseQuery, EdnsNsidOptionIsNoticedAmongOthers) {
  Query q;
  ASSERT_EQ(parse(header(0x0100, 1, 0, 0, 1) + kQuestion + kOpt, q), ParseStatus::kOk);
  EXPECT_FALSE(q.edns_nsid);
  // OPT with a cookie (10, 8 octets) and an empty NSID option (3, RFC 5001 §2.1).
  std::string opt =
      "\0\0\x29\x04\xd0\0\0\0\0\0\x10"s + "\0\x0a\0\x08"s + std::string(8, 'c') + "\0\x03\0\0"s;
  ASSERT_EQ(parse(header(0x0100, 1, 0, 0, 1) + kQuestion + opt, q), ParseStatus::kOk);
  EXPECT_TRUE(q.edns_nsid);
  // A fresh parse forgets it.
  ASSERT_EQ(parse(header(0x0100, 1, 0, 0, 1) + kQuestion + kOpt, q), ParseStatus::kOk);
  EXPECT_FALSE(q.edns_nsid);
}

struct Malformed {
  const char* what;
  std::string packet;
  ParseStatus expected;
};

class ParseQueryMalformed : public ::testing::TestWithParam<Malformed> {};

TEST_P(ParseQueryMalformed, GivesFormErrOrDrop) {
  Query q;
  EXPECT_EQ(parse(GetParam().packet, q), GetParam().expected) << GetParam().what;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseQueryMalformed,
    ::testing::Values(
        Malformed{"empty", "", ParseStatus::kDrop},
        Malformed{"short header", "\x12\x34\x01"s, ParseStatus::kDrop},
        Malformed{"response (QR=1)", header(0x8100) + kQuestion, ParseStatus::kDrop},
        Malformed{"opcode STATUS", header(0x1100) + kQuestion, ParseStatus::kNotImp},
        Malformed{"qdcount 0", header(0x0100, 0), ParseStatus::kFormErr},
        Malformed{"qdcount 2", header(0x0100, 2) + kQuestion + kQuestion, ParseStatus::kFormErr},
        Malformed{"question cut short", header() + "\3www\4de"s, ParseStatus::kFormErr},
        Malformed{"no qtype", header() + "\3www\0"s, ParseStatus::kFormErr},
        Malformed{"pointer in question", header() + "\xc0\x0c\0\1\0\1"s, ParseStatus::kFormErr},
        Malformed{"label > 63", header() + "\x40"s + std::string(64, 'a') + "\0\0\1\0\1"s,
                  ParseStatus::kFormErr},
        Malformed{"trailing garbage", header() + kQuestion + "xyz", ParseStatus::kFormErr},
        Malformed{"arcount without record", header(0x0100, 1, 0, 0, 1) + kQuestion,
                  ParseStatus::kFormErr},
        Malformed{"two OPT", header(0x0100, 1, 0, 0, 2) + kQuestion + kOpt + kOpt,
                  ParseStatus::kFormErr},
        Malformed{"OPT in answer section", header(0x0100, 1, 1, 0, 0) + kQuestion + kOpt,
                  ParseStatus::kFormErr},
        Malformed{"OPT not owned by root",
                  header(0x0100, 1, 0, 0, 1) + kQuestion + "\1a\0\0\x29\x04\xd0\0\0\0\0\0\0"s,
                  ParseStatus::kFormErr},
        Malformed{
            "OPT option overruns",
            header(0x0100, 1, 0, 0, 1) + kQuestion + "\0\0\x29\x04\xd0\0\0\0\0\0\x04\0\x0a\0\x08"s,
            ParseStatus::kFormErr},
        Malformed{"rdlength past end",
                  header(0x0100, 1, 0, 0, 1) + kQuestion + "\0\0\x29\x04\xd0\0\0\0\0\0\x10"s,
                  ParseStatus::kFormErr}),
    [](const auto& info) {
      std::string n;
      for (char c : std::string(info.param.what))
        n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return n;
    });

TEST(MessageWriter, CompressesNamesAgainstTheQuestion) {
  uint8_t buf[512];
  MessageWriter w(buf, sizeof buf, sizeof buf);
  w.setHeader(1, 0x8400);
  std::string qname = "\3www\4demo\4test\0"s;
  ASSERT_TRUE(w.writeQuestion(reinterpret_cast<const uint8_t*>(qname.data()), qname.size(), 5, 1));
  // CNAME www.demo.test -> app.demo.test: owner is a pointer to 12, target "app" + pointer to 16.
  std::string target = "\3app\4demo\4test\0"s;
  ASSERT_TRUE(w.writeRecord(Section::kAnswer, "\3WWW\4DEMO\4TEST\0"s, 5, 1, 300, target));
  size_t n = w.finish();
  std::string out(reinterpret_cast<char*>(buf), n);
  std::string expected = "\0\1\x84\0\0\1\0\1\0\0\0\0"s + qname + "\0\5\0\1"s +
                         "\xc0\x0c\0\5\0\1\0\0\1\x2c\0\6\3app\xc0\x10"s;
  EXPECT_EQ(out, expected);
}

TEST(MessageWriter, DoesNotCompressSrvTargetsAndRollsBackWhenFull) {
  uint8_t buf[64];
  MessageWriter w(buf, sizeof buf, 60);
  std::string qname = "\4demo\4test\0"s;
  ASSERT_TRUE(w.writeQuestion(reinterpret_cast<const uint8_t*>(qname.data()), qname.size(), 33, 1));
  // SRV RDATA: priority, weight, port, then the target uncompressed (RFC 2782).
  std::string srv = "\0\1\0\2\0\3"s + "\3sip\4demo\4test\0"s;
  ASSERT_TRUE(w.writeRecord(Section::kAnswer, qname, 33, 1, 60, srv));
  size_t before = w.size();
  EXPECT_EQ(before, 12 + qname.size() + 4 + 2 + 10 + srv.size());
  EXPECT_FALSE(w.writeRecord(Section::kAnswer, qname, 33, 1, 60, srv));  // does not fit in 60
  EXPECT_EQ(w.size(), before);
  EXPECT_EQ(w.count(Section::kAnswer), 1);
}

TEST(MessageWriter, OptCarriesItsOptionsWithinTheReservation) {
  uint8_t buf[512];
  MessageWriter w(buf, sizeof buf, 512);
  const std::string nsid = "\0\x03\0\x04node"s;
  w.reserve(11 + nsid.size());
  ASSERT_TRUE(w.writeQuestion(reinterpret_cast<const uint8_t*>("\3www\4demo\4test\0"), 15, 1, 1));
  const size_t before = w.size();
  w.release(11 + nsid.size());
  ASSERT_TRUE(w.writeOpt(1232, 0, 0, false, nsid));
  ASSERT_EQ(w.size(), before + 11 + nsid.size());
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf) + before, 11 + nsid.size()),
            "\0\0\x29\x04\xd0\0\0\0\0\0\x08"s + nsid);
  // Without room for its options, no OPT at all rather than half of one.
  MessageWriter tight(buf, sizeof buf, before + 11 + nsid.size() - 1);
  ASSERT_TRUE(
      tight.writeQuestion(reinterpret_cast<const uint8_t*>("\3www\4demo\4test\0"), 15, 1, 1));
  EXPECT_FALSE(tight.writeOpt(1232, 0, 0, false, nsid));
  EXPECT_EQ(tight.count(Section::kAdditional), 0);
}

}  // namespace
}  // namespace understudy::dns
