// log.format: json — one JSON object per line, whatever the message holds.
#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <nlohmann/json.hpp>

#include "understudy/control/log_format.h"

namespace understudy::control {
namespace {

std::string formatLine(spdlog::level::level_enum level, std::string_view message) {
  auto formatter = jsonLogFormatter();
  spdlog::details::log_msg msg("understudy", level,
                               spdlog::string_view_t(message.data(), message.size()));
  spdlog::memory_buf_t out;
  formatter->format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(JsonLog, OneObjectPerLineWithTimeLevelAndMessage) {
  std::string line = formatLine(spdlog::level::warn, "health web 127.0.0.1:80: up -> down");
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["msg"], "health web 127.0.0.1:80: up -> down");
  std::string time = j["time"];
  // 2024-05-01T12:01:07.123Z
  ASSERT_EQ(time.size(), 24u) << time;
  EXPECT_EQ(time[10], 'T');
  EXPECT_EQ(time.back(), 'Z');
}

TEST(JsonLog, MessagesWithQuotesNewlinesAndControlCharactersStayOneValidLine) {
  const std::string nasty = "config: \"a\\b\"\nline two\ttab\r\x01\x1f end \x7f";
  std::string line = formatLine(spdlog::level::err, nasty);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["msg"], nasty);
  EXPECT_EQ(j["level"], "error");
}

TEST(JsonLog, InvalidUtf8BecomesReplacementCharacters) {
  std::string line = formatLine(spdlog::level::info, "ok é \xff\xfe bad \xe2\x82 cut");
  auto j = nlohmann::json::parse(line);  // would throw on invalid UTF-8
  EXPECT_EQ(j["msg"], "ok é \xef\xbf\xbd\xef\xbf\xbd bad \xef\xbf\xbd\xef\xbf\xbd cut");
}

TEST(JsonLog, EscapingTable) {
  struct Case {
    std::string in;
    std::string out;
  } cases[] = {
      {"plain", "plain"},
      {"\"", "\\\""},
      {"\\", "\\\\"},
      {"\n", "\\n"},
      {"\x01", "\\u0001"},
      {"\xe2\x82\xac", "\xe2\x82\xac"},           // € stays as UTF-8
      {"\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"},  // a surrogate is not valid UTF-8
      {"\xc0\xaf", "\\ufffd\\ufffd"},             // overlong
  };
  for (const auto& c : cases) {
    std::string out;
    appendJsonEscaped(c.in, out);
    EXPECT_EQ(out, c.out);
  }
}

}  // namespace
}  // namespace understudy::control
