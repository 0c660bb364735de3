// Hostile clients and hostile configs against the real daemon (issue 7):
//  - TCP: 1,000+ idle connections, the connection cap, the idle timeout, slowloris, oversized and
//    zero-length frames, clients that never read their answers; all the while a watchdog client
//    keeps querying over UDP and TCP and must lose nothing, and the daemon's VmRSS stays bounded;
//  - UDP: a corpus of named malformed packets, each answered with FORMERR or not at all, each
//    followed by a good query that must be answered;
//  - configs: every broken config under tests/data/hostile/configs/ is refused by
//    `understudy check`, at start-up and on SIGHUP (where the old config keeps serving), each with
//    the file:line:column message in its .expect sidecar.
// Every loop here is bounded in count and time and talks only to 127.0.0.1.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "harness.h"

namespace understudy::systest {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

// How much the daemon's resident memory may grow during an attack. ASan keeps freed memory in
// a quarantine (256 MB by default) and its shadow memory grows with the heap, so allow more there.
constexpr long kRssGrowthLimitKb = kAsan ? 400 * 1024 : 64 * 1024;

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

long vmRssKb(pid_t pid) {
  std::string status = readFile("/proc/" + std::to_string(pid) + "/status");
  auto at = status.find("VmRSS:");
  if (at == std::string::npos) return -1;
  return std::strtol(status.c_str() + at + 6, nullptr, 10);
}

// Raises the open-file limit of this process (and so of the daemon it starts) to `want`.
bool raiseFileLimit(rlim_t want) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return false;
  if (rl.rlim_cur >= want) return true;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) return false;
  rl.rlim_cur = want;
  return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

std::string hostileConfig(const std::string& idle, unsigned max_connections) {
  std::string yaml =
      "server:\n  listen: [\"127.0.0.1:0\"]\n  threads: 2\n  tcp_idle_timeout: " + idle +
      "\n  tcp_max_connections: " + std::to_string(max_connections) +
      "\nzones:\n  - name: h.test\n    records:\n"
      "      - { name: www, type: A, ttl: 300, value: 192.0.2.1 }\n";
  // ~2.5 KB of TXT: an answer large enough to fill a non-reading client's buffers quickly.
  for (int i = 0; i < 40; ++i) {
    char line[128];
    std::snprintf(line, sizeof line,
                  "      - { name: big, type: TXT, value: '\"record %02d padding padding "
                  "padding\"' }\n",
                  i);
    yaml += line;
  }
  return yaml;
}

Bytes query(const std::string& name, uint16_t type, uint16_t id) {
  QuerySpec q;
  q.name = name;
  q.type = type;
  q.id = id;
  return buildQuery(q);
}

bool answersWww(const std::optional<Bytes>& wire) {
  if (!wire) return false;
  auto m = parseWire(*wire);
  return m && m->rcode == "NOERROR" && m->answer.size() == 1 && m->answer[0].rdata == "192.0.2.1";
}

// A raw TCP connection to 127.0.0.1:port, blocking connect. Returns the fd or -1.
int connectTcp(uint16_t port, int rcvbuf = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool sendAll(int fd, const uint8_t* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// True once the server has closed (FIN or RST) the connection; never reads any data, so a
// client that "never reads" stays that way while it is checked.
bool peerClosed(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) return true;
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return true;
  return info.tcpi_state != TCP_ESTABLISHED;
}

// Reads one framed message from a blocking fd within `timeout`.
std::optional<Bytes> readFramed(int fd, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  Bytes buf;
  size_t want = 2;
  while (buf.size() < want) {
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (left <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, left) <= 0) return std::nullopt;
    uint8_t chunk[4096];
    ssize_t n = ::recv(fd, chunk, std::min(sizeof chunk, want - buf.size()), 0);
    if (n <= 0) return std::nullopt;
    buf.insert(buf.end(), chunk, chunk + n);
    if (buf.size() == 2 && want == 2) want = 2 + ((size_t{buf[0]} << 8) | buf[1]);
  }
  return Bytes(buf.begin() + 2, buf.end());
}

// Queries the daemon over UDP and over fresh TCP connections, alternately, until stopped, and
// records how many were answered correctly, lost, and the slowest answer: "other clients keep
// being answered" is measured, not assumed.
class Watchdog {
 public:
  Watchdog(uint16_t port, bool tcp = true) : port_(port), tcp_(tcp) {
    thread_ = std::thread([this] { run(); });
  }
  ~Watchdog() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void pauseTcp(bool paused) { tcp_paused_ = paused; }
  int answered() const { return answered_; }
  int lost() const { return lost_; }
  double slowestMs() const { return slowest_ms_; }
  std::string str() const {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%d answered (%d UDP, %d TCP), %d lost, slowest %.1f ms",
                  answered_.load(), udp_.load(), tcpn_.load(), lost_.load(), slowest_ms_.load());
    return buf;
  }

 private:
  void run() {
    uint16_t id = 0x5000;
    for (int i = 0; !stop_ && i < 100000; ++i) {
      bool use_tcp = tcp_ && !tcp_paused_ && (i % 2 == 1);
      Bytes q = query("www.h.test.", 1, ++id);
      auto start = Clock::now();
      auto wire =
          use_tcp ? tcpExchange("127.0.0.1", port_, q, 2s) : udpExchange("127.0.0.1", port_, q, 2s);
      double ms = msSince(start);
      if (answersWww(wire)) {
        ++answered_;
        ++(use_tcp ? tcpn_ : udp_);
        if (ms > slowest_ms_) slowest_ms_ = ms;
      } else {
        ++lost_;
      }
      std::this_thread::sleep_for(5ms);  // a steady trickle, not a flood
    }
  }
  uint16_t port_;
  bool tcp_;
  std::atomic<bool> stop_{false}, tcp_paused_{false};
  std::atomic<int> answered_{0}, lost_{0}, udp_{0}, tcpn_{0};
  std::atomic<double> slowest_ms_{0};
  std::thread thread_;
};

void report(const std::string& what) {
  std::printf("[ hostile  ] %s\n", what.c_str());
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------
// TCP

TEST(HostileTcp, ThousandIdleConnectionsTheCapAndTheIdleTimeoutHold) {
  constexpr int kIdle = 1000;
  constexpr unsigned kCap = 1100;
  constexpr int kOverCap = 50;
  constexpr double kIdleTimeoutMs = 8000;
  if (!raiseFileLimit(4096)) GTEST_SKIP() << "cannot raise RLIMIT_NOFILE to 4096";
  TempDir dir;
  Understudy d(dir, hostileConfig("8s", kCap));
  uint16_t port = d.port("tcp");
  long rss_before = vmRssKb(d.process().pid());
  Watchdog dog(port);

  std::vector<int> fds;
  auto cleanup = [&] {
    for (int fd : fds) ::close(fd);
    fds.clear();
  };
  auto opened = Clock::now();
  for (int i = 0; i < kIdle; ++i) {
    int fd = connectTcp(port);
    ASSERT_GE(fd, 0) << "connection " << i << ": " << std::strerror(errno);
    fds.push_back(fd);
  }
  double open_ms = msSince(opened);
  // With 1,000 idle connections held, other clients are served over UDP and TCP.
  int other_tcp = 0;
  for (int i = 0; i < 100; ++i) {
    Bytes q = query("www.h.test.", 1, static_cast<uint16_t>(0x7000 + i));
    if (answersWww(tcpExchange("127.0.0.1", port, q, 2s))) ++other_tcp;
    if (answersWww(udpExchange("127.0.0.1", port, q, 2s))) ++other_tcp;
  }
  EXPECT_EQ(other_tcp, 200) << "queries from other clients with " << kIdle << " idle held";
  long rss_held = vmRssKb(d.process().pid());

  // Fill past the cap: the server closes the surplus at once and keeps the rest.
  dog.pauseTcp(true);
  std::this_thread::sleep_for(50ms);  // let an in-flight watchdog TCP query finish
  for (int i = 0; i < static_cast<int>(kCap) - kIdle + kOverCap; ++i) {
    int fd = connectTcp(port);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    fds.push_back(fd);
  }
  auto countClosed = [&] {
    return static_cast<int>(std::count_if(fds.begin(), fds.end(), peerClosed));
  };
  EXPECT_TRUE(pollUntil([&] { return countClosed() >= kOverCap; }, 3s))
      << countClosed() << " closed, want " << kOverCap;
  EXPECT_EQ(countClosed(), kOverCap) << "exactly the connections over the cap are refused";
  double full_ms = msSince(opened);
  EXPECT_LT(full_ms, kIdleTimeoutMs)
      << "setup took longer than the idle timeout: the counts above are meaningless";
  report("held " + std::to_string(kIdle) + " idle TCP connections (opened in " +
         std::to_string(static_cast<int>(open_ms)) + " ms), then " + std::to_string(kCap) +
         " = the cap; " + std::to_string(kOverCap) + " over the cap closed at once");

  // The idle timeout closes every one of them, and the cap frees up.
  EXPECT_TRUE(pollUntil([&] { return countClosed() == static_cast<int>(fds.size()); }, 12s, 50ms))
      << countClosed() << " of " << fds.size() << " closed";
  double closed_ms = msSince(opened);
  EXPECT_GE(closed_ms, kIdleTimeoutMs - 500) << "idle connections closed before the idle timeout";
  dog.pauseTcp(false);
  EXPECT_TRUE(answersWww(tcpExchange("127.0.0.1", port, query("www.h.test.", 1, 1), 2s)));
  cleanup();
  dog.stop();
  long rss_after = vmRssKb(d.process().pid());
  report("idle timeout 8s: all " + std::to_string(kCap) + " closed " +
         std::to_string(static_cast<int>(closed_ms)) + " ms after opening; VmRSS " +
         std::to_string(rss_before) + " kB -> " + std::to_string(rss_held) + " kB (held) -> " +
         std::to_string(rss_after) + " kB; watchdog: " + dog.str());
  EXPECT_EQ(dog.lost(), 0) << dog.str();
  EXPECT_GT(dog.answered(), 0);
  EXPECT_LT(rss_held - rss_before, kRssGrowthLimitKb);
  EXPECT_LT(rss_after - rss_before, kRssGrowthLimitKb);
  EXPECT_TRUE(d.process().running());
  EXPECT_EQ(d.process().stop(), 0);
}

TEST(HostileTcp, SlowlorisIsCutOffAtTheIdleTimeoutWhileOthersAreServed) {
  constexpr int kClients = 50;
  TempDir dir;
  Understudy d(dir, hostileConfig("2s", 200));
  uint16_t port = d.port("tcp");
  long rss_before = vmRssKb(d.process().pid());
  Watchdog dog(port);

  Bytes stream = frame(query("www.h.test.", 1, 0x4242));  // ~33 bytes: 33 s at 1 byte/s
  std::vector<int> fds;
  std::vector<double> closed_after(kClients, -1);
  auto start = Clock::now();
  for (int i = 0; i < kClients; ++i) {
    int fd = connectTcp(port);
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
  }
  // One byte per second per client, for at most 6 s; note when the server hangs up on each.
  for (size_t sent = 0; sent < stream.size() && msSince(start) < 6000; ++sent) {
    for (int i = 0; i < kClients; ++i) {
      if (closed_after[i] >= 0) continue;
      if (peerClosed(fds[i]) || ::send(fds[i], &stream[sent], 1, MSG_NOSIGNAL) != 1) {
        closed_after[i] = msSince(start);
      }
    }
    if (std::all_of(closed_after.begin(), closed_after.end(), [](double t) { return t >= 0; }))
      break;
    auto next = start + std::chrono::seconds(sent + 1);
    while (Clock::now() < next) {
      for (int i = 0; i < kClients; ++i) {
        if (closed_after[i] < 0 && peerClosed(fds[i])) closed_after[i] = msSince(start);
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  dog.stop();
  double latest = *std::max_element(closed_after.begin(), closed_after.end());
  int cut = static_cast<int>(
      std::count_if(closed_after.begin(), closed_after.end(), [](double t) { return t >= 0; }));
  for (int fd : fds) ::close(fd);
  long rss_after = vmRssKb(d.process().pid());
  report(std::to_string(kClients) + " slowloris clients (1 byte/s): " + std::to_string(cut) +
         " cut off, the last after " + std::to_string(static_cast<int>(latest)) +
         " ms (idle timeout 2s); VmRSS " + std::to_string(rss_before) + " -> " +
         std::to_string(rss_after) + " kB; watchdog: " + dog.str());
  EXPECT_EQ(cut, kClients);
  EXPECT_LT(latest, 4000) << "a slowloris client outlived the idle timeout";
  EXPECT_EQ(dog.lost(), 0) << dog.str();
  EXPECT_GT(dog.answered(), 10);
  EXPECT_LT(rss_after - rss_before, kRssGrowthLimitKb);
  EXPECT_EQ(d.process().stop(), 0);
}

TEST(HostileTcp, OversizedShortAndZeroLengthFrames) {
  TempDir dir;
  Understudy d(dir, hostileConfig("2s", 200));
  uint16_t port = d.port("tcp");
  Watchdog dog(port);
  Bytes good = query("www.h.test.", 1, 0x1111);

  {
    SCOPED_TRACE("a 65535-byte frame: a query followed by zeros is FORMERR, the connection lives");
    int fd = connectTcp(port);
    ASSERT_GE(fd, 0);
    Bytes big = good;
    big.resize(65535, 0);
    Bytes framed = frame(big);
    ASSERT_TRUE(sendAll(fd, framed.data(), framed.size()));
    auto reply = readFramed(fd, 3s);
    ASSERT_TRUE(reply);
    auto m = parseWire(*reply);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->rcode, "FORMERR");
    EXPECT_EQ(m->id, 0x1111);
    Bytes next = frame(query("www.h.test.", 1, 0x2222));
    ASSERT_TRUE(sendAll(fd, next.data(), next.size()));
    auto again = readFramed(fd, 2s);
    EXPECT_TRUE(answersWww(again)) << "the next query on the same connection";
    ::close(fd);
  }
  {
    SCOPED_TRACE("a 65535-byte frame that never arrives is cut off at the idle timeout");
    int fd = connectTcp(port);
    ASSERT_GE(fd, 0);
    Bytes partial{0xff, 0xff};
    partial.resize(1002, 0x41);
    auto start = Clock::now();
    ASSERT_TRUE(sendAll(fd, partial.data(), partial.size()));
    EXPECT_TRUE(pollUntil([&] { return peerClosed(fd); }, 4s));
    EXPECT_LT(msSince(start), 3500);
    ::close(fd);
  }
  {
    SCOPED_TRACE("a good query, then a zero-length frame: answered, then closed at once");
    int fd = connectTcp(port);
    ASSERT_GE(fd, 0);
    Bytes stream = frame(good);
    stream.push_back(0);
    stream.push_back(0);
    auto start = Clock::now();
    ASSERT_TRUE(sendAll(fd, stream.data(), stream.size()));
    EXPECT_TRUE(answersWww(readFramed(fd, 2s)));
    EXPECT_TRUE(pollUntil([&] { return peerClosed(fd); }, 2s));
    EXPECT_LT(msSince(start), 1000) << "closed by the frame, not by the idle timeout";
    ::close(fd);
  }
  for (uint8_t length : {1, 2, 11}) {
    SCOPED_TRACE("a frame shorter than a DNS header: closed at once");
    int fd = connectTcp(port);
    ASSERT_GE(fd, 0);
    Bytes stream{0, length};
    stream.resize(2 + length, 0);
    auto start = Clock::now();
    ASSERT_TRUE(sendAll(fd, stream.data(), stream.size()));
    EXPECT_TRUE(pollUntil([&] { return peerClosed(fd); }, 2s));
    EXPECT_LT(msSince(start), 1000);
    ::close(fd);
  }
  {
    SCOPED_TRACE("a frame cut short by the client's FIN: closed, nothing answered");
    int fd = connectTcp(port);
    ASSERT_GE(fd, 0);
    Bytes stream = frame(good);
    stream.resize(stream.size() - 5);
    ASSERT_TRUE(sendAll(fd, stream.data(), stream.size()));
    ::shutdown(fd, SHUT_WR);
    EXPECT_FALSE(readFramed(fd, 1s));
    ::close(fd);
  }
  dog.stop();
  report("oversized/short/zero-length frames; watchdog: " + dog.str());
  EXPECT_EQ(dog.lost(), 0) << dog.str();
  EXPECT_TRUE(d.process().running());
  EXPECT_EQ(d.process().stop(), 0);
}

// The daemon's side of our TCP connections to `server_port`, from /proc/net/tcp: for each client
// port, the bytes in the daemon's send queue (answers it wrote that the client has not taken) and
// receive queue (queries that arrived and it has not read yet). Only ESTABLISHED sockets.
struct ServerQueues {
  long tx = -1, rx = -1;
};
std::map<uint16_t, ServerQueues> serverSideQueues(uint16_t server_port) {
  std::map<uint16_t, ServerQueues> out;
  std::FILE* f = std::fopen("/proc/net/tcp", "r");
  if (!f) return out;
  char line[512];
  while (std::fgets(line, sizeof line, f)) {
    unsigned long laddr = 0, raddr = 0, tx = 0, rx = 0;
    unsigned lport = 0, rport = 0, state = 0;
    if (std::sscanf(line, " %*u: %lx:%x %lx:%x %x %lx:%lx", &laddr, &lport, &raddr, &rport, &state,
                    &tx, &rx) != 7)
      continue;
    if (lport != server_port || state != 1 /* TCP_ESTABLISHED */) continue;
    out[static_cast<uint16_t>(rport)] = {static_cast<long>(tx), static_cast<long>(rx)};
  }
  std::fclose(f);
  return out;
}

uint16_t localPort(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
  return ntohs(sa.sin_port);
}

TEST(HostileTcp, ClientsThatNeverReadTheirAnswersAreDroppedAndCostOnlyTheirOwnSockets) {
  constexpr int kClients = 20;
  constexpr int kQueries = 2000;  // ~2.5 KB answers each: ~5 MB per client if it ever read them
  constexpr double kIdleTimeoutMs = 2000;
  // How late after the idle timeout a drop may be seen: the timer's latency plus this test's
  // polling. Generous, and still well short of what a second, longer timeout would take.
  constexpr double kDropSlackMs = 1000;
  TempDir dir;
  Understudy d(dir, hostileConfig("2s", 200));
  uint16_t port = d.port("tcp");
  long rss_before = vmRssKb(d.process().pid());
  Watchdog dog(port);

  Bytes pipeline;
  for (int i = 0; i < kQueries; ++i) {
    Bytes f = frame(query("big.h.test.", 16, static_cast<uint16_t>(i)));
    pipeline.insert(pipeline.end(), f.begin(), f.end());
  }
  std::vector<int> fds;
  std::vector<uint16_t> client_ports;
  std::vector<size_t> written(kClients, 0);
  auto start = Clock::now();
  for (int i = 0; i < kClients; ++i) {
    int fd = connectTcp(port, 4096);  // a small receive window, never read
    ASSERT_GE(fd, 0);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    fds.push_back(fd);
    client_ports.push_back(localPort(fd));
  }
  // When each connection was dropped, and when the daemon last worked on it: read a query (its
  // receive queue fell) or wrote an answer (its send queue grew). How soon the daemon stalls on
  // a client depends on how fast it gets through the answers its buffers take, i.e. on the CPU
  // it gets; the idle timeout counts from that stall, so that is what the drop is measured from.
  std::vector<ServerQueues> queues(kClients);
  std::vector<Clock::time_point> last_work(kClients), closed_at(kClients);
  std::vector<bool> seen(kClients, false), closed(kClients, false);
  auto sample = [&] {
    auto now_queues = serverSideQueues(port);
    auto now = Clock::now();
    for (int i = 0; i < kClients; ++i) {
      if (closed[i]) continue;
      if (peerClosed(fds[i])) {
        closed[i] = true;
        closed_at[i] = now;
        continue;
      }
      auto it = now_queues.find(client_ports[i]);
      if (it == now_queues.end()) continue;
      const ServerQueues& q = it->second;
      if (!seen[i] || q.rx < queues[i].rx || q.tx > queues[i].tx) last_work[i] = now;
      seen[i] = true;
      queues[i] = q;
    }
    return std::all_of(closed.begin(), closed.end(), [](bool c) { return c; });
  };
  // Push as much of the pipeline as the kernel takes for a second; the server stops reading
  // once its answers back up, so most of it stays unsent.
  while (msSince(start) < 1000) {
    for (int i = 0; i < kClients; ++i) {
      if (written[i] >= pipeline.size()) continue;
      ssize_t n =
          ::send(fds[i], pipeline.data() + written[i], pipeline.size() - written[i], MSG_NOSIGNAL);
      if (n > 0) written[i] += static_cast<size_t>(n);
    }
    sample();
    std::this_thread::sleep_for(10ms);
  }
  long rss_stuck = vmRssKb(d.process().pid());
  // This bound only catches "never": when they were dropped is checked per client below.
  EXPECT_TRUE(pollUntil(sample, 30s, 20ms))
      << "a client that never reads must be dropped once an answer waits longer than the idle "
         "timeout";
  double dropped_ms = msSince(start);
  dog.stop();
  size_t total = 0;
  for (size_t w : written) total += w;
  for (int fd : fds) ::close(fd);
  long rss_after = vmRssKb(d.process().pid());

  auto ms = [](Clock::duration t) { return std::chrono::duration<double, std::milli>(t).count(); };
  double first_drop_ms = 1e9, longest_quiet_ms = 0, shortest_quiet_ms = 1e9;
  int first_dropped = -1, longest_quiet = -1;
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(seen[i]) << "client " << i << " (port " << client_ports[i]
                         << ") never showed in /proc/net/tcp: nothing was measured";
    if (!closed[i]) continue;  // reported above
    double drop_ms = ms(closed_at[i] - start);
    double quiet_ms = ms(closed_at[i] - last_work[i]);
    if (drop_ms < first_drop_ms) {
      first_drop_ms = drop_ms;
      first_dropped = i;
    }
    if (quiet_ms > longest_quiet_ms) {
      longest_quiet_ms = quiet_ms;
      longest_quiet = i;
    }
    shortest_quiet_ms = std::min(shortest_quiet_ms, quiet_ms);
  }
  // The timer is armed after the connection opened, and never fires early.
  EXPECT_GE(first_drop_ms, kIdleTimeoutMs)
      << "client " << first_dropped << " was dropped " << static_cast<int>(first_drop_ms)
      << " ms after it connected: before the idle timeout could have passed";
  EXPECT_LE(longest_quiet_ms, kIdleTimeoutMs + kDropSlackMs)
      << "client " << longest_quiet << " was dropped " << static_cast<int>(longest_quiet_ms)
      << " ms after the daemon last read from or wrote to it: not by the idle timeout (2s)";
  report(std::to_string(kClients) + " clients pipelining " + std::to_string(kQueries) +
         " queries and never reading (" + std::to_string(total / 1024) +
         " KiB accepted by the kernel): dropped between " +
         std::to_string(static_cast<int>(first_drop_ms)) + " and " +
         std::to_string(static_cast<int>(dropped_ms)) + " ms, " +
         std::to_string(static_cast<int>(shortest_quiet_ms)) + " to " +
         std::to_string(static_cast<int>(longest_quiet_ms)) +
         " ms after the daemon last worked on them (idle timeout 2s); VmRSS " +
         std::to_string(rss_before) + " -> " + std::to_string(rss_stuck) + " (stuck) -> " +
         std::to_string(rss_after) + " kB; watchdog: " + dog.str());
  // The cost to everyone else: other clients are answered throughout, none as slowly as the idle
  // timeout (what a query stuck behind a non-reading client would take), and memory is bounded.
  EXPECT_EQ(dog.lost(), 0) << dog.str();
  EXPECT_GT(dog.answered(), 10);
  EXPECT_LT(dog.slowestMs(), kIdleTimeoutMs) << dog.str();
  EXPECT_LT(rss_stuck - rss_before, kRssGrowthLimitKb);
  EXPECT_LT(rss_after - rss_before, kRssGrowthLimitKb);
  EXPECT_EQ(d.process().stop(), 0);
}

// ---------------------------------------------------------------------------------------------
// Malformed UDP

enum class Expect {
  kFormErrOrSilence,  // malformed: FORMERR, or nothing
  kSilence,           // a response (QR=1) or less than a header: never answered
  kNotImpOrSilence,   // an opcode we do not implement, with a malformed body
};

struct Shape {
  std::string name;
  Bytes packet;
  Expect expect = Expect::kFormErrOrSilence;
};

void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
void append(Bytes& b, std::initializer_list<int> bytes) {
  for (int x : bytes) b.push_back(static_cast<uint8_t>(x));
}
void appendName(Bytes& b, const std::vector<std::string>& labels) {
  for (const auto& l : labels) {
    b.push_back(static_cast<uint8_t>(l.size()));
    b.insert(b.end(), l.begin(), l.end());
  }
  b.push_back(0);
}

// Header with the given counts (flags: RD), then nothing.
Bytes header(uint16_t id, uint16_t qd, uint16_t an = 0, uint16_t ns = 0, uint16_t ar = 0) {
  Bytes b(12, 0);
  put16(b, 0, id);
  b[2] = 0x01;
  put16(b, 4, qd);
  put16(b, 6, an);
  put16(b, 8, ns);
  put16(b, 10, ar);
  return b;
}
// A well-formed question for www.h.test. A IN.
void appendQuestion(Bytes& b, uint16_t type = 1) {
  appendName(b, {"www", "h", "test"});
  append(b, {type >> 8, type & 0xff, 0, 1});
}
// An OPT RR (root owner, UDP size 1232) with the given RDATA length and bytes.
void appendOpt(Bytes& b, std::initializer_list<int> rdata = {}, int owner_len = -1) {
  if (owner_len < 0) {
    b.push_back(0);
  } else {
    appendName(b, {std::string(static_cast<size_t>(owner_len), 'o')});
  }
  append(b, {0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, static_cast<int>(rdata.size())});
  append(b, rdata);
}
// A minimal A RR with the given owner bytes already appended by the caller.
void appendRrTail(Bytes& b, uint16_t rdlen = 4, int rdata_bytes = 4) {
  append(b, {0, 1, 0, 1, 0, 0, 0, 60, rdlen >> 8, rdlen & 0xff});
  for (int i = 0; i < rdata_bytes; ++i) b.push_back(static_cast<uint8_t>(192 + i));
}
void appendTsig(Bytes& b) {
  appendName(b, {"key"});
  append(b, {0, 250, 0, 255, 0, 0, 0, 0, 0, 0});  // TSIG, class ANY, empty RDATA
}

std::vector<Shape> malformedShapes() {
  std::vector<Shape> s;
  uint16_t id = 0xa000;
  auto add = [&](std::string name, Bytes b, Expect e = Expect::kFormErrOrSilence) {
    if (b.size() >= 2) put16(b, 0, id);
    ++id;
    s.push_back({std::move(name), std::move(b), e});
  };
  auto q = [&](uint16_t qd = 1, uint16_t an = 0, uint16_t ns = 0, uint16_t ar = 0) {
    Bytes b = header(0, qd, an, ns, ar);
    appendQuestion(b);
    return b;
  };

  // Short headers.
  add("empty datagram", {}, Expect::kSilence);
  add("one byte", {0x42}, Expect::kSilence);
  add("two bytes (an ID only)", {0x42, 0x42}, Expect::kSilence);
  {
    Bytes b = header(0, 1);
    b.pop_back();
    add("eleven-byte header", b, Expect::kSilence);
  }
  // Bad counts.
  add("header only, QDCOUNT 0", header(0, 0));
  add("header only, QDCOUNT 1", header(0, 1));
  add("QDCOUNT 2 with one question", q(2));
  {
    Bytes b = q(2);
    appendQuestion(b, 28);
    add("QDCOUNT 2 with two questions", b);
  }
  add("QDCOUNT 65535", q(65535));
  add("ANCOUNT 1, no answer", q(1, 1));
  add("NSCOUNT 1, no authority", q(1, 0, 1));
  add("ARCOUNT 1, no additional", q(1, 0, 0, 1));
  add("ANCOUNT 65535", q(1, 65535));
  add("all counts 65535", q(65535, 65535, 65535, 65535));
  // Broken questions.
  {
    Bytes b = header(0, 1);
    append(b, {3, 'w', 'w'});
    add("question name cut inside a label", b);
  }
  {
    Bytes b = header(0, 1);
    append(b, {3, 'w', 'w', 'w', 1, 'h'});
    add("question name without the root label", b);
  }
  {
    Bytes b = header(0, 1);
    appendName(b, {"www", "h", "test"});
    add("question without type and class", b);
  }
  {
    Bytes b = header(0, 1);
    appendName(b, {"www", "h", "test"});
    append(b, {0, 1, 0});
    add("question with half a class", b);
  }
  {
    Bytes b = header(0, 1);
    appendName(b, {std::string(64, 'a'), "test"});
    append(b, {0, 1, 0, 1});
    add("label of 64 octets", b);
  }
  {
    Bytes b = header(0, 1);
    b.push_back(127);
    b.insert(b.end(), 127, 'x');
    append(b, {0, 0, 1, 0, 1});
    add("label length 127", b);
  }
  {
    Bytes b = header(0, 1);
    appendName(b, {std::string(63, 'a'), std::string(63, 'b'), std::string(63, 'c'),
                   std::string(62, 'd')});  // 1+63+1+63+1+63+1+62+1 = 256 octets
    append(b, {0, 1, 0, 1});
    add("question name of 256 octets", b);
  }
  {
    Bytes b = header(0, 1);
    for (int i = 0; i < 200; ++i) append(b, {1, 'a'});  // 400 octets of labels
    append(b, {0, 0, 1, 0, 1});
    add("question name of 401 octets", b);
  }
  {
    Bytes b = header(0, 1);
    append(b, {0xc0, 0x0c, 0, 1, 0, 1});
    add("question name is a pointer to itself", b);
  }
  {
    Bytes b = header(0, 1);
    append(b, {3, 'w', 'w', 'w', 0xc0, 0x0c, 0, 1, 0, 1});
    add("question name ends in a pointer loop", b);
  }
  {
    Bytes b = header(0, 1);
    append(b, {3, 'w', 'w', 'w', 0xc0, 0xff, 0, 1, 0, 1});
    add("question name pointer past the end", b);
  }
  {
    Bytes b = header(0, 1);
    append(b, {0x41, 0x05, 'x', 0, 0, 1, 0, 1});
    add("extended label type 0x40 in the question", b);
  }
  {
    Bytes b = header(0, 1);
    append(b, {0x80, 'x', 0, 0, 1, 0, 1});
    add("reserved label type 0x80 in the question", b);
  }
  {
    Bytes b = header(0, 1);
    append(b, {3, 'w', 'w', 'w', 0, 3, 'c', 'o', 'm', 0, 0, 1, 0, 1});
    add("root label in the middle of the question name", b);
  }
  add("question type OPT", [&] {
    Bytes b = header(0, 1);
    appendQuestion(b, 41);
    return b;
  }());
  add("question type TSIG", [&] {
    Bytes b = header(0, 1);
    appendQuestion(b, 250);
    return b;
  }());
  // Records after the question.
  {
    Bytes b = q(1, 1);
    append(b, {0xc0, 0x0c});
    append(b, {0, 1, 0});
    add("answer RR header cut short", b);
  }
  {
    Bytes b = q(1, 1);
    append(b, {0xc0, 0x0c});
    appendRrTail(b, 100, 4);
    add("answer RDLENGTH past the end", b);
  }
  {
    Bytes b = q(1, 1);
    append(b, {0xc0, 0xf0});
    appendRrTail(b);
    add("answer owner pointer past the end", b);
  }
  {
    Bytes b = q(1, 1);
    size_t at = b.size();
    append(b, {0xc0, 0});
    b[at + 1] = static_cast<uint8_t>(at);
    appendRrTail(b);
    add("answer owner pointer to itself", b);
  }
  {
    Bytes b = q(1, 1);
    size_t at = b.size();
    append(b, {0xc0, 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 0});
    b[at + 1] = static_cast<uint8_t>(at + 12);  // -> the pointer in RDATA
    b[at + 13] = static_cast<uint8_t>(at);      // -> back to the owner
    add("answer owner in a two-pointer loop", b);
  }
  {
    Bytes b = q(1, 1);
    size_t at = b.size();
    append(b, {0xc0, 0});
    b[at + 1] = static_cast<uint8_t>(at + 2);  // forward, onto the RR's own type field
    appendRrTail(b);
    add("answer owner pointer forward", b);
  }
  {
    Bytes b = q(1, 1);
    append(b, {0xc0, 0x02});  // into the header
    appendRrTail(b);
    add("answer owner pointer into the header", b);
  }
  {
    Bytes b = q(1, 0, 1);
    appendName(b, {std::string(64, 'n')});
    appendRrTail(b);
    add("authority owner label of 64 octets", b);
  }
  {
    // Owner: 4 labels of 63 + a pointer back to "www.h.test" -> more than 255 octets.
    Bytes b = q(1, 0, 0, 1);
    for (int i = 0; i < 4; ++i) {
      b.push_back(63);
      b.insert(b.end(), 63, 'z');
    }
    append(b, {0xc0, 0x0c});
    appendRrTail(b);
    add("additional owner over 255 octets via a pointer", b);
  }
  {
    Bytes b = q(1, 1);
    append(b, {0x41, 0x00});
    appendRrTail(b);
    add("answer owner with an extended label", b);
  }
  // Trailing garbage.
  add("one byte of trailing garbage", [&] {
    Bytes b = q();
    b.push_back(0x99);
    return b;
  }());
  add("100 bytes of trailing garbage", [&] {
    Bytes b = q();
    b.insert(b.end(), 100, 0xee);
    return b;
  }());
  add("trailing zeros after EDNS", [&] {
    Bytes b = q(1, 0, 0, 1);
    appendOpt(b);
    b.insert(b.end(), 8, 0);
    return b;
  }());
  add("4 KB datagram: a query and garbage", [&] {
    Bytes b = q();
    b.resize(4096, 0x5a);
    return b;
  }());
  // EDNS.
  add("EDNS twice", [&] {
    Bytes b = q(1, 0, 0, 2);
    appendOpt(b);
    appendOpt(b);
    return b;
  }());
  add("OPT in the answer section", [&] {
    Bytes b = q(1, 1);
    appendOpt(b);
    return b;
  }());
  add("OPT in the authority section", [&] {
    Bytes b = q(1, 0, 1);
    appendOpt(b);
    return b;
  }());
  add("OPT owner not the root", [&] {
    Bytes b = q(1, 0, 0, 1);
    appendOpt(b, {}, 3);
    return b;
  }());
  add("OPT option longer than its RDATA", [&] {
    Bytes b = q(1, 0, 0, 1);
    appendOpt(b, {0, 10, 0, 8, 1, 2});
    return b;
  }());
  add("OPT option header cut short", [&] {
    Bytes b = q(1, 0, 0, 1);
    appendOpt(b, {0, 10});
    return b;
  }());
  add("OPT RDLENGTH past the end", [&] {
    Bytes b = q(1, 0, 0, 1);
    appendOpt(b);
    b[b.size() - 1] = 40;
    return b;
  }());
  // TSIG placement.
  add("TSIG not the last record", [&] {
    Bytes b = q(1, 0, 0, 2);
    appendTsig(b);
    appendOpt(b);
    return b;
  }());
  add("TSIG twice", [&] {
    Bytes b = q(1, 0, 0, 2);
    appendTsig(b);
    appendTsig(b);
    return b;
  }());
  add("TSIG in the answer section", [&] {
    Bytes b = q(1, 1, 0, 1);
    appendTsig(b);
    appendOpt(b);
    return b;
  }());
  // Responses sent to a server: never answered (two servers could loop).
  add(
      "QR=1, a well-formed query otherwise",
      [&] {
        Bytes b = q();
        b[2] |= 0x80;
        return b;
      }(),
      Expect::kSilence);
  add(
      "QR=1 with a broken question",
      [&] {
        Bytes b = header(0, 1);
        b[2] |= 0x80;
        append(b, {0xc0, 0x0c});
        return b;
      }(),
      Expect::kSilence);
  add(
      "QR=1 header only",
      [&] {
        Bytes b = header(0, 0);
        b[2] |= 0x84;  // QR + AA
        return b;
      }(),
      Expect::kSilence);
  add("all-ones header", Bytes(12, 0xff), Expect::kSilence);
  // Opcodes we do not implement, with broken bodies.
  add(
      "opcode 2 (STATUS) with a pointer-loop question",
      [&] {
        Bytes b = header(0, 1);
        b[2] = 0x10;
        append(b, {0xc0, 0x0c, 0, 1, 0, 1});
        return b;
      }(),
      Expect::kNotImpOrSilence);
  add(
      "opcode 15 with trailing garbage",
      [&] {
        Bytes b = q();
        b[2] = 0x78;
        b.insert(b.end(), 7, 0xaa);
        return b;
      }(),
      Expect::kNotImpOrSilence);
  // Noise.
  {
    std::mt19937 rng(7);
    for (int i = 0; i < 4; ++i) {
      Bytes b(static_cast<size_t>(20 + 120 * i));
      for (auto& x : b) x = static_cast<uint8_t>(rng());
      b[2] &= 0x07;  // QR=0, opcode 0, keep RD and such: the parser must look past the header
      put16(b, 4, 1);
      add("random bytes #" + std::to_string(i + 1) + " (" + std::to_string(b.size()) +
              " octets, QR=0, QDCOUNT 1)",
          b);
    }
  }
  return s;
}

TEST(HostileUdp, MalformedPacketsGetFormErrOrSilenceAndTheNextQueryIsAnswered) {
  TempDir dir;
  Understudy d(dir, hostileConfig("2s", 64));
  uint16_t port = d.port("udp");
  auto shapes = malformedShapes();
  ASSERT_GE(shapes.size(), 50u);

  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);

  int formerr = 0, notimp = 0, silent = 0;
  uint16_t good_id = 0x0100;
  for (const Shape& shape : shapes) {
    SCOPED_TRACE(shape.name);
    ASSERT_EQ(::send(fd, shape.packet.data(), shape.packet.size(), 0),
              static_cast<ssize_t>(shape.packet.size()));
    Bytes good = query("www.h.test.", 1, ++good_id);
    ASSERT_EQ(::send(fd, good.data(), good.size(), 0), static_cast<ssize_t>(good.size()));
    // Both go to the same socket and thread: an answer to the malformed one comes first.
    std::optional<Bytes> bad_reply;
    bool good_answered = false;
    auto deadline = Clock::now() + 3s;
    while (!good_answered && Clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      Bytes buf(65535);
      ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n < 0) continue;
      buf.resize(static_cast<size_t>(n));
      if (n >= 2 && buf[0] == (good_id >> 8) && buf[1] == (good_id & 0xff)) {
        good_answered = answersWww(buf);
      } else {
        ASSERT_FALSE(bad_reply) << "two replies to one malformed packet";
        bad_reply = buf;
      }
    }
    EXPECT_TRUE(good_answered) << "the good query after it was not answered";
    if (!bad_reply) {
      ++silent;
      continue;
    }
    ASSERT_NE(shape.expect, Expect::kSilence) << "answered a packet that must get nothing";
    auto m = parseWire(*bad_reply);
    ASSERT_TRUE(m) << "the reply does not parse";
    EXPECT_TRUE(m->hasFlag("qr"));
    EXPECT_EQ(m->id, (shape.packet[0] << 8) | shape.packet[1]) << "the reply echoes the ID";
    EXPECT_LE(m->size, 512u) << "no EDNS was accepted, so the classic limit applies";
    if (shape.expect == Expect::kNotImpOrSilence) {
      EXPECT_EQ(m->rcode, "NOTIMP");
      ++notimp;
    } else {
      EXPECT_EQ(m->rcode, "FORMERR");
      ++formerr;
    }
  }
  ::close(fd);
  report(std::to_string(shapes.size()) + " malformed UDP shapes: " + std::to_string(formerr) +
         " FORMERR, " + std::to_string(notimp) + " NOTIMP (unknown opcode), " +
         std::to_string(silent) + " silence; every following good query answered");
  EXPECT_TRUE(d.process().running());
  EXPECT_EQ(d.process().stop(), 0) << d.process().log();
}

// ---------------------------------------------------------------------------------------------
// Hostile configs

struct HostileConfig {
  std::string name;      // "cname_and_a"
  std::string expected;  // the sidecar's line, with {dir} and {main} still in it
};

std::string hostileDir() {
  return std::string(UNDERSTUDY_TEST_DATA) + "/hostile/configs";
}

std::vector<HostileConfig> hostileConfigs() {
  std::vector<HostileConfig> out;
  for (const auto& e : std::filesystem::directory_iterator(hostileDir())) {
    if (e.path().extension() != ".expect") continue;
    std::string expected = readFile(e.path().string());
    while (!expected.empty() && (expected.back() == '\n' || expected.back() == '\r'))
      expected.pop_back();
    out.push_back({e.path().stem().string(), expected});
  }
  std::sort(out.begin(), out.end(),
            [](const HostileConfig& a, const HostileConfig& b) { return a.name < b.name; });
  return out;
}

std::string substitute(std::string text, const std::string& dir, const std::string& main) {
  for (auto [key, value] : {std::pair<std::string, std::string>{"{dir}", dir}, {"{main}", main}}) {
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
      text.replace(at, key.size(), value);
      at += value.size();
    }
  }
  return text;
}

// The corpus with its auxiliary files (included YAML, zone files) in a fresh directory. Symbolic
// links stay links (zero.zone -> /dev/zero: following it would copy forever), and pipe.fifo is
// made here, as git cannot store a FIFO.
void copyCorpus(const TempDir& dir) {
  for (const auto& e : std::filesystem::directory_iterator(hostileDir())) {
    const std::string to = dir.file(e.path().filename().string());
    if (e.is_symlink()) {
      std::filesystem::copy_symlink(e.path(), to);
    } else {
      std::filesystem::copy_file(e.path(), to);
    }
  }
  ASSERT_EQ(::mkfifo(dir.file("pipe.fifo").c_str(), 0600), 0) << std::strerror(errno);
}

// How long refusing one hostile config may take. Each is refused in milliseconds; the bound is
// what turns a regression (a read that blocks on a FIFO, a YAML alias bomb expanded) into a
// failure instead of a hung or minutes-long suite. Sanitizer builds run several times slower.
constexpr auto kRefusalBound = kAsan ? 15s : 5s;

TEST(HostileConfigs, CheckRefusesEachWithItsFileLineColumnMessage) {
  auto configs = hostileConfigs();
  ASSERT_GE(configs.size(), 40u);
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(copyCorpus(dir));
  for (const auto& c : configs) {
    SCOPED_TRACE(c.name);
    std::string path = dir.file(c.name + ".yaml");
    auto started = Clock::now();
    auto r = runCommand({understudyBinary(), "check", "-c", path}, kRefusalBound);
    EXPECT_LT(Clock::now() - started, kRefusalBound) << "`check` took too long to refuse it";
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    std::string want = "error: " + substitute(c.expected, dir.path(), c.name + ".yaml");
    EXPECT_NE(r.err.find(want + "\n"), std::string::npos) << "want: " << want << "\ngot:\n"
                                                          << r.err;
  }
  report(std::to_string(configs.size()) + " hostile configs refused by `understudy check`");
}

TEST(HostileConfigs, TheDaemonRefusesToStartWithEach) {
  auto configs = hostileConfigs();
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(copyCorpus(dir));
  for (const auto& c : configs) {
    SCOPED_TRACE(c.name);
    std::string path = dir.file(c.name + ".yaml");
    Process p({understudyBinary(), "-c", path}, dir.file(c.name + ".log"));
    auto status = p.waitExit(kRefusalBound);
    if (!status) p.stop(1s);
    ASSERT_TRUE(status) << "still running with a broken config:\n" << p.log();
    EXPECT_NE(*status, 0);
    EXPECT_LT(*status, 128) << "exited by a signal:\n" << p.log();
    std::string want = "config error: " + substitute(c.expected, dir.path(), c.name + ".yaml");
    EXPECT_NE(p.log().find(want), std::string::npos) << "want: " << want << "\ngot:\n" << p.log();
  }
  report(std::to_string(configs.size()) + " hostile configs: the daemon refused to start");
}

TEST(HostileConfigs, OnSighupEachIsLoggedAndTheOldConfigKeepsServing) {
  auto configs = hostileConfigs();
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(copyCorpus(dir));
  const std::string good =
      "server: { listen: [\"127.0.0.1:0\"], threads: 2 }\n"
      "zones:\n  - name: keep.test\n    records:\n"
      "      - { name: www, type: A, ttl: 60, value: 192.0.2.1 }\n";
  Understudy d(dir, good, "understudy");
  uint16_t port = d.port();
  auto answer = [&] {
    auto wire = udpExchange("127.0.0.1", port, query("www.keep.test.", 1, 0x3333), 2s);
    if (!wire) return std::string("<no answer>");
    auto m = parseWire(*wire);
    if (!m || m->answer.size() != 1) return std::string("<unexpected>");
    return m->answer[0].rdata;
  };
  ASSERT_EQ(answer(), "192.0.2.1");
  auto failures = [&] {
    std::string log = d.process().log();
    size_t n = 0;
    for (size_t at = log.find("reload failed ("); at != std::string::npos;
         at = log.find("reload failed (", at + 1))
      ++n;
    return n;
  };
  size_t refused = 0;
  for (const auto& c : configs) {
    SCOPED_TRACE(c.name);
    std::string tmp = d.configPath() + ".new";
    writeFile(tmp, readFile(dir.file(c.name + ".yaml")));
    ASSERT_EQ(std::rename(tmp.c_str(), d.configPath().c_str()), 0);
    size_t before = failures();
    d.process().signal(SIGHUP);
    // A reload that never ends would swallow every later SIGHUP: stop at the first one.
    ASSERT_TRUE(pollUntil([&] { return failures() > before; }, kRefusalBound))
        << "no 'reload failed' logged:\n"
        << d.process().log();
    std::string want = "reload failed: " + substitute(c.expected, dir.path(), "understudy.yaml");
    EXPECT_NE(d.process().log().find(want), std::string::npos) << "want: " << want;
    EXPECT_EQ(answer(), "192.0.2.1") << "the old config must keep serving";
    ++refused;
  }
  EXPECT_TRUE(d.process().running());
  report(std::to_string(refused) +
         " hostile configs refused on SIGHUP, the old config serving throughout");
  EXPECT_EQ(d.process().stop(), 0);
}

// ---------------------------------------------------------------------------------------------
// Settings that used to mean something else than they said

// control.listen without a port: the daemon bound port 53 (the DNS default) and `ctl` dialled
// port 80 (HTTP's). Both now take 8053, as docs/control.md says, from one parser.
TEST(HostileSettings, ControlListenWithoutAPortIs8053ForTheDaemonAndCtl) {
  // An address of the loopback net nothing else uses, so port 8053 is free there.
  const std::string address = "127.0.0.79";
  TempDir dir;
  Understudy d(dir,
               "server: { listen: [\"127.0.0.1:0\"], threads: 1 }\n"
               "control: { listen: " +
                   address +
                   " }\n"
                   "zones:\n  - name: h.test\n",
               "understudy");
  auto line = d.process().waitForLogLine("control listening on", 5s);
  ASSERT_TRUE(line) << d.process().log();
  EXPECT_NE(line->find("control listening on " + address + ":8053"), std::string::npos) << *line;
  auto r = runCommand({understudyBinary(), "ctl", "-c", d.configPath(), "--json", "status"}, 10s);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\"pools\""), std::string::npos) << r.out;
  EXPECT_EQ(d.process().stop(), 0);
}

}  // namespace
}  // namespace understudy::systest
