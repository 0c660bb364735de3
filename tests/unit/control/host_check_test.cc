// Which Host headers name the control endpoint (issue 12, DNS rebinding): a table per listener.
#include "host_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace understudy::control {
namespace {

struct Case {
  const char* host;
  bool accepted;
};

void expectTable(const HostCheck& check, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    auto why = check.misdirected(c.host);
    EXPECT_EQ(!why.has_value(), c.accepted) << "Host: " << c.host << " -> " << why.value_or("ok");
  }
}

TEST(HostCheck, LoopbackListener) {
  HostCheck check("127.0.0.1", 8053, {});
  expectTable(check, {
                         {"127.0.0.1:8053", true},  // Prometheus, curl, ctl
                         {"127.0.0.1", true},       // no port: the name is what matters
                         {"127.0.0.1:", true},      // RFC 3986: an empty port is no port
                         {"localhost:8053", true},
                         {"LocalHost.:8053", true},
                         {"[::1]:8053", true},
                         {"[0:0::1]:8053", true},
                         {"evil.example:8053", false},  // the rebound name
                         {"evil.example", false},
                         {"127.0.0.1.evil.example:8053", false},
                         {"localhost.evil.example:8053", false},
                         {"127.0.0.2:8053", false},  // an address, but not this endpoint's
                         {"127.0.0.1:8054", false},  // another port
                         {"127.0.0.1:08053", true},
                         {"127.0.0.1:80530", false},
                         {"127.0.0.1:80x", false},
                         {"::1:8053", false},  // IPv6 without brackets
                         {"[::1", false},
                         {"[::1]x", false},
                         {"[127.0.0.1]:8053", false},
                         {"", false},
                         {"user@127.0.0.1:8053", false},
                     });
}

TEST(HostCheck, NamesFromTheConfiguration) {
  HostCheck check("127.0.0.1", 8053, {"ns1.mgmt.example.net", "192.0.2.53"});
  expectTable(check, {
                         {"ns1.mgmt.example.net:8053", true},
                         {"NS1.mgmt.example.net.", true},
                         {"192.0.2.53:8053", true},
                         {"ns2.mgmt.example.net:8053", false},
                         {"mgmt.example.net:8053", false},
                         {"127.0.0.1:8053", true},
                     });
}

TEST(HostCheck, NonLoopbackListenerOnlyItsOwnAddress) {
  HostCheck check("192.0.2.53", 8053, {});
  expectTable(check, {
                         {"192.0.2.53:8053", true},
                         {"localhost:8053", false},
                         {"127.0.0.1:8053", false},
                         {"192.0.2.54:8053", false},
                     });
  HostCheck v6("2001:db8::53", 8053, {});
  expectTable(v6, {
                      {"[2001:db8::53]:8053", true},
                      {"[2001:DB8:0::53]:8053", true},
                      {"[::1]:8053", false},
                  });
}

TEST(HostCheck, WildcardListenerAnyAddressButNoName) {
  for (const char* any : {"0.0.0.0", "::"}) {
    HostCheck check(any, 8053, {"ns1.mgmt.example.net"});
    expectTable(check, {
                           {"192.0.2.53:8053", true},
                           {"[2001:db8::53]:8053", true},
                           {"localhost:8053", true},
                           {"ns1.mgmt.example.net:8053", true},
                           {"evil.example:8053", false},
                           {"192.0.2.53:8054", false},
                       });
  }
}

TEST(HostCheck, UnconfiguredAcceptsNothing) {
  HostCheck check;
  EXPECT_TRUE(check.misdirected("127.0.0.1"));
  EXPECT_TRUE(check.misdirected("localhost:8053"));
}

TEST(HostCheck, Reasons) {
  HostCheck check("127.0.0.1", 8053, {});
  EXPECT_EQ(check.misdirected("evil.example:8053"), "Host does not name this endpoint");
  EXPECT_EQ(check.misdirected("127.0.0.1:1"), "Host names another port");
  EXPECT_EQ(check.misdirected("::1"), "Host is not a host name and port");
  EXPECT_EQ(printableHeader("a\x01"
                            "b\xff"),
            "a?b?");
  EXPECT_EQ(printableHeader(std::string(150, 'x'), 100), std::string(100, 'x') + "...");
}

}  // namespace
}  // namespace understudy::control
