// Soak: a steady query stream at a fixed rate while a backend flaps every 500 ms. Every query is
// answered, every answer is one of the pool's valid states, and the daemon's memory does not grow.
// Length: UNDERSTUDY_SOAK_SECONDS (default 60, as the hardening issue asks).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "backend.h"
#include "harness.h"

namespace understudy::systest {
namespace {

long rssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

TEST(Soak, FixedRateQueriesWhileABackendFlapsEvery500ms) {
  int seconds = 60;
  if (const char* s = std::getenv("UNDERSTUDY_SOAK_SECONDS")) seconds = std::max(5, std::atoi(s));
  TempDir dir;
  auto backends = httpBackendsOnOnePort({"127.0.0.31", "127.0.0.32"});
  // The flapping primary fails its probes with "connect refused" at once, so the probe timeout
  // only ever matters for the standby, which is always up: it must not be marked down because a
  // loaded machine (or a sanitized daemon and backend) took 50 ms to answer one probe. With a
  // single timeout at fall 1 the pool would be all down, and its answer (the primary with the
  // failover TTL) would count as invalid here. So: nearly the whole interval as the timeout, and
  // two failed probes in a row to go down (the primary's flap is still seen within ~200 ms).
  std::string config = R"(
server: { listen: ["127.0.0.1:0"], threads: 2 }
checks:
  web: { type: http, port: )" +
                       std::to_string(backends[0]->port()) +
                       R"(, interval: 100ms, timeout: 90ms, rise: 1, fall: 2 }
pools:
  app:
    check: web
    endpoints:
      - { address: 192.0.2.10, probe_address: 127.0.0.31, priority: 1 }
      - { address: 192.0.2.20, probe_address: 127.0.0.32, priority: 2 }
zones:
  - name: soak.test
    records:
      - { name: app, type: A, pool: app, ttl: 60, failover_ttl: 10 }
      - { name: www, type: A, value: 192.0.2.1 }
)";
  Understudy d(dir, config);
  uint16_t port = d.port();
  pid_t pid = d.process().pid();

  std::atomic<bool> stop{false};
  std::thread flapper([&] {
    bool up = true;
    while (!stop) {
      std::this_thread::sleep_for(500ms);  // the flap period itself, not a wait for a condition
      up = !up;
      if (up) {
        backends[0]->start();
      } else {
        backends[0]->stop();
      }
    }
    if (!up) backends[0]->start();
  });

  // 1,000 queries/s: one query every millisecond, each waited for (UDP on loopback answers in
  // microseconds; a missing answer within 1 s counts as lost).
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  long rss_start = -1;
  long rss_max = 0;
  uint64_t sent = 0, answered = 0, invalid = 0, primary = 0, secondary = 0;
  std::vector<std::string> invalid_examples;  // the first few, for the failure message
  auto noteInvalid = [&](const std::string& what) {
    ++invalid;
    if (invalid_examples.size() < 5) invalid_examples.push_back(what);
  };
  auto start = Clock::now();
  auto next = start;
  while (Clock::now() - start < std::chrono::seconds(seconds)) {
    QuerySpec q;
    q.id = static_cast<uint16_t>(sent);
    q.name = sent % 4 == 0 ? "www.soak.test." : "app.soak.test.";
    Bytes wire = buildQuery(q);
    ::sendto(fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    ++sent;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) == 1) {
      uint8_t buf[1500];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      auto m = parseWire(Bytes(buf, buf + std::max<ssize_t>(n, 0)));
      if (m && m->id == q.id && m->rcode == "NOERROR" && m->answer.size() == 1) {
        ++answered;
        const std::string& a = m->answer[0].rdata;
        if (a == "192.0.2.10" && m->answer[0].ttl == 60) {
          ++primary;
        } else if (a == "192.0.2.20" && m->answer[0].ttl == 10) {
          ++secondary;
        } else if (a != "192.0.2.1") {
          noteInvalid("query " + std::to_string(sent - 1) + ": " + m->answer[0].str());
        }
      } else {
        noteInvalid("query " + std::to_string(sent - 1) + ": " + (m ? m->str() : "unparsable"));
      }
    }
    if (sent == 5000) rss_start = rssKiB(pid);  // after warm-up
    if (sent % 1000 == 0) rss_max = std::max(rss_max, rssKiB(pid));
    next += 1ms;
    std::this_thread::sleep_until(next);
  }
  stop = true;
  flapper.join();
  ::close(fd);

  EXPECT_EQ(answered, sent) << (sent - answered) << " queries unanswered";
  std::string examples;
  for (const auto& e : invalid_examples) examples += "\n  " + e;
  EXPECT_EQ(invalid, 0u) << "first invalid answers:" << examples;
  EXPECT_GT(primary, 0u);
  EXPECT_GT(secondary, 0u) << "the flapping never showed: the test did not test anything";
  ASSERT_GT(rss_start, 0);
  // Bounded memory: whatever the daemon needs after warm-up, it must not keep adding to it.
  EXPECT_LT(rss_max - rss_start, 4096)
      << "RSS grew from " << rss_start << " KiB to " << rss_max << " KiB";
  std::printf(
      "[soak] %d s: %llu queries, all answered; %llu primary / %llu secondary answers; "
      "RSS %ld -> max %ld KiB\n",
      seconds, static_cast<unsigned long long>(sent), static_cast<unsigned long long>(primary),
      static_cast<unsigned long long>(secondary), rss_start, rss_max);
  EXPECT_TRUE(d.process().running());
}

}  // namespace
}  // namespace understudy::systest
