// Response rate limiting against the real daemon: a flood from one source prefix is limited (with
// truncated "slip" answers that send real clients to TCP) while another prefix is served.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "harness.h"

namespace understudy::systest {
namespace {

struct FloodResult {
  int full = 0;       // complete answers
  int truncated = 0;  // TC=1 slips
  int silent = 0;     // no answer at all
};

// Sends `count` queries as fast as possible from `source`, then collects what comes back.
FloodResult flood(const std::string& source, uint16_t port, int count) {
  FloodResult r;
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from), 0);
  int big = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  QuerySpec q;
  q.name = "www.rrl.test.";
  for (int i = 0; i < count; ++i) {
    q.id = static_cast<uint16_t>(i);
    Bytes wire = buildQuery(q);
    ::sendto(fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  int received = 0;
  auto deadline = Clock::now() + 2s;
  while (received < count && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) break;  // 200 ms of silence: the rest was dropped
    uint8_t buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 12) continue;
    ++received;
    auto m = parseWire(Bytes(buf, buf + n));
    if (m && m->hasFlag("tc") && m->answer.empty()) {
      ++r.truncated;
    } else if (m && m->answer.size() == 1) {
      ++r.full;
    }
  }
  r.silent = count - received;
  ::close(fd);
  return r;
}

constexpr const char* kZone = R"(
zones:
  - name: rrl.test
    records:
      - { name: www, type: A, value: 192.0.2.1 }
)";

TEST(Rrl, OffByDefaultEverythingIsAnswered) {
  TempDir dir;
  Understudy d(dir, std::string("server: { listen: [\"127.0.0.1:0\"], threads: 1 }\n") + kZone);
  FloodResult r = flood("127.0.0.1", d.port(), 300);
  EXPECT_EQ(r.full, 300) << r.truncated << " truncated, " << r.silent << " silent";
}

TEST(Rrl, FloodFromOnePrefixIsLimitedAnotherIsServedExemptIsNot) {
  TempDir dir;
  Understudy d(dir, std::string(R"(server:
  listen: ["127.0.0.1:0"]
  threads: 1
  rrl: { responses_per_second: 20, slip: 2, ipv4_prefix: 24, exempt: [127.0.9.0/24] }
)") + kZone);
  uint16_t port = d.port();
  FloodResult a = flood("127.0.0.1", port, 300);
  // At most a second's worth (two if the flood straddles a second boundary) of full answers.
  EXPECT_GE(a.full, 20);
  EXPECT_LE(a.full, 40);
  // Slip 2: about every second limited answer goes out truncated, the others are dropped.
  EXPECT_GT(a.truncated, 100) << a.full << " full, " << a.silent << " silent";
  EXPECT_GT(a.silent, 100) << a.full << " full, " << a.truncated << " truncated";
  // Another /24 is not affected by the first one's flood.
  FloodResult b = flood("127.0.1.1", port, 15);
  EXPECT_EQ(b.full, 15);
  // An exempt prefix is never limited.
  FloodResult c = flood("127.0.9.9", port, 300);
  EXPECT_EQ(c.full, 300);
  // TCP is never rate limited: a client sent there by a slip gets its answer.
  QuerySpec q;
  q.name = "www.rrl.test.";
  auto tcp = tcpExchange("127.0.0.1", port, buildQuery(q));
  ASSERT_TRUE(tcp);
  EXPECT_EQ(parseWire(*tcp)->answer.size(), 1u);
}

// `server.rrl` applies on SIGHUP: a reload turns limiting on, another turns it off again, with no
// restart and no socket rebound.
TEST(Rrl, AReloadTurnsItOnAndAnotherTurnsItOff) {
  TempDir dir;
  const std::string off =
      std::string("server: { listen: [\"127.0.0.1:0\"], threads: 1 }\n") + kZone;
  const std::string on = std::string(R"(server:
  listen: ["127.0.0.1:0"]
  threads: 1
  rrl: { responses_per_second: 20, slip: 2 }
)") + kZone;
  Understudy d(dir, off);
  uint16_t port = d.port();
  auto reload = [&](const std::string& config, const std::string& expect_line) {
    std::string tmp = d.configPath() + ".new";
    writeFile(tmp, config);
    ASSERT_EQ(std::rename(tmp.c_str(), d.configPath().c_str()), 0);
    d.process().signal(SIGHUP);
    ASSERT_TRUE(d.process().waitForLogLine(expect_line, 5s)) << d.process().log();
    ASSERT_TRUE(d.process().waitForLogLine("reload done", 5s)) << d.process().log();
  };
  FloodResult before = flood("127.0.0.1", port, 300);
  EXPECT_EQ(before.full, 300);

  reload(on, "reload: response rate limiting on: 20 responses/s per /24");
  FloodResult limited = flood("127.0.0.1", port, 300);
  EXPECT_LE(limited.full, 40) << limited.truncated << " truncated, " << limited.silent << " silent";
  EXPECT_GT(limited.truncated, 100) << limited.full << " full, " << limited.silent << " silent";
  EXPECT_GT(limited.silent, 100) << limited.full << " full, " << limited.truncated << " truncated";

  reload(off, "reload: response rate limiting off");
  FloodResult after = flood("127.0.0.1", port, 300);
  EXPECT_EQ(after.full, 300) << after.truncated << " truncated, " << after.silent << " silent";
  EXPECT_EQ(d.port(), port);
  EXPECT_EQ(d.process().log().find("take effect at the next restart"), std::string::npos);
  EXPECT_EQ(d.process().stop(), 0);
}

}  // namespace
}  // namespace understudy::systest
