// UdpServer on its own: the blocking serving loop, how it stops, and how it lives through socket
// errors. Each test runs the loop on a thread of its own, as Server does.
#include "udp_server.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <atomic>
#include <thread>

#include "support.h"

namespace understudy::server {
namespace {

using namespace test;

int boundUdpSocket(Endpoint* local) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  local->size = sizeof(sockaddr_in);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local->addr), &local->size);
  return fd;
}

// The loop of one UdpServer on a thread, as Server runs it.
class LoopThread {
 public:
  explicit LoopThread(UdpServer& server)
      : server_(server), thread_([this] {
          tid_ = static_cast<pid_t>(::syscall(SYS_gettid));
          server_.run();
          done_ = true;
        }) {}
  ~LoopThread() { stop(); }
  // Waits until the loop sleeps in recvmmsg.
  bool waitBlocked() {
    return pollUntil([&] { return tid_ != 0 && sleepingIn(tid_) == SYS_recvmmsg; }, 5s);
  }
  void stop() {
    server_.requestStop();
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_; }

 private:
  UdpServer& server_;
  std::atomic<pid_t> tid_{0};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

TEST(UdpServer, StopWakesALoopBlockedInRecvmmsgAtOnce) {
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  ThreadQueryStats stats;
  Endpoint local;
  // An idle wake-up far beyond the test's bound: only shutdown(2) can end this loop in time.
  UdpServer server(boundUdpSocket(&local), holder, stats, nullptr, std::chrono::minutes(10));
  LoopThread loop(server);
  ASSERT_TRUE(loop.waitBlocked()) << "the loop never blocked in recvmmsg";

  auto t0 = std::chrono::steady_clock::now();
  server.requestStop();
  EXPECT_TRUE(pollUntil([&] { return loop.done(); }, 2s));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 250ms) << "recvmmsg was not woken by shutdown(SHUT_RD)";
  loop.stop();
  // The wake-up is not a datagram: nothing was counted, not even as dropped.
  EXPECT_EQ(stats.dropped[0].load(), 0u);
  EXPECT_EQ(answersOf(stats, query::Transport::kUdp), 0u);
}

TEST(UdpServer, StopRequestedBeforeTheLoopRunsIsNotLost) {
  zone::SnapshotHolder holder;
  ThreadQueryStats stats;
  Endpoint local;
  UdpServer server(boundUdpSocket(&local), holder, stats, nullptr, std::chrono::minutes(10));
  server.requestStop();
  auto t0 = std::chrono::steady_clock::now();
  std::thread t([&] { server.run(); });
  t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 250ms);
}

TEST(UdpServer, AnswersEveryQueryOfABatchAndCountsThem) {
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  ThreadQueryStats stats;
  Endpoint local;
  UdpServer server(boundUdpSocket(&local), holder, stats);
  // Queued before the loop runs: the first recvmmsg takes a full batch, and then some.
  constexpr int kClients = UdpServer::kBatch + 9;
  std::vector<std::unique_ptr<UdpClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<UdpClient>(AF_INET));
    ASSERT_TRUE(
        clients.back()->send(local, query("www.example.test", 1, static_cast<uint16_t>(i))));
  }
  LoopThread loop(server);
  for (int i = 0; i < kClients; ++i) {
    auto r = clients[i]->receive();
    ASSERT_TRUE(r) << "client " << i << " got no answer";
    EXPECT_EQ(responseId(*r), i);
    EXPECT_EQ(responseRcode(*r), 0);
    EXPECT_EQ(lastAddress(*r), "192.0.2.1");
  }
  loop.stop();
  EXPECT_EQ(answersOf(stats, query::Transport::kUdp), static_cast<uint64_t>(kClients));
}

TEST(UdpServer, IcmpErrorsReportedOnTheSocketDoNotStopTheLoopNorCostOtherAnswers) {
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  ThreadQueryStats stats;
  Endpoint local;
  int fd = boundUdpSocket(&local);
  // Production sockets do not ask for ICMP errors, so the kernel keeps them away from an
  // unconnected socket. Asking for them here makes every reply to a closed client come back as
  // ECONNREFUSED on the next receive or send: the error paths of the loop, for real.
  int one = 1;
  ASSERT_EQ(::setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof one), 0);
  UdpServer server(fd, holder, stats);
  LoopThread loop(server);
  UdpClient live(AF_INET);
  for (uint16_t i = 0; i < 40; ++i) {
    {
      UdpClient gone(AF_INET);
      ASSERT_TRUE(gone.send(local, query("www.example.test", 1, 0xdead)));
    }  // closed before its answer arrives: port unreachable
    auto r = live.exchange(local, query("www.example.test", 1, i));
    ASSERT_TRUE(r) << "no answer to the live client in round " << i;
    EXPECT_EQ(responseId(*r), i);
  }
  loop.stop();
  EXPECT_EQ(answersOf(stats, query::Transport::kUdp), 80u);
}

TEST(UdpServer, AnIdleLoopLetsGoOfAReplacedSnapshot) {
  zone::SnapshotHolder holder;
  auto first = testSnapshot();
  std::weak_ptr<const zone::Snapshot> watch = first;
  holder.publish(std::move(first));
  ThreadQueryStats stats;
  Endpoint local;
  UdpServer server(boundUdpSocket(&local), holder, stats, nullptr, 50ms);
  LoopThread loop(server);
  UdpClient client(AF_INET);
  ASSERT_TRUE(client.exchange(local, query("www.example.test", 1, 1)));
  holder.publish(testSnapshot("192.0.2.2"));
  // No query arrives, yet the idle wake-up drops the loop's reference to the old snapshot.
  EXPECT_TRUE(pollUntil([&] { return watch.expired(); }, 5s));
  auto r = client.exchange(local, query("www.example.test", 1, 2));
  ASSERT_TRUE(r);
  EXPECT_EQ(lastAddress(*r), "192.0.2.2");
}

TEST(UdpServer, EmptyDatagramsAreCountedAsDroppedNotMistakenForTheStopWakeUp) {
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  ThreadQueryStats stats;
  Endpoint local;
  UdpServer server(boundUdpSocket(&local), holder, stats);
  LoopThread loop(server);
  UdpClient client(AF_INET);
  ASSERT_TRUE(client.send(local, Bytes{}));
  ASSERT_TRUE(client.exchange(local, query("www.example.test", 1, 1)));
  EXPECT_TRUE(pollUntil([&] { return stats.dropped[0].load() == 1; }, 2s));
  loop.stop();
  EXPECT_EQ(stats.dropped[0].load(), 1u);
}

}  // namespace
}  // namespace understudy::server
