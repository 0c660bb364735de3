// dns::parseName, the one parser of names in presentation format (RFC 1035 §5.1, RFC 4343): the
// config loader, the zone-file reader and the control API all go through it. Each rule has a
// table row; the rows marked "was:" are where the three parsers it replaced disagreed.
#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "understudy/dns/name.h"
#include "understudy/dns/types.h"

namespace understudy::dns {
namespace {

using std::string_literals::operator""s;

const std::string kOrigin = "\4demo\4test\0"s;
const std::string kRoot = "\0"s;

// The wire name, or "error: <nameErrorText>".
std::string parse(std::string_view text, std::string_view origin = kOrigin) {
  uint8_t out[kMaxNameLength];
  size_t len = 0;
  NameError why = parseName(text, origin, out, &len);
  if (why != NameError::kNone) return std::string("error: ") + nameErrorText(why);
  return std::string(reinterpret_cast<const char*>(out), len);
}

// Length-prefixed labels, then `tail` (the root unless given). Built with append: GCC 12 at -O3
// reports a false -Wrestrict for "x" + std::string.
std::string wire(std::initializer_list<std::string> labels, const std::string& tail = kRoot) {
  std::string out;
  for (const auto& l : labels) {
    out += static_cast<char>(l.size());
    out += l;
  }
  out += tail;
  return out;
}

std::string error(NameError why) {
  return std::string("error: ") + nameErrorText(why);
}

struct Case {
  std::string text;
  std::string origin;
  std::string expected;  // wire, or error(...)
};

void check(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    EXPECT_EQ(parse(c.text, c.origin), c.expected) << "text '" << c.text << "'";
  }
}

TEST(ParseName, OriginApexAndRoot) {
  check({
      {"www", kOrigin, "\3www\4demo\4test\0"s},
      {"a.b", kOrigin, "\1a\1b\4demo\4test\0"s},
      {"www.example.", kOrigin, "\3www\7example\0"s},
      {"@", kOrigin, kOrigin},
      {".", kOrigin, kRoot},
      {".", "", kRoot},  // the root needs no origin
      // Relative to the root: what the config does for zone names and the control API for
      // every name, so "example.test" and "example.test." are the same name there.
      {"example.test", kRoot, "\7example\4test\0"s},
      // With no origin, only absolute names (the old dns parser's rule; the zone file and the
      // config always have one).
      {"www", "", error(NameError::kNoOrigin)},
      {"@", "", error(NameError::kNoOrigin)},
      // "@" only alone: inside a name it is an ordinary character (printed "\@").
      {"@.x.", kOrigin, "\1@\1x\0"s},
      {"a@", kOrigin, "\2a@\4demo\4test\0"s},
  });
}

TEST(ParseName, Escapes) {
  check({
      {"a\\.b.", "", "\3a.b\0"s},
      {"\\065b.", "", "\2Ab\0"s},
      {"\\000.", "", "\1\0\0"s},  // any octet, NUL too
      {"\\255.", "", "\1\xff\0"s},
      {"\\0651.", "", "\2A1\0"s},  // exactly three digits; the fourth is a character
      {"\\\\.", "", "\1\\\0"s},    // an escaped backslash
      {"\\a.", "", "\1a\0"s},      // \X is X for any non-digit
      {"\\(\\;\\\".", "", "\3(;\"\0"s},
      {"\\1x.", "", error(NameError::kBadEscape)},
      {"\\12.", "", error(NameError::kBadEscape)},
      {"\\300.", "", error(NameError::kBadEscape)},
      {"\\256.", "", error(NameError::kBadEscape)},
      {"a\\", kOrigin, error(NameError::kDanglingBackslash)},
  });
}

TEST(ParseName, OnlyAnUnescapedTrailingDotMakesANameAbsolute) {
  check({
      // "a\." is the one-label relative name "a." (was: the old config parser appended a dot to
      // a zone name like "a\" and took it as the label "a.").
      {"a\\.", kOrigin, "\2a.\4demo\4test\0"s},
      {"a\\", kRoot, error(NameError::kDanglingBackslash)},
      // An escaped backslash before the dot: the dot is a real one.
      {"a\\\\.", kOrigin, "\2a\\\0"s},
      // "\046" is a dot as an octet, not a separator.
      {"a\\046", kOrigin, "\2a.\4demo\4test\0"s},
  });
}

TEST(ParseName, EmptyNamesAndLabels) {
  check({
      // was: the config took an empty zone name for the root zone ("" + "." = ".").
      {"", kOrigin, error(NameError::kEmpty)},
      {"", kRoot, error(NameError::kEmpty)},
      {"..", kOrigin, error(NameError::kEmptyLabel)},
      {".a", kOrigin, error(NameError::kEmptyLabel)},
      {"a..b", kOrigin, error(NameError::kEmptyLabel)},
      {"a.b..", kOrigin, error(NameError::kEmptyLabel)},
  });
}

TEST(ParseName, LabelsHoldAtMost63Octets) {
  const std::string l63(63, 'a');
  check({
      {l63 + ".", "", wire({l63})},
      {l63 + "a.", "", error(NameError::kLabelTooLong)},
      {l63 + "a", kOrigin, error(NameError::kLabelTooLong)},
      // Octets are counted, not characters: an escape is one.
      {std::string(62, 'a') + "\\065.", "", wire({std::string(62, 'a') + "A"})},
      {l63 + "\\065.", "", error(NameError::kLabelTooLong)},
      // was: ldns (the config) reported a single 300-octet label as "Domainname length
      // overflow"; the label is too long first, reading left to right.
      {std::string(300, 'a'), kOrigin, error(NameError::kLabelTooLong)},
  });
}

TEST(ParseName, NamesHoldAtMost255Octets) {
  const std::string l63(63, 'a');
  const std::string l61(61, 'b');
  // 63+63+63+61 octets, four length octets and the root: exactly 255.
  const std::string max_text = l63 + "." + l63 + "." + l63 + "." + l61 + ".";
  const std::string max_wire = wire({l63, l63, l63, l61});
  ASSERT_EQ(max_wire.size(), 255u);
  check({
      {max_text, "", max_wire},
      {l63 + "." + l63 + "." + l63 + "." + l61 + "b.", "", error(NameError::kNameTooLong)},
      // Relative: the origin counts. 250 octets before "demo.test." (11) is over.
      {l63 + "." + l63 + "." + l63 + "." + std::string(57, 'c'), kOrigin,
       error(NameError::kNameTooLong)},
      // ... and 243 + 11 = 254 is not.
      {l63 + "." + l63 + "." + l63 + "." + std::string(50, 'c'), kOrigin,
       wire({l63, l63, l63, std::string(50, 'c')}, kOrigin)},
      // 128 one-octet labels: 256 octets with the root.
      {[] {
         std::string t;
         for (int i = 0; i < 128; ++i) t += "a.";
         return t;
       }(),
       "", error(NameError::kNameTooLong)},
  });
}

TEST(ParseName, UnescapedWhitespaceIsRefusedEscapedIsAnOctet) {
  check({
      // was: the zone file and the control API took "a b" as a label with a space; only the
      // config refused it. Unescaped, it is never part of a name in RFC 1035 §5.1 text.
      {"a b", kOrigin, error(NameError::kWhitespace)},
      {"h.test ", kRoot, error(NameError::kWhitespace)},
      {"a\tb", kOrigin, error(NameError::kWhitespace)},
      {"a\nb", kOrigin, error(NameError::kWhitespace)},
      {"a\rb", kOrigin, error(NameError::kWhitespace)},
      {"a\0b"s, kOrigin, error(NameError::kWhitespace)},
      // was: the config refused "a\ b" as whitespace too; escaped, it is the octet 32.
      {"a\\ b.", "", "\3a b\0"s},
      {"a\\032b.", "", "\3a b\0"s},
  });
}

TEST(ParseName, CaseIsKept) {
  // RFC 4343 §4.1: case is preserved; lookups compare lowered() copies.
  check({
      {"WwW.Example.", "", "\3WwW\7Example\0"s},
      {"MiXed", "\4DEMO\0"s, "\5MiXed\4DEMO\0"s},
  });
  EXPECT_EQ(lowered(parse("WwW.Example.")), lowered(parse("www.EXAMPLE.")));
}

TEST(ParseName, TheFirstProblemReadingLeftToRightIsReported) {
  check({
      {"a..b\\999", kOrigin, error(NameError::kEmptyLabel)},
      {"\\999..", kOrigin, error(NameError::kBadEscape)},
      {"a b..", kOrigin, error(NameError::kWhitespace)},
  });
}

TEST(ParseName, NeverWritesPastTheNameBuffer) {
  // The zone reader's buffers hold kMaxNameLength octets; whatever the text, nothing is written
  // after them.
  const std::string l63(63, 'a');
  const std::string texts[] = {
      std::string(400, 'a'),
      l63 + "." + l63 + "." + l63 + "." + l63 + "." + l63,
      l63 + "." + l63 + "." + l63 + "." + l63 + ".",
      l63 + "." + l63 + "." + l63 + "." + std::string(62, 'b'),
      std::string(300, '.'),
      [] {
        std::string t;
        for (int i = 0; i < 200; ++i) t += "\\000.";
        return t;
      }(),
  };
  const std::string long_origin = wire({l63, l63, l63});
  for (const auto& text : texts) {
    for (const std::string& origin : {kOrigin, long_origin, kRoot}) {
      uint8_t buffer[kMaxNameLength + 64];
      std::memset(buffer, 0xAA, sizeof buffer);
      size_t len = 0;
      NameError why = parseName(text, origin, buffer, &len);
      for (size_t i = kMaxNameLength; i < sizeof buffer; ++i) {
        ASSERT_EQ(buffer[i], 0xAA) << "octet " << i << " written for '" << text << "'";
      }
      if (why == NameError::kNone) {
        EXPECT_LE(len, kMaxNameLength);
        EXPECT_TRUE(isValidWireName(std::string_view(reinterpret_cast<char*>(buffer), len)));
      }
    }
  }
}

TEST(ParseName, EveryOctetSurvivesNameToTextAndBack) {
  for (int c = 0; c < 256; ++c) {
    std::string wire = "\1"s + static_cast<char>(c) + "\4test\0"s;
    EXPECT_EQ(parse(nameToText(wire), ""), wire) << "octet " << c << ": " << nameToText(wire);
  }
}

TEST(ParseName, NameFromTextGivesTheSameAnswerAsAString) {
  std::string why;
  EXPECT_EQ(nameFromText("www", kOrigin, &why), "\3www\4demo\4test\0"s);
  EXPECT_FALSE(nameFromText("a..b", kOrigin, &why));
  EXPECT_EQ(why, "empty label");
  EXPECT_FALSE(nameFromText("x", "", &why));
  EXPECT_EQ(why, "relative name without an origin");
}

}  // namespace
}  // namespace understudy::dns
