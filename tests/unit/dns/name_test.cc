#include "understudy/dns/name.h"

#include <gtest/gtest.h>

#include <string>

namespace understudy::dns {
namespace {

using std::string_literals::operator""s;

const std::string kOrigin = "\4demo\4test\0"s;

TEST(NameFromText, RelativeAbsoluteApexAndRoot) {
  EXPECT_EQ(nameFromText("www", kOrigin), "\3www\4demo\4test\0"s);
  EXPECT_EQ(nameFromText("www.example.", kOrigin), "\3www\7example\0"s);
  EXPECT_EQ(nameFromText("@", kOrigin), kOrigin);
  EXPECT_EQ(nameFromText(".", kOrigin), "\0"s);
  EXPECT_EQ(nameFromText("a.b", kOrigin), "\1a\1b\4demo\4test\0"s);
}

TEST(NameFromText, Escapes) {
  EXPECT_EQ(nameFromText("a\\.b.", ""), "\3a.b\0"s);
  EXPECT_EQ(nameFromText("\\065b.", ""), "\2Ab\0"s);
}

TEST(NameFromText, Errors) {
  std::string why;
  EXPECT_FALSE(nameFromText("a..b.", "", &why));
  EXPECT_NE(why.find("empty label"), std::string::npos) << why;
  EXPECT_FALSE(nameFromText(std::string(64, 'a') + ".", "", &why));
  EXPECT_NE(why.find("63"), std::string::npos) << why;
  std::string long_name;
  for (int i = 0; i < 60; ++i) long_name += "abcd.";  // 301 octets
  EXPECT_FALSE(nameFromText(long_name, "", &why));
  EXPECT_NE(why.find("255"), std::string::npos) << why;
  EXPECT_FALSE(nameFromText("\\999.", "", &why));
  EXPECT_FALSE(nameFromText("www", "", &why));
}

TEST(NameToText, EscapesSpecialCharacters) {
  EXPECT_EQ(nameToText("\3www\4demo\4test\0"s), "www.demo.test.");
  EXPECT_EQ(nameToText("\0"s), ".");
  EXPECT_EQ(nameToText("\3a.b\0"s), "a\\.b.");
  EXPECT_EQ(nameToText("\1\x01\0"s), "\\001.");
}

TEST(Names, SubdomainLabelsAndParent) {
  EXPECT_TRUE(isSubdomain("\3www\4demo\4test\0"s, kOrigin));
  EXPECT_TRUE(isSubdomain(kOrigin, kOrigin));
  EXPECT_FALSE(isSubdomain("\4test\0"s, kOrigin));
  // "xdemo.test" is not below "demo.test": the match must fall on a label boundary.
  EXPECT_FALSE(isSubdomain("\5xdemo\4test\0"s, kOrigin));
  EXPECT_EQ(labelCount(kOrigin), 2);
  EXPECT_EQ(labelCount("\0"s), 0);
  EXPECT_EQ(parentName("\3www\4demo\4test\0"s), kOrigin);
  EXPECT_EQ(lowered("\3WwW\4DEMO\4test\0"s), "\3www\4demo\4test\0"s);
}

TEST(ReadName, FollowsBackwardPointers) {
  // header(12) + "demo.test" at 12, then "www" + pointer to 12 at 23.
  std::string msg(12, '\0');
  msg += kOrigin;
  msg += "\3www\xc0\x0c"s;
  uint8_t out[255];
  size_t len = 0, next = 0;
  ASSERT_TRUE(
      readName(reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), 23, out, &len, &next));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), len), "\3www\4demo\4test\0"s);
  EXPECT_EQ(next, msg.size());
}

TEST(ReadName, RejectsLoopsForwardPointersAndOverruns) {
  uint8_t out[255];
  size_t len = 0, next = 0;
  std::string self_loop = std::string(12, '\0') + "\xc0\x0c"s;
  EXPECT_FALSE(readName(reinterpret_cast<const uint8_t*>(self_loop.data()), self_loop.size(), 12,
                        out, &len, &next));
  std::string forward = std::string(12, '\0') + "\xc0\x10\0\0\0"s;
  EXPECT_FALSE(readName(reinterpret_cast<const uint8_t*>(forward.data()), forward.size(), 12, out,
                        &len, &next));
  std::string overrun = std::string(12, '\0') +
                        "\x05"
                        "ab"s;
  EXPECT_FALSE(readName(reinterpret_cast<const uint8_t*>(overrun.data()), overrun.size(), 12, out,
                        &len, &next));
  std::string extended = std::string(12, '\0') +
                         "\x41"
                         "ab\0"s;
  EXPECT_FALSE(readName(reinterpret_cast<const uint8_t*>(extended.data()), extended.size(), 12, out,
                        &len, &next));
  // 128 labels of 1 octet = 256 octets with the root: one too many.
  std::string too_long(12, '\0');
  for (int i = 0; i < 128; ++i) too_long += "\1a"s;
  too_long += '\0';
  EXPECT_FALSE(readName(reinterpret_cast<const uint8_t*>(too_long.data()), too_long.size(), 12, out,
                        &len, &next));
}

}  // namespace
}  // namespace understudy::dns
