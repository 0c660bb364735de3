// The bearer token guarding mutations: comparison, the header, the file.
#include "control/token.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "control/router.h"

namespace understudy::control {
namespace {

TEST(Token, EqualOnlyWhenEveryByteAndTheLengthMatch) {
  EXPECT_TRUE(tokensEqual("0123456789abcdef", "0123456789abcdef"));
  EXPECT_FALSE(tokensEqual("0123456789abcdef", "0123456789abcdeF"));
  EXPECT_FALSE(tokensEqual("0123456789abcdef", "1123456789abcdef"));
  EXPECT_FALSE(tokensEqual("0123456789abcdef", "0123456789abcde"));
  EXPECT_FALSE(tokensEqual("0123456789abcdef", "0123456789abcdef0"));
  // A NUL in the longer one must not make a prefix match.
  EXPECT_FALSE(tokensEqual("abc", std::string_view("abc\0", 4)));
  EXPECT_FALSE(tokensEqual("", "x"));
  EXPECT_TRUE(tokensEqual("", ""));
}

TEST(Token, BearerHeader) {
  EXPECT_EQ(bearerToken("Bearer abc123"), "abc123");
  EXPECT_EQ(bearerToken("bearer abc123"), "abc123");  // RFC 6750: scheme is case-insensitive
  EXPECT_EQ(bearerToken("BEARER   abc123  "), "abc123");
  EXPECT_FALSE(bearerToken("Basic YWxhZGRpbjpvcGVu"));
  EXPECT_FALSE(bearerToken("Bearer"));
  EXPECT_FALSE(bearerToken("Bearer "));
  EXPECT_FALSE(bearerToken("Bearerabc"));
  EXPECT_FALSE(bearerToken(""));
}

TEST(Token, FileGivesItsFirstLineTrimmed) {
  char dir_template[] = "/tmp/understudy-token-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir_template));
  std::string dir = dir_template;
  std::string path = dir + "/token";
  { std::ofstream(path) << "  s3cr3t-token-0123456789 \r\nsecond line\n"; }
  std::string error;
  EXPECT_EQ(readTokenFile(path, &error), "s3cr3t-token-0123456789");
  { std::ofstream(path) << "\nsecond line\n"; }
  EXPECT_FALSE(readTokenFile(path, &error));
  EXPECT_NE(error.find("empty first line"), std::string::npos) << error;
  EXPECT_FALSE(readTokenFile(dir + "/missing", &error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
  // A device or a FIFO is refused, not read until memory runs out or a writer comes.
  EXPECT_FALSE(readTokenFile("/dev/zero", &error));
  EXPECT_EQ(error, "token file '/dev/zero' is not a regular file (it is a character device)");
  std::string pipe = dir + "/pipe";
  ASSERT_EQ(mkfifo(pipe.c_str(), 0600), 0);
  EXPECT_FALSE(readTokenFile(pipe, &error));
  EXPECT_EQ(error, "token file '" + pipe + "' is not a regular file (it is a FIFO)");
  unlink(pipe.c_str());
  { std::ofstream(path) << std::string(5000, 'x') << "\n"; }
  EXPECT_FALSE(readTokenFile(path, &error));
  EXPECT_EQ(error, "token file '" + path + "' is larger than the 4 KiB limit for token files");
  unlink(path.c_str());
  rmdir(dir.c_str());
}

TEST(PercentDecode, PathSegmentsAndQueryValues) {
  EXPECT_EQ(percentDecode("2001%3Adb8%3A%3A1", false), "2001:db8::1");
  EXPECT_EQ(percentDecode("a+b", false), "a+b");
  EXPECT_EQ(percentDecode("a+b%20c", true), "a b c");
  EXPECT_FALSE(percentDecode("%4", false));
  EXPECT_FALSE(percentDecode("%", false));
  EXPECT_FALSE(percentDecode("%zz", false));
}

}  // namespace
}  // namespace understudy::control
