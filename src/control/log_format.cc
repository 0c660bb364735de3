#include "understudy/control/log_format.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

namespace understudy::control {

namespace {

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v";
// %* is the JSON-escaped message (JsonMessageFlag); %l is spdlog's level name ("warning").
constexpr const char* kJsonPattern = R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%*"})";

// Length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one (RFC 3629 §4:
// no overlongs, no surrogates, nothing above U+10FFFF).
size_t utf8Sequence(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(0);
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  }
  return n;
}

template <typename Out>
void escapeInto(std::string_view text, Out& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Byte by byte: GCC 12 at -O3 reports a -Wrestrict false positive for append() here.
  auto put = [&](std::string_view s) {
    for (char ch : s) out.push_back(ch);
  };
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          put("\\\"");
          break;
        case '\\':
          put("\\\\");
          break;
        case '\n':
          put("\\n");
          break;
        case '\r':
          put("\\r");
          break;
        case '\t':
          put("\\t");
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
            put(std::string_view(esc, sizeof esc));
          } else {
            char ch = static_cast<char>(c);
            put(std::string_view(&ch, 1));
          }
      }
      ++i;
      continue;
    }
    size_t n = utf8Sequence(text.substr(i));
    if (n == 0) {
      put("\\ufffd");
      ++i;
    } else {
      put(text.substr(i, n));
      i += n;
    }
  }
}

class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    escapeInto(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

}  // namespace

void appendJsonEscaped(std::string_view text, std::string& out) {
  escapeInto(text, out);
}

std::unique_ptr<spdlog::formatter> jsonLogFormatter() {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<JsonMessageFlag>('*').set_pattern(kJsonPattern);
  return formatter;
}

void setLogFormat(std::string_view format) {
  if (format == "json") {
    spdlog::set_formatter(jsonLogFormatter());
  } else {
    spdlog::set_formatter(std::make_unique<spdlog::pattern_formatter>(kTextPattern));
  }
}

}  // namespace understudy::control
