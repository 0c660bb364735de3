// The `control:` section (issue 12): the per-client connection cap, the Host names the endpoint
// answers to, and the warning for an endpoint beyond loopback without a token.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "understudy/config/config.h"
#include "understudy/config/host_name.h"

namespace understudy::config {
namespace {

Config load(const std::string& yaml) {
  try {
    return loadString(yaml, "test.yaml", UNDERSTUDY_TEST_DATA);
  } catch (const ConfigError& e) {
    ADD_FAILURE() << e.what();
    return {};
  }
}

std::vector<std::string> errorsOf(const std::string& yaml) {
  try {
    loadString(yaml, "test.yaml", UNDERSTUDY_TEST_DATA);
  } catch (const ConfigError& e) {
    std::vector<std::string> out;
    for (const Diagnostic& d : e.diagnostics()) out.push_back(d.str());
    return out;
  }
  return {};
}

std::vector<std::string> warningsOf(const Config& c) {
  std::vector<std::string> out;
  for (const Diagnostic& d : c.warnings) out.push_back(d.str());
  return out;
}

TEST(ControlConfig, Defaults) {
  Config c = load("control: { listen: \"127.0.0.1:8053\" }\n");
  EXPECT_TRUE(c.control.enabled);
  EXPECT_EQ(c.control.max_connections_per_client, 8u);
  EXPECT_TRUE(c.control.hostnames.empty());
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ControlConfig, PerClientCapAndHostnames) {
  Config c = load(
      "control:\n"
      "  listen: \"127.0.0.1:8053\"\n"
      "  max_connections_per_client: 3\n"
      "  hostnames: [NS1.Mgmt.Example.NET., \"[2001:DB8::0:1]\", 192.0.2.53, localhost]\n");
  EXPECT_EQ(c.control.max_connections_per_client, 3u);
  EXPECT_EQ(c.control.hostnames, (std::vector<std::string>{"ns1.mgmt.example.net", "2001:db8::1",
                                                           "192.0.2.53", "localhost"}));
}

TEST(ControlConfig, BadValuesNameTheKey) {
  EXPECT_EQ(errorsOf("control: { max_connections_per_client: 0 }\n"),
            (std::vector<std::string>{"test.yaml:1:40: control.max_connections_per_client: value "
                                      "0 out of range (1..64)"}));
  EXPECT_EQ(errorsOf("control: { max_connections_per_client: 65 }\n"),
            (std::vector<std::string>{"test.yaml:1:40: control.max_connections_per_client: value "
                                      "65 out of range (1..64)"}));
  EXPECT_EQ(errorsOf("control:\n  hostnames: [\"ns1.example.net:8053\", \"http://x\", \"a b\", "
                     "\"-\", \"\"]\n"),
            (std::vector<std::string>{
                "test.yaml:2:15: control.hostnames[0]: invalid host name 'ns1.example.net:8053': "
                "a name without a port (and an IPv6 address in brackets or bare)",
                "test.yaml:2:39: control.hostnames[1]: invalid host name 'http://x': a name "
                "without a port (and an IPv6 address in brackets or bare)",
                "test.yaml:2:51: control.hostnames[2]: invalid host name 'a b': only letters, "
                "digits, '-' and '.' are allowed in a host name",
                "test.yaml:2:58: control.hostnames[3]: invalid host name '-': a label cannot "
                "start or end with '-' (RFC 1123 §2.1)",
                "test.yaml:2:63: control.hostnames[4]: invalid host name '': empty"}));
  EXPECT_EQ(errorsOf("control: { hostnames: ns1.example.net }\n"),
            (std::vector<std::string>{"test.yaml:1:23: control.hostnames: expected a list"}));
}

TEST(ControlConfig, WarnsBeyondLoopbackWithoutAToken) {
  for (const char* listen : {"127.0.0.1:8053", "127.0.0.53:8053", "[::1]:8053"}) {
    Config c = load(std::string("control: { listen: \"") + listen + "\" }\n");
    EXPECT_TRUE(c.warnings.empty()) << listen;
  }
  Config c = load("control: { listen: \"0.0.0.0:8053\" }\n");
  EXPECT_EQ(warningsOf(c),
            (std::vector<std::string>{
                "test.yaml:1:20: control.listen: the control endpoint listens on 0.0.0.0:8053, "
                "beyond loopback, without a token_file: every host that can reach it reads "
                "/metrics, /status and /explain; keep it on loopback, or set token_file and let "
                "only trusted hosts connect"}));
  c = load("control: { listen: \"[2001:db8::53]:8053\" }\n");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].message.find("listens on [2001:db8::53]:8053, beyond loopback"),
            std::string::npos);
}

TEST(HostName, Normalised) {
  std::string why;
  EXPECT_EQ(normalizeHostName("Example.COM.", &why), "example.com");
  EXPECT_EQ(normalizeHostName("localhost", &why), "localhost");
  EXPECT_EQ(normalizeHostName("[::1]", &why), "::1");
  EXPECT_EQ(normalizeHostName("::1", &why), "::1");
  EXPECT_EQ(normalizeHostName("[2001:DB8:0::1]", &why), "2001:db8::1");
  EXPECT_EQ(normalizeHostName("127.0.0.1", &why), "127.0.0.1");
  EXPECT_FALSE(normalizeHostName("[127.0.0.1]", &why));
  EXPECT_FALSE(normalizeHostName("[::1", &why));
  EXPECT_FALSE(normalizeHostName("a..b", &why));
  EXPECT_FALSE(normalizeHostName("a-.b", &why));
  EXPECT_FALSE(normalizeHostName("a.-b", &why));
  EXPECT_EQ(normalizeHostName("a-b.c", &why), "a-b.c");
  EXPECT_FALSE(normalizeHostName(".", &why));
  EXPECT_FALSE(normalizeHostName(std::string(64, 'a') + ".test", &why));
  EXPECT_FALSE(normalizeHostName("evil.test/x", &why));
  EXPECT_FALSE(normalizeHostName(std::string("a\0b", 3), &why));
}

TEST(HostName, LoopbackAndWildcard) {
  EXPECT_TRUE(isLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(isLoopbackAddress("127.1.2.3"));
  EXPECT_TRUE(isLoopbackAddress("::1"));
  EXPECT_TRUE(isLoopbackAddress("::ffff:127.0.0.1"));
  EXPECT_FALSE(isLoopbackAddress("0.0.0.0"));
  EXPECT_FALSE(isLoopbackAddress("::"));
  EXPECT_FALSE(isLoopbackAddress("192.0.2.1"));
  EXPECT_FALSE(isLoopbackAddress("localhost"));
  EXPECT_TRUE(isWildcardAddress("0.0.0.0"));
  EXPECT_TRUE(isWildcardAddress("::"));
  EXPECT_FALSE(isWildcardAddress("127.0.0.1"));
}

}  // namespace
}  // namespace understudy::config
