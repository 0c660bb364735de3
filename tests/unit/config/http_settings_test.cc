// Check and webhook settings that end up in an HTTP request: a CR or LF in a header or a path
// would start a line the operator never wrote, and a host with '/', '?', '#' or '@' would probe
// another URL. Refused at load, at the offending value.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "understudy/config/config.h"

namespace understudy::config {
namespace {

std::vector<std::string> errorsOf(const std::string& yaml) {
  try {
    loadString(yaml, "test.yaml", ".");
  } catch (const ConfigError& e) {
    std::vector<std::string> out;
    for (const Diagnostic& d : e.diagnostics()) out.push_back(d.str());
    return out;
  }
  return {};
}

// A check `web` with `settings` (YAML flow-map entries) on line 2.
std::string check(const std::string& settings) {
  return "checks:\n  web: { type: http, " + settings + " }\n";
}

struct Case {
  const char* name;
  std::string yaml;
  std::string error;  // the one diagnostic
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      {"HeaderValueWithCrLf", check(R"(headers: { X-A: "ok\r\nX-Injected: 1" })"),
       "test.yaml:2:38: checks.web.headers.X-A: header value contains a CR (carriage return): line "
       "breaks and control characters would end the header line"},
      {"HeaderValueWithLf", check(R"(headers: { X-A: "a\nb" })"),
       "test.yaml:2:38: checks.web.headers.X-A: header value contains an LF (line feed): line "
       "breaks and control characters would end the header line"},
      {"HeaderValueWithNul", check(R"(headers: { X-A: "a\0b" })"),
       "test.yaml:2:38: checks.web.headers.X-A: header value contains a NUL: line breaks and "
       "control characters would end the header line"},
      {"HeaderValueWithEscape", check(R"(headers: { X-A: "a\eb" })"),
       "test.yaml:2:38: checks.web.headers.X-A: header value contains control character 0x1b: "
       "line breaks and control characters would end the header line"},
      {"HeaderNameWithLf", check(R"(headers: { "X-A\nX-B": v })"),
       "test.yaml:2:33: checks.web.headers: invalid header name 'X-A\\nX-B': it contains an LF "
       "(line feed) (a name is letters, digits and !#$%&'*+-.^_`|~)"},
      {"HeaderNameWithColon", check(R"(headers: { "X-A: 1": v })"),
       "test.yaml:2:33: checks.web.headers: invalid header name 'X-A: 1': it contains ':' (a name "
       "is letters, digits and !#$%&'*+-.^_`|~)"},
      {"HeaderNameWithSpace", check(R"(headers: { "X A": v })"),
       "test.yaml:2:33: checks.web.headers: invalid header name 'X A': it contains a space (a "
       "name is letters, digits and !#$%&'*+-.^_`|~)"},
      {"HeaderNameEmpty", check(R"(headers: { "": v })"),
       "test.yaml:2:33: checks.web.headers: empty header name"},
      {"PathWithCrLf", check(R"(path: "/health\r\nX-Injected: 1")"),
       "test.yaml:2:28: checks.web.path: path '/health\\r\\nX-Injected: 1' contains a CR "
       "(carriage return): percent-encode it (a space is %20)"},
      {"PathWithSpace", check(R"(path: "/a b")"),
       "test.yaml:2:28: checks.web.path: path '/a b' contains a space: percent-encode it (a space "
       "is %20)"},
      {"PathWithFragment", check(R"(path: "/a#b")"),
       "test.yaml:2:28: checks.web.path: path '/a#b' contains '#': a fragment is never sent to "
       "the server"},
      {"PathWithoutSlashShowsNoRawControlCharacters", check(R"(path: "a\r\n")"),
       "test.yaml:2:28: checks.web.path: path must start with '/': 'a\\r\\n'"},
      {"HostWithSlash", check("host: app.example.com/health"),
       "test.yaml:2:28: checks.web.host: host 'app.example.com/health' contains '/': give the host "
       "name only (the port goes in 'port', the path in 'path')"},
      {"HostWithQuery", check("host: \"app?x=1\""),
       "test.yaml:2:28: checks.web.host: host 'app?x=1' contains '?': give the host name only (the "
       "port goes in 'port', the path in 'path')"},
      {"HostWithFragment", check("host: \"app#x\""),
       "test.yaml:2:28: checks.web.host: host 'app#x' contains '#': give the host name only (the "
       "port goes in 'port', the path in 'path')"},
      {"HostWithUser", check("host: user@app"),
       "test.yaml:2:28: checks.web.host: host 'user@app' contains '@': give the host name only "
       "(the "
       "port goes in 'port', the path in 'path')"},
      {"HostWithSpace", check("host: \"app example\""),
       "test.yaml:2:28: checks.web.host: host 'app example' contains a space: give the host name "
       "only (the port goes in 'port', the path in 'path')"},
      {"HostWithCrLf", check(R"(host: "app\r\nX-Injected: 1")"),
       "test.yaml:2:28: checks.web.host: host 'app\\r\\nX-Injected: 1' contains a CR (carriage "
       "return): give the host name only (the port goes in 'port', the path in 'path')"},
      {"HostWithPort", check("host: \"app.example.com:8443\""),
       "test.yaml:2:28: checks.web.host: host 'app.example.com:8443' contains ':' but is not an "
       "IPv6 address: give the host name only (the port goes in 'port')"},
      {"HostEmpty", check("host: \"\""), "test.yaml:2:28: checks.web.host: empty host"},
      {"WebhookHeaderValueWithCrLf",
       "notify:\n  - { url: \"https://hooks.example/x\", headers: { X-Team: \"dns\\r\\nX-B: 1\" } "
       "}\n",
       "test.yaml:2:58: notify[0].headers.X-Team: header value contains a CR (carriage return): "
       "line breaks and control characters would end the header line"},
      {"WebhookHeaderNameWithLf",
       "notify:\n  - { url: \"https://hooks.example/x\", headers: { \"X\\nY\": v } }\n",
       "test.yaml:2:50: notify[0].headers: invalid header name 'X\\nY': it contains an LF (line "
       "feed) (a name is letters, digits and !#$%&'*+-.^_`|~)"},
      {"WebhookUrlWithLf", "notify:\n  - { url: \"https://hooks.example/x\\ny\" }\n",
       "test.yaml:2:12: notify[0].url: webhook url contains an LF (line feed): percent-encode it "
       "(a "
       "space is %20)"},
  };
  return kCases;
}

class HttpSettings : public ::testing::TestWithParam<Case> {};

TEST_P(HttpSettings, RefusedAtTheValue) {
  const Case& c = GetParam();
  EXPECT_EQ(errorsOf(c.yaml), std::vector<std::string>{c.error}) << c.yaml;
}

INSTANTIATE_TEST_SUITE_P(Table, HttpSettings, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(HttpSettings, WhatIsAllowedStillLoads) {
  Config c = loadString(
      "checks:\n"
      "  a: { type: http, host: app.example.com, path: \"/health?full=1&x=%20\",\n"
      "       headers: { X-Health: \"understudy\\tv1 (caf\xc3\xa9)\", \"X_Odd!#$%&'*+-.^`|~\": v } "
      "}\n"
      "  b: { type: https, host: \"2001:db8::1\" }\n"
      "  c: { type: https, host: \"fe80::1%eth0\" }\n"
      "  d: { type: http, host: xn--caf-dma.example, path: /caf%C3%A9 }\n"
      "notify:\n"
      "  - { url: \"https://hooks.example/x?a=1\", headers: { Authorization: \"Bearer abc\" } }\n",
      "test.yaml", ".");
  ASSERT_EQ(c.checks.size(), 4u);
  EXPECT_EQ(c.checks[0].host, "app.example.com");
  EXPECT_EQ(c.checks[0].path, "/health?full=1&x=%20");
  ASSERT_EQ(c.checks[0].headers.size(), 2u);
  EXPECT_EQ(c.checks[0].headers[0].second, "understudy\tv1 (caf\xc3\xa9)");
  EXPECT_EQ(c.checks[1].host, "2001:db8::1");
  EXPECT_EQ(c.checks[2].host, "fe80::1%eth0");
  ASSERT_EQ(c.notify.size(), 1u);
  EXPECT_EQ(c.notify[0].headers[0].second, "Bearer abc");
}

}  // namespace
}  // namespace understudy::config
