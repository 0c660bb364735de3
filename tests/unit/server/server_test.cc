// Server: a UDP thread per socket (listen addresses x threads), TCP threads beside them, stats
// per thread, reloads, rate limiting, signals and a prompt stop.
#include "understudy/server/server.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <atomic>
#include <csignal>
#include <map>
#include <set>

#include "support.h"

namespace understudy::server {
namespace {

using namespace test;

std::vector<Endpoint> udpEndpoints(const Server& s) {
  std::vector<Endpoint> out;
  for (const auto& b : s.bound()) {
    if (b.protocol == "udp") out.push_back(parseEndpoint(b.address));
  }
  return out;
}

ServerOptions options(std::vector<std::string> addresses, unsigned threads) {
  ServerOptions o;
  for (auto& a : addresses) o.listen.push_back({a, 0});
  o.threads = threads;
  return o;
}

uint64_t udpAnswers(const Server& s) {
  QueryTotals t = s.queryTotals();
  uint64_t sum = 0;
  for (const auto& byType : t.answers[0]) {
    for (uint64_t c : byType) sum += c;
  }
  return sum;
}

TEST(Server, EveryListenAddressIsAnsweredByEachOfItsUdpThreads) {
  std::vector<std::string> addresses = {"127.0.0.1", "127.0.0.2"};
  if (ipv6LoopbackWorks()) addresses.push_back("::1");
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  Server server(options(addresses, 3), holder);
  server.start();
  ASSERT_EQ(server.udpThreads(), addresses.size() * 3);
  auto endpoints = udpEndpoints(server);
  ASSERT_EQ(endpoints.size(), addresses.size());

  // Many clients per address: SO_REUSEPORT hashes each source port to one of the 3 sockets.
  uint16_t id = 0;
  for (const Endpoint& to : endpoints) {
    for (int i = 0; i < 60; ++i) {
      UdpClient c(to.family());
      auto r = c.exchange(to, query("www.example.test", 1, ++id));
      ASSERT_TRUE(r) << "no answer to query " << id;
      EXPECT_EQ(responseId(*r), id);
      EXPECT_EQ(responseRcode(*r), 0);
      EXPECT_EQ(lastAddress(*r), "192.0.2.1");
    }
  }
  // Blocks [0, udpThreads()) are the UDP threads': every one of them answered some.
  const QueryStats* stats = server.queryStats();
  ASSERT_NE(stats, nullptr);
  ASSERT_EQ(stats->threads(), server.udpThreads() + 3);
  for (size_t i = 0; i < server.udpThreads(); ++i) {
    EXPECT_GT(answersOf(stats->thread(i), query::Transport::kUdp), 0u) << "UDP thread " << i;
  }
  EXPECT_EQ(udpAnswers(server), id);
  server.stop();
  EXPECT_EQ(udpAnswers(server), id) << "totals stay readable after stop()";
  EXPECT_EQ(server.udpThreads(), addresses.size() * 3);
}

TEST(Server, TcpIsAnsweredBesideTheUdpThreads) {
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  Server server(options({"127.0.0.1"}, 2), holder);
  server.start();
  Endpoint to = udpEndpoints(server)[0];
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to.addr), to.size), 0);
  Bytes q = query("www.example.test", 1, 77);
  Bytes framed = {static_cast<uint8_t>(q.size() >> 8), static_cast<uint8_t>(q.size() & 0xff)};
  framed.insert(framed.end(), q.begin(), q.end());
  ASSERT_EQ(::send(fd, framed.data(), framed.size(), 0), static_cast<ssize_t>(framed.size()));
  Bytes r(512);
  size_t got = 0;
  pollfd p{fd, POLLIN, 0};
  while (got < 2 || got < 2 + (size_t{r[0]} << 8 | r[1])) {
    ASSERT_EQ(::poll(&p, 1, 2000), 1);
    ssize_t n = ::recv(fd, r.data() + got, r.size() - got, 0);
    ASSERT_GT(n, 0);
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  Bytes msg(r.begin() + 2, r.begin() + static_cast<long>(got));
  EXPECT_EQ(responseId(msg), 77);
  EXPECT_EQ(lastAddress(msg), "192.0.2.1");
  server.stop();
  QueryTotals t = server.queryTotals();
  EXPECT_EQ(t.answers[1][typeBucket(1)][0], 1u);
}

TEST(Server, ThreadsAreNamedAndLeaveAsynchronousSignalsToTheCaller) {
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  sigset_t before;
  pthread_sigmask(SIG_BLOCK, nullptr, &before);
  Server server(options({"127.0.0.1", "127.0.0.2"}, 2), holder);
  server.start();
  auto udp = threadsNamed("udp-");
  auto tcp = threadsNamed("tcp-");
  std::set<std::string> names;
  for (const auto& t : udp) names.insert(t.name);
  EXPECT_EQ(names, (std::set<std::string>{"udp-0", "udp-1", "udp-2", "udp-3"}));
  EXPECT_EQ(tcp.size(), 2u);
  // While a thread starts, glibc blocks every signal in it; read the masks once they serve.
  ASSERT_TRUE(pollUntil(
      [&] {
        for (const auto& t : udp) {
          if (sleepingIn(t.tid) != SYS_recvmmsg) return false;
        }
        return true;
      },
      5s));
  for (const auto& t : udp) {
    uint64_t mask = blockedSignals(t.tid);
    for (int s : {SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGCHLD, SIGPIPE}) {
      EXPECT_TRUE(blocks(mask, s)) << t.name << " takes signal " << s;
    }
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL}) {
      EXPECT_FALSE(blocks(mask, s)) << t.name << " blocks fault signal " << s;
    }
  }
  for (const auto& t : tcp) EXPECT_TRUE(blocks(blockedSignals(t.tid), SIGHUP)) << t.name;
  // The caller's own mask is as it was.
  sigset_t after;
  pthread_sigmask(SIG_BLOCK, nullptr, &after);
  for (int s = 1; s < 32; ++s) EXPECT_EQ(sigismember(&before, s), sigismember(&after, s)) << s;
  server.stop();
  EXPECT_TRUE(threadsNamed("udp-").empty());
  EXPECT_TRUE(threadsNamed("tcp-").empty());
}

std::atomic<int> g_signals{0};
std::atomic<pid_t> g_signal_tid{0};

TEST(Server, ProcessSignalsReachTheCallerAndDoNotDisturbServing) {
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  Server server(options({"127.0.0.1"}, 2), holder);
  server.start();
  struct sigaction sa {};
  struct sigaction old {};
  sa.sa_handler = [](int) {
    g_signals.fetch_add(1);
    g_signal_tid = static_cast<pid_t>(::syscall(SYS_gettid));
  };
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: an interrupted recvmmsg would see EINTR
  ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);
  Endpoint to = udpEndpoints(server)[0];
  const pid_t me = static_cast<pid_t>(::syscall(SYS_gettid));
  for (uint16_t i = 0; i < 50; ++i) {
    ::kill(::getpid(), SIGUSR1);
    UdpClient c(AF_INET);
    auto r = c.exchange(to, query("www.example.test", 1, i));
    ASSERT_TRUE(r) << "no answer after signal " << i;
    EXPECT_EQ(responseId(*r), i);
  }
  EXPECT_TRUE(pollUntil([] { return g_signals.load() > 0; }, 2s));
  EXPECT_EQ(g_signal_tid.load(), me) << "a serving thread took the signal";
  ::sigaction(SIGUSR1, &old, nullptr);
}

TEST(Server, StopReturnsPromptlyWhileEveryUdpThreadIsBlockedInRecvmmsg) {
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  Server server(options({"127.0.0.1", "127.0.0.2"}, 2), holder);
  server.start();
  ASSERT_TRUE(pollUntil(
      [] {
        auto udp = threadsNamed("udp-");
        if (udp.size() != 4) return false;
        for (const auto& t : udp) {
          if (sleepingIn(t.tid) != SYS_recvmmsg) return false;
        }
        return true;
      },
      5s))
      << "the UDP threads never all blocked in recvmmsg";
  auto t0 = std::chrono::steady_clock::now();
  server.stop();
  auto took = std::chrono::steady_clock::now() - t0;
  // The idle wake-up is 1 s; shutdown(2) wakes the threads at once (UdpServer's own test pins
  // that with a 10-minute idle wake-up).
  EXPECT_LT(took, 500ms);
  EXPECT_TRUE(threadsNamed("udp-").empty());
  EXPECT_EQ(server.queryTotals().dropped[0], 0u) << "the stop wake-up was counted as a query";
}

TEST(Server, AfterStopThePortIsFreeAgain) {
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  Server server(options({"127.0.0.1"}, 2), holder);
  server.start();
  Endpoint at = udpEndpoints(server)[0];
  server.stop();
  // Without SO_REUSEPORT: succeeds only if no socket of the stopped server is left bound.
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&at.addr), at.size), 0) << std::strerror(errno);
  ::close(fd);
}

TEST(Server, CountsAnswersDroppedAndTruncated) {
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  Server server(options({"127.0.0.1"}, 2), holder);
  server.start();
  Endpoint to = udpEndpoints(server)[0];
  UdpClient c(AF_INET);
  auto r = c.exchange(to, query("big.example.test", 16, 1));  // > 512 octets, no EDNS
  ASSERT_TRUE(r);
  EXPECT_TRUE(responseTruncated(*r));
  r = c.exchange(to, query("big.example.test", 16, 2, /*edns=*/true));
  ASSERT_TRUE(r);
  EXPECT_FALSE(responseTruncated(*r));
  EXPECT_EQ(answerCount(*r), 12);
  r = c.exchange(to, query("nope.example.test", 1, 3));
  ASSERT_TRUE(r);
  EXPECT_EQ(responseRcode(*r), 3);
  Bytes response = query("www.example.test", 1, 4);
  response[2] |= 0x80;  // QR=1: never answered
  ASSERT_TRUE(c.send(to, response));
  ASSERT_TRUE(c.send(to, Bytes{1, 2, 3}));  // shorter than a header
  ASSERT_TRUE(c.exchange(to, query("www.example.test", 1, 5)));
  server.stop();
  QueryTotals t = server.queryTotals();
  EXPECT_EQ(t.answers[0][typeBucket(16)][0], 2u);
  EXPECT_EQ(t.answers[0][typeBucket(1)][3], 1u);
  EXPECT_EQ(t.answers[0][typeBucket(1)][0], 1u);
  EXPECT_EQ(t.truncated[0], 1u);
  EXPECT_EQ(t.dropped[0], 2u);
}

TEST(Server, AReloadedSnapshotIsServedByEveryThread) {
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  Server server(options({"127.0.0.1"}, 3), holder);
  server.start();
  Endpoint to = udpEndpoints(server)[0];
  holder.publish(testSnapshot("192.0.2.99"));
  for (uint16_t i = 0; i < 60; ++i) {
    UdpClient c(AF_INET);  // a new source port each time: every thread gets some
    auto r = c.exchange(to, query("www.example.test", 1, i));
    ASSERT_TRUE(r);
    EXPECT_EQ(lastAddress(*r), "192.0.2.99");
  }
}

TEST(Server, RateLimitingDropsAndSlipsOverUdp) {
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  ServerOptions o = options({"127.0.0.1"}, 1);
  o.rrl.enabled = true;
  o.rrl.responses_per_second = 2;
  o.rrl.slip = 2;
  Server server(o, holder);
  server.start();
  Endpoint to = udpEndpoints(server)[0];
  UdpClient c(AF_INET);
  constexpr int kSent = 40;
  for (uint16_t i = 0; i < kSent; ++i) ASSERT_TRUE(c.send(to, query("www.example.test", 1, i)));
  int full = 0, truncated = 0;
  while (auto r = c.receive(300ms)) {
    (responseTruncated(*r) ? truncated : full)++;
  }
  EXPECT_GE(full, 1);
  EXPECT_LE(full, 6);  // 2 per second, over at most a couple of seconds
  EXPECT_GE(truncated, 1);
  EXPECT_LT(full + truncated, kSent);
  EXPECT_GE(server.rateLimited(), static_cast<uint64_t>(kSent - full));
}

TEST(Server, AnAddressInUseIsNamedAndNothingKeepsRunning) {
  int taken = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(taken, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t size = sizeof a;
  ::getsockname(taken, reinterpret_cast<sockaddr*>(&a), &size);
  uint16_t port = ntohs(a.sin_port);

  zone::SnapshotHolder holder;
  ServerOptions o;
  o.listen.push_back({"127.0.0.1", port});
  Server server(o, holder);
  try {
    server.start();
    ADD_FAILURE() << "start() succeeded on a taken port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(threadsNamed("udp-").empty());
  ::close(taken);
}

}  // namespace
}  // namespace understudy::server
