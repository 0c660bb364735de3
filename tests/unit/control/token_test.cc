// The bearer token guarding mutations: comparison, the header, the file.
#include "token.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "router.h"
#include "understudy/config/config.h"

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

TEST(Token, BearerHeaderIsExactlySchemeSpaceToken) {
  EXPECT_EQ(bearerToken("Bearer abc123"), "abc123");
  EXPECT_EQ(bearerToken("bearer abc123"), "abc123");  // RFC 7235 §2.1: scheme case-insensitive
  EXPECT_EQ(bearerToken("BeArEr abc123"), "abc123");
  // Blanks around the field value are not part of it (RFC 9110 §5.5).
  EXPECT_EQ(bearerToken(" Bearer abc123\t"), "abc123");
  EXPECT_FALSE(bearerToken("BEARER   abc123"));  // one space, not several
  EXPECT_FALSE(bearerToken("Bearer\tabc123"));
  EXPECT_FALSE(bearerToken("Bearer abc 123"));  // a token is one word
  EXPECT_FALSE(
      bearerToken("Bearer a\x01"
                  "b"));
  EXPECT_FALSE(bearerToken("Basic YWxhZGRpbjpvcGVu"));
  EXPECT_FALSE(bearerToken("Bearer"));
  EXPECT_FALSE(bearerToken("Bearer "));
  EXPECT_FALSE(bearerToken("Bearerabc"));
  EXPECT_FALSE(bearerToken(""));
}

// A scratch directory with token files written at a given mode.
class TokenFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/understudy-token-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir_template));
    dir_ = dir_template;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content, mode_t mode = 0600) {
    std::string path = dir_ + "/" + name;
    { std::ofstream(path, std::ios::binary | std::ios::trunc) << content; }
    EXPECT_EQ(chmod(path.c_str(), mode), 0);
    return path;
  }

  std::string dir_;
};

TEST_F(TokenFile, FirstLineStrippedOnceThenSixteenVisibleCharacters) {
  std::string error;
  EXPECT_EQ(readTokenFile(write("t", "  s3cr3t-token-0123456789 \r\nsecond line\n"), &error),
            "s3cr3t-token-0123456789")
      << error;
  EXPECT_EQ(readTokenFile(write("t", "0123456789abcdef"), &error), "0123456789abcdef") << error;

  const std::string too_short =
      " must hold a token of at least 16 characters on its first line (it has ";
  const std::string one_word = ": the token must be one word of visible ASCII characters, but ";
  struct Bad {
    std::string content;
    std::string message;  // after "token file '<path>'"
  };
  const Bad kBad[] = {
      {"\nsecond line\n", too_short + "0 after stripping surrounding blanks)"},
      // Used to pass `check` (16 characters before stripping) and fail the daemon.
      {std::string(16, ' ') + "\n", too_short + "0 after stripping surrounding blanks)"},
      // Used to pass both, as the one-character token "a": "Bearer a" was accepted.
      {"a" + std::string(15, ' ') + "\n", too_short + "1 after stripping surrounding blanks)"},
      {"0123456789abcde\n", too_short + "15 after stripping surrounding blanks)"},
      {"01234567 89abcdef\n", one_word + "it has a blank at character 9"},
      {"01234567\t89abcdef\n", one_word + "it has a blank at character 9"},
      {"0123456789abcdef\x01\n", one_word + "it has a control character at character 17"},
      {"0123456789abcdef\xc3\xa9\n", one_word + "it has a non-ASCII byte at character 17"},
  };
  for (const Bad& bad : kBad) {
    std::string path = write("t", bad.content);
    error.clear();
    EXPECT_FALSE(readTokenFile(path, &error)) << bad.content;
    EXPECT_EQ(error, "token file '" + path + "'" + bad.message);
  }
  EXPECT_FALSE(readTokenFile(dir_ + "/missing", &error));
  EXPECT_NE(error.find("cannot open token file"), std::string::npos) << error;
}

TEST_F(TokenFile, RefusedWhenOthersMayReadOrWriteIt) {
  const std::string token = "0123456789abcdef\n";
  std::string error;
  EXPECT_TRUE(readTokenFile(write("t", token, 0600), &error)) << error;
  EXPECT_TRUE(readTokenFile(write("t", token, 0640), &error)) << error;  // docs/control.md
  EXPECT_TRUE(readTokenFile(write("t", token, 0660), &error)) << error;
  std::string path = write("t", token, 0644);
  EXPECT_FALSE(readTokenFile(path, &error));
  EXPECT_EQ(error, "token file '" + path +
                       "' is readable by other users (mode 0644); run: chmod 0640 '" + path +
                       "' (owner root, group of the service user)");
  EXPECT_FALSE(readTokenFile(write("t", token, 0602), &error));
  EXPECT_NE(error.find("is writable by other users (mode 0602)"), std::string::npos) << error;
  EXPECT_FALSE(readTokenFile(write("t", token, 0666), &error));
  EXPECT_NE(error.find("is readable and writable by other users (mode 0666)"), std::string::npos)
      << error;
  EXPECT_FALSE(readTokenFile(write("t", token, 0601), &error));
  // A client's own copy (`ctl --token-file`) is its owner's business: the text rule only.
  EXPECT_EQ(readTokenFile(write("t", token, 0644), &error, false), "0123456789abcdef");
  EXPECT_FALSE(readTokenFile(write("t", "short\n", 0600), &error, false));
}

TEST_F(TokenFile, OnlyARegularFileOfAtMost4KiB) {
  std::string error;
  // A device or a FIFO is refused, not read until memory runs out or a writer comes.
  EXPECT_FALSE(readTokenFile("/dev/zero", &error));
  EXPECT_EQ(error, "token file '/dev/zero' is not a regular file (it is a character device)");
  std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_FALSE(readTokenFile(fifo, &error));
  EXPECT_EQ(error, "token file '" + fifo + "' is not a regular file (it is a FIFO)");
  std::string big = write("big", std::string(5000, 'x') + "\n");
  EXPECT_FALSE(readTokenFile(big, &error));
  EXPECT_EQ(error, "token file '" + big + "' is larger than the 4 KiB limit for token files");
}

// `understudy check` (the config loader) and the daemon's control endpoint read the token file
// through one function: for every file, they agree.
TEST_F(TokenFile, CheckAndTheDaemonAgree) {
  struct Case {
    std::string content;
    mode_t mode;
  };
  const Case kCases[] = {
      {"0123456789abcdef\n", 0600},
      {"  0123456789abcdef  \r\n", 0640},
      {std::string(16, ' ') + "\n", 0600},
      {"a" + std::string(15, ' ') + "\n", 0600},
      {"0123456789 abcdef\n", 0600},
      {"0123456789abcdef\n", 0644},
      {"", 0600},
  };
  for (const Case& c : kCases) {
    std::string path = write("token", c.content, c.mode);
    std::string error;
    auto daemon = readTokenFile(path, &error);
    bool check = true;
    std::string check_error;
    try {
      config::loadString("control: { listen: \"127.0.0.1:0\", token_file: token }\n",
                         dir_ + "/test.yaml", dir_);
    } catch (const ConfigError& e) {
      check = false;
      check_error = e.what();
    }
    EXPECT_EQ(check, daemon.has_value()) << "'" << c.content << "': " << check_error << error;
    if (!daemon) {
      EXPECT_NE(check_error.find(error), std::string::npos) << check_error;
    }
  }
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
