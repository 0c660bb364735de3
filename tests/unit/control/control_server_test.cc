// The control endpoint survives its own bugs: a route that throws answers 500, the failure is
// logged with the request and the client, and the endpoint (and the connection) keep serving; an
// exception escaping any handler of the control thread costs that handler, not the thread.
#include <gtest/gtest.h>

#include <stdexcept>

#include "support.h"

namespace understudy::control {
namespace {

using test::ControlHarness;
using test::FakeSources;
using test::HttpClient;
using understudy::test::LogCapture;

TEST(ControlServer, ARouteThatThrowsAnswers500AndTheEndpointKeepsServing) {
  LogCapture log;
  FakeSources sources;
  ControlHarness harness(sources);
  HttpClient client(harness.port());

  ASSERT_EQ(client.get("/metrics").status, 200);
  sources.fault = [] { throw std::runtime_error("reload counters unreadable"); };
  test::Reply failed = client.get("/metrics?from=test");
  ASSERT_EQ(failed.status, 500) << failed.error << failed.body;
  EXPECT_NE(failed.body.find("internal error"), std::string::npos) << failed.body;
  EXPECT_TRUE(failed.keep_alive);

  // The same connection, then a new one: still served.
  sources.fault = nullptr;
  test::Reply after = client.get("/metrics");
  EXPECT_EQ(after.status, 200) << after.error;
  EXPECT_EQ(HttpClient(harness.port()).get("/").status, 200);

  // The log names the request, the client and the cause.
  std::string text = log.text();
  EXPECT_NE(text.find("error control: GET /metrics?from=test from 127.0.0.1:"), std::string::npos)
      << text;
  EXPECT_NE(text.find("failed: reload counters unreadable"), std::string::npos) << text;
}

TEST(ControlServer, ANonStandardExceptionIsAnswered500Too) {
  LogCapture log;
  FakeSources sources;
  ControlHarness harness(sources);
  HttpClient client(harness.port());

  sources.fault = [] { throw 42; };  // not derived from std::exception
  test::Reply failed = client.get("/metrics");
  EXPECT_EQ(failed.status, 500) << failed.error << failed.body;
  sources.fault = nullptr;
  EXPECT_EQ(client.get("/").status, 200);
  EXPECT_NE(log.text().find("failed: a non-standard exception"), std::string::npos) << log.text();
}

TEST(RunCatchingExceptions, AHandlerThatThrowsCostsOnlyThatHandler) {
  LogCapture log;
  boost::asio::io_context io;
  int ran = 0;
  boost::asio::post(io, [] { throw std::runtime_error("probe timer bug"); });
  boost::asio::post(io, [&] { ++ran; });
  boost::asio::post(io, [] { throw 7; });
  boost::asio::post(io, [&] { ++ran; });

  EXPECT_EQ(runCatchingExceptions(io, "control"), 2u);
  EXPECT_EQ(ran, 2);
  std::string text = log.text();
  EXPECT_NE(text.find("error control thread: a handler threw: probe timer bug"), std::string::npos)
      << text;
  EXPECT_NE(text.find("non-standard exception"), std::string::npos) << text;
}

TEST(RunCatchingExceptions, ReturnsWhenTheLoopIsStopped) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  boost::asio::post(io, [] { throw std::runtime_error("first"); });
  boost::asio::post(io, [&] { io.stop(); });
  EXPECT_EQ(runCatchingExceptions(io, "control"), 1u);
  EXPECT_TRUE(io.stopped());
}

}  // namespace
}  // namespace understudy::control
