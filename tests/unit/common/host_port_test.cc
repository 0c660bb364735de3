// The one host:port formatter: server and control listen addresses, probe targets in logs and
// metrics, control peers, ctl's Host header.
#include "understudy/common/host_port.h"

#include <gtest/gtest.h>

namespace understudy {
namespace {

TEST(HostPort, Ipv6GoesInBrackets) {
  EXPECT_EQ(hostPort("192.0.2.1", uint16_t{53}), "192.0.2.1:53");
  EXPECT_EQ(hostPort("::1", uint16_t{8053}), "[::1]:8053");
  EXPECT_EQ(hostPort("2001:db8::10", uint16_t{0}), "[2001:db8::10]:0");
  EXPECT_EQ(hostPort("fe80::1%eth0", uint16_t{443}), "[fe80::1%eth0]:443");
  EXPECT_EQ(hostPort("::ffff:192.0.2.1", uint16_t{80}), "[::ffff:192.0.2.1]:80");
  EXPECT_EQ(hostPort("ns1.example.net", uint16_t{65535}), "ns1.example.net:65535");
}

TEST(HostPort, APortAsWrittenIsKept) {
  EXPECT_EQ(hostPort("::1", std::string_view("8053")), "[::1]:8053");
  EXPECT_EQ(hostPort("127.0.0.1", std::string_view("80")), "127.0.0.1:80");
}

}  // namespace
}  // namespace understudy
