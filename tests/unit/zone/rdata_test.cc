// RDATA presentation format -> wire, through ldns. Golden bytes for every type the YAML examples
// use, and the exact error texts operators see.
#include <gtest/gtest.h>

#include <string>

#include "understudy/zone/record.h"

namespace understudy::zone {
namespace {

using namespace std::string_literals;

const std::string kOrigin = "\4demo\4test\0"s;

std::string parse(uint16_t type, const std::string& text) {
  std::string error;
  auto wire = parseRdata(type, text, kOrigin, &error);
  EXPECT_TRUE(wire.has_value()) << typeToText(type) << " '" << text << "': " << error;
  return wire.value_or("");
}

std::string parseError(uint16_t type, const std::string& text) {
  std::string error;
  auto wire = parseRdata(type, text, kOrigin, &error);
  EXPECT_FALSE(wire.has_value()) << typeToText(type) << " '" << text << "' was accepted";
  return error;
}

TEST(TypeText, Mnemonics) {
  EXPECT_EQ(typeFromText("A"), 1);
  EXPECT_EQ(typeFromText("a"), 1);
  EXPECT_EQ(typeFromText("Aaaa"), 28);
  EXPECT_EQ(typeFromText("MX"), 15);
  EXPECT_EQ(typeFromText("CAA"), 257);
  EXPECT_EQ(typeFromText("HTTPS"), 65);
  EXPECT_EQ(typeFromText("SVCB"), 64);
  EXPECT_EQ(typeFromText("TYPE65534"), 65534);
  EXPECT_EQ(typeFromText("type1"), 1);
  EXPECT_EQ(typeFromText("TYPE0"), std::nullopt);
  EXPECT_EQ(typeFromText("TYPE65536"), std::nullopt);
  EXPECT_EQ(typeFromText("TYPE70000"), std::nullopt);
  EXPECT_EQ(typeFromText("TYPE"), std::nullopt);
  EXPECT_EQ(typeFromText("FOO"), std::nullopt);
  EXPECT_EQ(typeFromText(""), std::nullopt);
}

TEST(TypeText, ToText) {
  EXPECT_EQ(typeToText(1), "A");
  EXPECT_EQ(typeToText(28), "AAAA");
  EXPECT_EQ(typeToText(65), "HTTPS");
  EXPECT_EQ(typeToText(65534), "TYPE65534");
}

TEST(ParseRdata, Addresses) {
  EXPECT_EQ(parse(1, "192.0.2.1"), "\xc0\x00\x02\x01"s);
  EXPECT_EQ(parse(28, "2001:db8::1"),
            "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"s);
  // RFC 3597 generic form works for known types too.
  EXPECT_EQ(parse(1, "\\# 4 c0000201"), "\xc0\x00\x02\x01"s);
}

TEST(ParseRdata, NamesCompleteWithOriginAndKeepCase) {
  EXPECT_EQ(parse(15, "10 mail"), "\x00\x0a\4mail\4demo\4test\0"s);
  EXPECT_EQ(parse(15, "10 Mail.Other.Test."), "\x00\x0a\4Mail\5Other\4Test\0"s);
  EXPECT_EQ(parse(15, "10 @"), "\x00\x0a\4demo\4test\0"s);
  EXPECT_EQ(parse(2, "ns1"), "\3ns1\4demo\4test\0"s);
  EXPECT_EQ(parse(5, "www"), "\3www\4demo\4test\0"s);
  EXPECT_EQ(parse(12, "host.example."), "\4host\7example\0"s);
  EXPECT_EQ(parse(2, "."), "\0"s);
}

TEST(ParseRdata, Srv) {
  EXPECT_EQ(parse(33, "10 60 5060 sip"), "\x00\x0a\x00\x3c\x13\xc4\3sip\4demo\4test\0"s);
}

TEST(ParseRdata, TxtCharacterStrings) {
  EXPECT_EQ(parse(16, "\"v=spf1 -all\""), "\x0bv=spf1 -all"s);
  EXPECT_EQ(parse(16, "\"a b\" \"c\""),
            "\x03"
            "a b\x01"
            "c"s);
  // Unquoted words are separate character-strings (RFC 1035 §5.1).
  EXPECT_EQ(parse(16, "hello world"), "\x05hello\x05world"s);
  EXPECT_EQ(parse(16, "\"\""), "\x00"s);
  EXPECT_EQ(parse(16, "\"say \\\"hi\\\"\""), "\x08say \"hi\""s);
}

TEST(ParseRdata, TxtLongStringIsRejectedByLdns) {
  // ldns does not split a quoted string longer than 255 octets; the operator has to write
  // several character-strings, as for every other RFC 1035 parser.
  const std::string long_text(300, 'x');
  std::string error = parseError(16, "\"" + long_text + "\"");
  EXPECT_EQ(error.rfind("invalid TXT data '\"xxx", 0), 0u) << error;
  // Quoted strings built by append: GCC 12 -O3 gives a false -Wrestrict for "x" + std::string&&.
  std::string two = "\"";
  two.append(long_text, 0, 255).append("\" \"").append(long_text, 255).append("\"");
  std::string wire = parse(16, two);
  ASSERT_EQ(wire.size(), 1u + 255 + 1 + 45);
  EXPECT_EQ(static_cast<uint8_t>(wire[0]), 255);
  EXPECT_EQ(static_cast<uint8_t>(wire[256]), 45);
}

TEST(ParseRdata, ParenthesesAndCommentsSpanLines) {
  EXPECT_EQ(parse(6, "ns1 hostmaster (\n 1 ; serial (\n 2 3 4 5 )"),
            "\3ns1\4demo\4test\0\12hostmaster\4demo\4test\0"
            "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5"s);
  EXPECT_EQ(parse(16, "\"a(\" \"b)\" ; trailing ( comment"),
            "\x02"
            "a(\x02"
            "b)"s);
}

TEST(ParseRdata, Caa) {
  EXPECT_EQ(parse(257, "0 issue \"letsencrypt.org\""), "\x00\x05issueletsencrypt.org"s);
}

TEST(ParseRdata, Ds) {
  EXPECT_EQ(
      parse(43, "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"),
      "\xec\x45\x05\x01\x2b\xb1\x83\xaf\x5f\x22\x58\x81\x79\xa5\x3b\x0a\x98\x63\x1f\xad\x1a\x29\x21\x18"s);
}

TEST(ParseRdata, Soa) {
  EXPECT_EQ(parse(6, "ns1 hostmaster 2026112101 3600 600 1209600 300"),
            "\3ns1\4demo\4test\0\12hostmaster\4demo\4test\0"
            "\x78\xc4\x04\x65\x00\x00\x0e\x10\x00\x00\x02\x58\x00\x12\x75\x00\x00\x00\x01\x2c"s);
}

TEST(ParseRdata, SvcbAndHttps) {
  // RFC 9460: priority, target, then SvcParams sorted by key (alpn=1, ipv4hint=4).
  EXPECT_EQ(parse(65, "1 . alpn=h2,h3 ipv4hint=192.0.2.1"),
            "\x00\x01\x00"
            "\x00\x01\x00\x06\x02h2\x02h3"
            "\x00\x04\x00\x04\xc0\x00\x02\x01"s);
  EXPECT_EQ(parse(64, "0 svc.example."), "\x00\x00\3svc\7example\0"s);
}

TEST(ParseRdata, UnknownTypeGenericForm) {
  EXPECT_EQ(parse(65534, "\\# 3 010203"), "\x01\x02\x03"s);
  EXPECT_EQ(parse(65534, "\\# 0"), ""s);
}

TEST(ParseRdata, Errors) {
  EXPECT_EQ(parseError(1, "192.0.2.300"), "not a valid IPv4 address '192.0.2.300'");
  EXPECT_EQ(parseError(1, "1.2.3"), "not a valid IPv4 address '1.2.3'");
  EXPECT_EQ(parseError(1, "192.0.2.1 garbage"), "not a valid IPv4 address '192.0.2.1 garbage'");
  EXPECT_EQ(parseError(1, ""), "not a valid IPv4 address ''");
  EXPECT_EQ(parseError(28, "2001:db8::zz"), "not a valid IPv6 address '2001:db8::zz'");
  EXPECT_EQ(parseError(28, "192.0.2.1"), "not a valid IPv6 address '192.0.2.1'");
  EXPECT_EQ(parseError(15, "10 mail extra"),
            "invalid MX data '10 mail extra': Syntax error, superfluous text present");
  EXPECT_EQ(parseError(15, "mail"),
            "invalid MX data 'mail': Syntax error, could not parse the RR's rdata");
  EXPECT_EQ(parseError(15, "99999 mail"),
            "invalid MX data '99999 mail': integer 99999 out of range (0..65535)");
  EXPECT_EQ(parseError(33, "10 60 70000 sip"),
            "invalid SRV data '10 60 70000 sip': integer 70000 out of range (0..65535)");
  EXPECT_EQ(parseError(16, "\"unterminated"),
            "invalid TXT data '\"unterminated': unterminated quoted string");
  EXPECT_EQ(parseError(1, "192.0.2.1 ("), "not a valid IPv4 address '192.0.2.1 ('");
  EXPECT_EQ(parseError(16, "(\"a\""), "invalid TXT data '(\"a\"': unbalanced parentheses");
  EXPECT_EQ(parseError(16, "\"a\")"), "invalid TXT data '\"a\")': unbalanced parentheses");
  EXPECT_EQ(parseError(5, "a..b"),
            "invalid CNAME data 'a..b': Syntax error, could not parse the RR's rdata");
  EXPECT_EQ(parseError(2, ""), "invalid NS data '': Syntax error, value expected");
}

}  // namespace
}  // namespace understudy::zone
