// The master-file tokenizer alone (src/zone/zone_lexer.h): entries and their tokens, quoting,
// escapes, comments, parentheses, the line of each entry, and the errors it reports itself.
#include "zone_lexer.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "understudy/common/diagnostic.h"

namespace understudy::zone::detail {
namespace {

using namespace std::string_literals;

const std::string kPath = "lexer.zone";

struct Entry {
  int line = 0;
  bool blank_owner = false;
  std::vector<std::string> tokens;  // as shown(): quoted ones with their quotes
  bool operator==(const Entry&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Entry& e) {
  out << "{line " << e.line << (e.blank_owner ? ", blank owner" : "") << ":";
  for (const auto& t : e.tokens) out << " [" << t << "]";
  return out << "}";
}

// `text` ends with the NUL the lexer needs: std::string keeps one after its last character.
std::vector<Entry> entries(const std::string& text) {
  ZoneLexer lexer(kPath, text.data(), text.data() + text.size());
  std::vector<Entry> out;
  while (lexer.next()) {
    Entry e{lexer.line(), lexer.blankOwner(), {}};
    for (size_t i = 0; i < lexer.size(); ++i) e.tokens.push_back(shown(lexer[i]));
    out.push_back(e);
  }
  return out;
}

Diagnostic lexError(const std::string& text) {
  try {
    entries(text);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.diagnostics().size(), 1u);
    return e.diagnostics().front();
  }
  ADD_FAILURE() << "no error for: " << text;
  return {};
}

TEST(ZoneLexer, SplitsLinesIntoTokensAndCountsLines) {
  EXPECT_EQ(entries("www 300 IN A 192.0.2.1\n"
                    "\tAAAA 2001:db8::1\n"
                    "\n"
                    "; a comment line\n"
                    "mail\tMX 10 mx ; trailing comment\n"
                    "last A 192.0.2.9"),  // no final newline
            (std::vector<Entry>{
                {1, false, {"www", "300", "IN", "A", "192.0.2.1"}},
                {2, true, {"AAAA", "2001:db8::1"}},
                {5, false, {"mail", "MX", "10", "mx"}},
                {6, false, {"last", "A", "192.0.2.9"}},
            }));
  EXPECT_TRUE(entries("").empty());
  EXPECT_TRUE(entries("  ; only a comment\n\n   \n").empty());
}

TEST(ZoneLexer, ParenthesesJoinLinesIntoOneEntryAtItsFirstLine) {
  EXPECT_EQ(entries("@ SOA ns1 hostmaster (\n"
                    "      1     ; serial\n"
                    "      3600 600 1209600 300 )\n"
                    "www A 192.0.2.1\n"
                    "txt TXT ( \"a\"\n"
                    "  \"b\" )\n"),
            (std::vector<Entry>{
                {1, false, {"@", "SOA", "ns1", "hostmaster", "1", "3600", "600", "1209600", "300"}},
                {4, false, {"www", "A", "192.0.2.1"}},
                {5, false, {"txt", "TXT", "\"a\"", "\"b\""}},
            }));
  // An entry may start inside parentheses, on a later line: it is that line's.
  EXPECT_EQ(entries("(\n\nwww A 192.0.2.1 )\n"),
            (std::vector<Entry>{{3, false, {"www", "A", "192.0.2.1"}}}));
}

TEST(ZoneLexer, QuotesAndEscapesKeepTheTextAsWritten) {
  const std::string text =
      "t TXT \"a b ; not a comment (\" a\\032b \\\"x alpn=\"h2 h3\" \"\"\n"
      "e TXT a\\\nb\n"  // an escaped newline belongs to the token and is counted
      "f A 192.0.2.1\n";
  ZoneLexer lexer(kPath, text.data(), text.data() + text.size());
  ASSERT_TRUE(lexer.next());
  ASSERT_EQ(lexer.size(), 7u);
  EXPECT_EQ(lexer[2].view(), "a b ; not a comment (");
  EXPECT_TRUE(lexer[2].quoted);
  EXPECT_FALSE(lexer[2].escaped);
  EXPECT_EQ(lexer[3].view(), "a\\032b");
  EXPECT_FALSE(lexer[3].quoted);
  EXPECT_TRUE(lexer[3].escaped);
  EXPECT_EQ(lexer[4].view(), "\\\"x");
  EXPECT_TRUE(lexer[4].escaped);
  // A quote inside a word quotes what follows it without ending the word (SVCB parameters).
  EXPECT_EQ(lexer[5].view(), "alpn=\"h2 h3\"");
  EXPECT_FALSE(lexer[5].quoted);
  EXPECT_EQ(lexer[6].view(), "");
  EXPECT_TRUE(lexer[6].quoted);
  EXPECT_EQ(lexer.line(), 1);
  // The next entry starts at the start of line 2.
  EXPECT_EQ(lexer.position(), text.data() + text.find("e TXT"));

  ASSERT_TRUE(lexer.next());
  ASSERT_EQ(lexer.size(), 3u);
  EXPECT_EQ(lexer[2].view(), "a\\\nb");
  EXPECT_EQ(lexer.line(), 2);
  ASSERT_TRUE(lexer.next());
  EXPECT_EQ(lexer.line(), 4);
  EXPECT_FALSE(lexer.next());
  EXPECT_FALSE(lexer.next());
}

TEST(ZoneLexer, JoinedGivesTheTokensBackWithSingleSpaces) {
  const std::string text = "x TYPE1 ( 192.0.2.1 \"q\"\"r\"  tail )\n";
  ZoneLexer lexer(kPath, text.data(), text.data() + text.size());
  ASSERT_TRUE(lexer.next());
  EXPECT_EQ(joined(lexer.tokens() + 2, lexer.size() - 2), "192.0.2.1 \"q\"\"r\" tail");
  EXPECT_EQ(joined(lexer.tokens(), 0), "");
}

TEST(ZoneLexer, ManyTokensInOneEntry) {
  std::string text = "big TXT (";
  for (int i = 0; i < 500; ++i) text += " t" + std::to_string(i) + "\n";
  text += ")\n";
  std::vector<Entry> got = entries(text);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].tokens.size(), 502u);
  EXPECT_EQ(got[0].tokens[501], "t499");
  EXPECT_EQ(got[0].line, 1);
}

struct ErrorCase {
  const char* what;
  std::string text;
  int line;
  const char* message;
};

class ZoneLexerErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ZoneLexerErrors, NameTheLineAndTheProblem) {
  const ErrorCase& c = GetParam();
  Diagnostic d = lexError(c.text);
  EXPECT_EQ(d.where.file, kPath) << c.what;
  EXPECT_EQ(d.where.line, c.line) << c.what;
  EXPECT_EQ(d.message, c.message) << c.what;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ZoneLexerErrors,
    ::testing::Values(
        // The open parenthesis is reported where it was opened, not at the end of the file.
        ErrorCase{"unclosed_paren", "a A 192.0.2.1\nb SOA ns1 hm (\n 1 2 3 4 5\n\n", 2,
                  "unbalanced parentheses: '(' is never closed"},
        ErrorCase{"close_without_open", "a A 192.0.2.1\n\nb A 192.0.2.2 )\n", 3,
                  "unbalanced parentheses: ')' without '('"},
        // A quoted string ends on its line.
        ErrorCase{"unclosed_quote_at_newline", "a A 192.0.2.1\nt TXT \"abc\ndef\"\n", 2,
                  "unterminated quoted string"},
        ErrorCase{"unclosed_quote_at_end", "t TXT \"abc", 1, "unterminated quoted string"},
        ErrorCase{"escape_at_end_in_quote", "t TXT \"abc\\", 1, "unterminated quoted string"},
        ErrorCase{"nul_byte", "a A 192.0.2.1\nb A 192\0.0.2.2\n"s, 2, "NUL byte in zone file"},
        ErrorCase{"nul_byte_in_quote", "t TXT \"a\0b\"\n"s, 1, "NUL byte in zone file"}),
    [](const auto& info) { return std::string(info.param.what); });

}  // namespace
}  // namespace understudy::zone::detail
