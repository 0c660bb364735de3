// The DNS TCP listener out of descriptors: a connection waiting in the backlog keeps the socket
// readable while every accept(2) fails with EMFILE. The listener must pause (not spin a core),
// count the failures for /metrics, and take the waiting connections once descriptors are free.
// Each test is its own process under ctest, so lowering RLIMIT_NOFILE here touches nothing else.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#include <dirent.h>
#include <fcntl.h>

#include "../support/log_capture.h"
#include "support.h"
#include "understudy/server/server.h"

namespace understudy::server {
namespace {

using namespace test;

// CPU time a thread of this process has used. The clock id is the one pthread_getcpuclockid
// builds (a per-thread CPUCLOCK_SCHED clock); it needs no descriptor, which matters here.
std::chrono::nanoseconds threadCpuTime(pid_t tid) {
  clockid_t clock = static_cast<clockid_t>((~static_cast<unsigned>(tid)) << 3) | 6;
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return std::chrono::nanoseconds(-1);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

int highestOpenDescriptor() {
  int highest = 2;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return 1024;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') highest = std::max(highest, std::atoi(e->d_name));
  }
  ::closedir(d);
  return highest;
}

// Uses up every descriptor this process may open (lowering the soft limit first, so that is a
// few, not thousands) and gives them back, and the old limit, when destroyed.
class DescriptorExhaustion {
 public:
  DescriptorExhaustion() : base_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(highestOpenDescriptor() + 8);
    ::setrlimit(RLIMIT_NOFILE, &low);
    while (true) {
      int fd = ::dup(base_);
      if (fd < 0) break;
      held_.push_back(fd);
    }
  }
  ~DescriptorExhaustion() {
    release();
    ::close(base_);
  }
  void release() {
    for (int fd : held_) ::close(fd);
    held_.clear();
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  bool exhausted() const {
    int fd = ::dup(base_);
    if (fd >= 0) ::close(fd);
    return base_ >= 0 && fd < 0 && errno == EMFILE;
  }

 private:
  int base_;  // what the held descriptors are copies of
  rlimit saved_{};
  std::vector<int> held_;
};

bool sendQuery(int fd, uint16_t id) {
  Bytes q = query("www.example.test", 1, id);
  Bytes framed = {static_cast<uint8_t>(q.size() >> 8), static_cast<uint8_t>(q.size() & 0xff)};
  framed.insert(framed.end(), q.begin(), q.end());
  return ::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(framed.size());
}

std::optional<Bytes> readAnswer(int fd, std::chrono::milliseconds timeout) {
  Bytes r(512);
  size_t got = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got < 2 || got < 2 + (size_t{r[0]} << 8 | r[1])) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) != 1) return std::nullopt;
    ssize_t n = ::recv(fd, r.data() + got, r.size() - got, 0);
    if (n <= 0) return std::nullopt;
    got += static_cast<size_t>(n);
  }
  return Bytes(r.begin() + 2, r.begin() + static_cast<long>(got));
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(TcpAccept, OutOfDescriptorsPausesInsteadOfSpinningAndCountsEmfile) {
#if defined(__SANITIZE_ADDRESS__)
  // UBSan's vptr check proves memory readable with a pipe(2); with no descriptor left it cannot,
  // and reports every virtual call (shared_ptr's control block) as made on an invalid object.
  GTEST_SKIP() << "cannot run out of descriptors under the sanitizers (tests/sanitize.sh)";
#endif
  understudy::test::LogCapture log;
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  ServerOptions o;
  o.listen.push_back({"127.0.0.1", 0});
  o.threads = 1;
  Server server(o, holder);
  server.start();
  auto tcp_threads = threadsNamed("tcp-");
  ASSERT_EQ(tcp_threads.size(), 1u);
  const pid_t tcp_thread = tcp_threads[0].tid;
  Endpoint to = parseEndpoint(server.bound()[0].address);

  // The clients' sockets exist before the descriptors run out; connecting needs none more, and
  // the kernel completes the handshake into the listener's backlog without an accept.
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  for (int fd : clients) ASSERT_GE(fd, 0);

  DescriptorExhaustion exhaustion;
  ASSERT_TRUE(exhaustion.exhausted());
  for (int fd : clients) {
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to.addr), to.size), 0) << errno;
  }

  // The listener sees the connections and fails to take them. Measure its thread over a second.
  ASSERT_TRUE(pollUntil([&] { return server.tcpAcceptErrors(AcceptError::kEmfile) > 0; }, 2s));
  const auto cpu_before = threadCpuTime(tcp_thread);
  const uint64_t errors_before = server.tcpAcceptErrors(AcceptError::kEmfile);
  const auto wall_before = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(1s);
  const auto cpu = threadCpuTime(tcp_thread) - cpu_before;
  const auto wall = std::chrono::steady_clock::now() - wall_before;
  const uint64_t errors = server.tcpAcceptErrors(AcceptError::kEmfile);
  ASSERT_GE(cpu_before.count(), 0) << "no CPU clock for the TCP thread";

  // Spinning, the thread burns whatever the scheduler gives it (a whole core when idle); paused,
  // it wakes a few times (100, 200, 400, 800 ms) for an accept(2) each time.
  double share = std::chrono::duration<double>(cpu) / std::chrono::duration<double>(wall);
  EXPECT_LT(share, 0.2) << "the accept loop used " << share * 100 << "% of a core";
  EXPECT_GE(errors - errors_before, 1u) << "still trying, now and then";
  EXPECT_LE(errors - errors_before, 20u) << "one accept per pause, not a retry storm";
  EXPECT_EQ(server.tcpAccepted(), 0u);
  EXPECT_EQ(server.tcpAcceptErrors(AcceptError::kEnfile), 0u);
  EXPECT_EQ(server.tcpAcceptErrors(AcceptError::kOther), 0u);
  // Logged once for the interval (10 s), not once per failure.
  EXPECT_EQ(count(log.text(), "accept failed: Too many open files; 1 failure(s) so far"), 1u)
      << log.text();
  EXPECT_EQ(count(log.text(), "accept failed"), 1u) << log.text();

  // Descriptors come back: within the longest pause (1 s) the waiting connections are taken and
  // answered.
  exhaustion.release();
  uint16_t id = 100;
  for (int fd : clients) {
    ASSERT_TRUE(sendQuery(fd, ++id));
    auto answer = readAnswer(fd, 3s);
    ASSERT_TRUE(answer) << "connection " << id << " was never accepted";
    EXPECT_EQ(responseId(*answer), id);
    EXPECT_EQ(lastAddress(*answer), "192.0.2.1");
  }
  EXPECT_EQ(server.tcpAccepted(), clients.size());
  for (int fd : clients) ::close(fd);
  server.stop();
}

TEST(TcpAccept, ErrorKindsHaveTheirMetricNames) {
  EXPECT_STREQ(acceptErrorName(AcceptError::kEmfile), "emfile");
  EXPECT_STREQ(acceptErrorName(AcceptError::kEnfile), "enfile");
  EXPECT_STREQ(acceptErrorName(AcceptError::kNoMemory), "nomem");
  EXPECT_STREQ(acceptErrorName(AcceptError::kOther), "other");
}

}  // namespace
}  // namespace understudy::server
