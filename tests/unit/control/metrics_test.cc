// /metrics families that come from the DNS server itself, rendered from a real Server on
// loopback: the UDP receive buffer per listen address and the TCP accept failures by cause.
#include "metrics.h"

#include <gtest/gtest.h>

#include "support.h"
#include "understudy/server/server.h"

namespace understudy::control {
namespace {

TEST(Metrics, UdpReceiveBufferIsAGaugePerListenAddress) {
  test::FakeSources sources;
  server::ServerOptions options;
  options.listen.push_back({"127.0.0.1", 0});
  options.threads = 1;
  server::Server server(options, sources.holder);
  server.start();
  sources.server_ = &server;

  std::string text = renderMetrics(sources);
  EXPECT_NE(text.find("# TYPE understudy_udp_receive_buffer_bytes gauge\n"), std::string::npos)
      << text;
  const server::BoundSocket& udp = server.bound()[0];
  ASSERT_EQ(udp.protocol, "udp");
  ASSERT_GT(udp.receive_buffer, 0);
  EXPECT_NE(text.find("understudy_udp_receive_buffer_bytes{listen=\"" + udp.address + "\"} " +
                      std::to_string(udp.receive_buffer) + "\n"),
            std::string::npos)
      << text;
  // Only UDP sockets have one.
  EXPECT_EQ(text.find("understudy_udp_receive_buffer_bytes{listen=\"" + udp.address + "\"}",
                      text.find("understudy_udp_receive_buffer_bytes{") + 1),
            std::string::npos)
      << text;
  server.stop();
}

TEST(Metrics, TcpAcceptErrorsHaveEveryReasonFromTheStart) {
  test::FakeSources sources;
  std::string text = renderMetrics(sources);  // before the server is up, too
  EXPECT_NE(text.find("# TYPE understudy_tcp_accept_errors_total counter\n"), std::string::npos);
  for (const char* reason : {"emfile", "enfile", "nomem", "other"}) {
    EXPECT_NE(
        text.find(std::string("understudy_tcp_accept_errors_total{reason=\"") + reason + "\"} 0\n"),
        std::string::npos)
        << reason << "\n"
        << text;
  }
}

}  // namespace
}  // namespace understudy::control
