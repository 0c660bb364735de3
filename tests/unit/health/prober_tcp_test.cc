// TcpProber against loopback listeners the tests open themselves.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>  // Boost 1.74 Asio uses std::exchange without including it
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio.hpp>

#include "../support/descriptors_exhausted.h"
#include "health/tcp_prober.h"

namespace understudy::health {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Result {
  Outcome outcome;
  Clock::duration elapsed{};
  int calls = 0;
};

ProbeTarget tcpTarget(uint16_t port, const std::string& address = "127.0.0.1",
                      std::chrono::milliseconds timeout = 1000ms) {
  ProbeTarget target;
  target.check.name = "tcp";
  target.check.type = CheckType::kTcp;
  target.check.port = port;
  target.check.timeout = timeout;
  target.address = address;
  return target;
}

class TcpProberTest : public ::testing::Test {
 protected:
  void start(const ProbeTarget& target, Result& result) {
    auto started = Clock::now();
    prober_->probe(target, [&result, started](Outcome outcome) {
      result.outcome = std::move(outcome);
      result.elapsed = Clock::now() - started;
      ++result.calls;
    });
  }

  void runUntil(const std::function<bool()>& finished, Clock::duration limit = 8s) {
    auto deadline = Clock::now() + limit;
    while (!finished() && Clock::now() < deadline) {
      io_.run_one_for(10ms);
      if (io_.stopped()) io_.restart();
    }
  }

  Result probe(const ProbeTarget& target) {
    Result result;
    start(target, result);
    EXPECT_EQ(result.calls, 0) << "done must not run inside probe()";
    runUntil([&] { return result.calls > 0; });
    io_.restart();
    io_.run_for(50ms);  // a second completion would surface here
    EXPECT_EQ(result.calls, 1);
    EXPECT_LE(result.elapsed, target.check.timeout + 200ms);
    return result;
  }

  // A listener that never accepts: the kernel completes handshakes into its backlog for us.
  asio::ip::tcp::acceptor listen(const std::string& address, int backlog) {
    asio::ip::tcp::acceptor acceptor(io_);
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address(address), 0);
    acceptor.open(endpoint.protocol());
    acceptor.bind(endpoint);
    acceptor.listen(backlog);
    return acceptor;
  }

  asio::io_context io_;
  std::unique_ptr<TcpProber> prober_ = std::make_unique<TcpProber>(io_);
};

TEST_F(TcpProberTest, ListeningPortIsOk) {
  auto listener = listen("127.0.0.1", 16);
  Result result = probe(tcpTarget(listener.local_endpoint().port()));
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kOk);
  EXPECT_EQ(result.outcome.detail, "connected");
  EXPECT_GT(result.outcome.duration.count(), 0);
}

TEST_F(TcpProberTest, Ipv6Loopback) {
  asio::ip::tcp::acceptor listener(io_);
  try {
    listener = listen("::1", 16);
  } catch (const std::exception&) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  EXPECT_EQ(probe(tcpTarget(listener.local_endpoint().port(), "::1")).outcome.kind,
            OutcomeKind::kOk);
}

TEST_F(TcpProberTest, ClosedPortIsConnectionRefused) {
  uint16_t port = listen("127.0.0.1", 1).local_endpoint().port();  // closed again at once
  Result result = probe(tcpTarget(port));
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kConnectFailed);
  EXPECT_EQ(result.outcome.detail, "connection refused");
}

// Loopback never drops packets, so a blackhole is made from a listener whose accept queue is
// full: Linux then drops new SYNs (tcp_abort_on_overflow=0), and the client keeps retransmitting
// the SYN — exactly what a firewalled or dead host looks like to the prober.
TEST_F(TcpProberTest, FullBacklogTimesOut) {
  auto listener = listen("127.0.0.1", 0);
  asio::ip::tcp::endpoint endpoint = listener.local_endpoint();
  std::vector<asio::ip::tcp::socket> fillers;
  bool full = false;
  for (int i = 0; i < 16 && !full; ++i) {
    asio::ip::tcp::socket socket(io_, endpoint.protocol());
    socket.non_blocking(true);
    // Raw connect: Asio's synchronous connect would wait for completion, forever on a full queue.
    // EINPROGRESS is expected; completion shows up as writability.
    (void)::connect(socket.native_handle(), endpoint.data(), endpoint.size());
    pollfd pfd{socket.native_handle(), POLLOUT, 0};
    if (::poll(&pfd, 1, 200) == 0) {
      full = true;  // this SYN was dropped: the queue is full
    } else {
      fillers.push_back(std::move(socket));
    }
  }
  if (!full) GTEST_SKIP() << "this kernel does not drop SYNs to a full accept queue";

  Result result = probe(tcpTarget(endpoint.port(), "127.0.0.1", 300ms));
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kTimeout);
  EXPECT_EQ(result.outcome.detail, "connect timed out");
  EXPECT_GE(result.elapsed, 300ms);
}

// A host out of descriptors cannot open the probe's socket. That says nothing about the backend
// (here: a listening one), so the outcome is "not run", never a failure that could fail it over.
TEST_F(TcpProberTest, NoDescriptorLeftIsNotRunNotAFailure) {
  auto listener = listen("127.0.0.1", 16);
  Result result;
  {
    testing::DescriptorsExhausted exhausted;
    if (!exhausted.exhausted()) GTEST_SKIP() << exhausted.whyNot();
    result = probe(tcpTarget(listener.local_endpoint().port()));
  }
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kNotRun);
  EXPECT_EQ(result.outcome.detail, "socket(): too many open files");
  EXPECT_EQ(result.outcome.describe(tcpTarget(0).check),
            "probe not run: socket(): too many open files");
  // Descriptors back: the same backend is measured again.
  EXPECT_EQ(probe(tcpTarget(listener.local_endpoint().port())).outcome.kind, OutcomeKind::kOk);
}

TEST_F(TcpProberTest, BadAddressIsError) {
  Result result = probe(tcpTarget(80, "not-an-address"));
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kError);
  EXPECT_EQ(result.outcome.detail, "bad address 'not-an-address'");
}

TEST_F(TcpProberTest, AThousandConcurrentProbesOnOneThread) {
  auto listener = listen("127.0.0.1", 2048);
  // Accept and close as they come so the backlog never fills.
  std::function<void()> accept_next = [&] {
    listener.async_accept([&](const boost::system::error_code& ec, asio::ip::tcp::socket) {
      if (!ec) accept_next();
    });
  };
  accept_next();
  std::vector<Result> results(1000);
  auto started = Clock::now();
  // A generous timeout: this asserts concurrency, not speed, and must hold in sanitizer builds.
  auto target = tcpTarget(listener.local_endpoint().port(), "127.0.0.1", 5000ms);
  for (auto& result : results) start(target, result);
  EXPECT_EQ(prober_->inFlight(), results.size());
  runUntil([&] {
    return std::all_of(results.begin(), results.end(), [](auto& r) { return r.calls > 0; });
  });
  EXPECT_LT(Clock::now() - started, 5s);
  for (const auto& result : results) {
    ASSERT_EQ(result.calls, 1);
    EXPECT_EQ(result.outcome.kind, OutcomeKind::kOk) << result.outcome.detail;
  }
  EXPECT_EQ(prober_->inFlight(), 0u);
  listener.close();
}

TEST_F(TcpProberTest, DestroyedWithProbesInFlightCallsNothing) {
  auto listener = listen("127.0.0.1", 0);
  Result result;
  start(tcpTarget(listener.local_endpoint().port()), result);
  prober_.reset();
  io_.run_for(100ms);
  EXPECT_EQ(result.calls, 0);
}

}  // namespace
}  // namespace understudy::health
