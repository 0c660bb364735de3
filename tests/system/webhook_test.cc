// Notifications end to end: the real daemon, a real backend that fails, and a webhook receiver
// started by the test that must get one call per transition with the right content.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "backend.h"
#include "harness.h"

namespace understudy::systest {
namespace {

// A minimal HTTP/1.1 receiver: answers every POST with 200 and keeps the JSON bodies.
class Receiver {
 public:
  Receiver() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  std::vector<nlohmann::json> bodies() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      serve(c);
      ::close(c);
    }
  }
  // One connection; curl may send several requests on it.
  void serve(int c) {
    std::string buf;
    while (!stop_) {
      size_t head_end = buf.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string head = lower(buf.substr(0, head_end));
        size_t cl = head.find("content-length:");
        size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 15));
        if (buf.size() >= head_end + 4 + length) {
          std::string body = buf.substr(head_end + 4, length);
          buf.erase(0, head_end + 4 + length);
          {
            std::lock_guard lock(mutex_);
            bodies_.push_back(nlohmann::json::parse(body, nullptr, false));
          }
          const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
          if (::send(c, ok, sizeof ok - 1, MSG_NOSIGNAL) < 0) return;
          continue;
        }
      }
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char chunk[4096];
      ssize_t n = ::recv(c, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buf.append(chunk, static_cast<size_t>(n));
    }
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<nlohmann::json> bodies_;
};

TEST(Webhook, OneCallPerTransitionWithTheRightContent) {
  TempDir dir;
  Receiver receiver;
  auto backends = httpBackendsOnOnePort({"127.0.0.41", "127.0.0.42"});
  std::string config = R"(
server: { listen: ["127.0.0.1:0"], threads: 1 }
notify:
  - { url: "http://127.0.0.1:)" +
                       std::to_string(receiver.port()) +
                       R"(/hook", format: generic, headers: { X-Test: yes } }
checks:
  web: { type: http, port: )" +
                       std::to_string(backends[0]->port()) +
                       R"(, interval: 200ms, timeout: 100ms, rise: 2, fall: 2 }
pools:
  app:
    check: web
    endpoints:
      - { address: 192.0.2.10, probe_address: 127.0.0.41, priority: 1 }
      - { address: 192.0.2.20, probe_address: 127.0.0.42, priority: 2 }
zones:
  - name: hook.test
    records:
      - { name: app, type: A, pool: app, ttl: 60, failover_ttl: 10 }
)";
  Understudy d(dir, config);
  backends[0]->status(503);
  auto health = [&](const std::string& to) {
    std::vector<nlohmann::json> out;
    for (const auto& b : receiver.bodies()) {
      if (b.value("event", "") == "health" && b.value("to", "") == to && !b.value("initial", true))
        out.push_back(b);
    }
    return out;
  };
  ASSERT_TRUE(pollUntil([&] { return health("down").size() == 1; }, 5s)) << d.process().log();
  auto down = health("down")[0];
  EXPECT_EQ(down["from"], "up");
  EXPECT_EQ(down["reason"], "HTTP 503 x2");
  EXPECT_EQ(down["check"], "web");
  EXPECT_EQ(down["address"], "127.0.0.41");
  EXPECT_EQ(down["endpoints"], nlohmann::json::array({"app/192.0.2.10"}));

  backends[0]->ok();
  ASSERT_TRUE(pollUntil([&] { return health("up").size() == 1; }, 5s)) << d.process().log();
  EXPECT_EQ(health("up")[0]["reason"], "HTTP 200 x2");

  // Exactly one call per transition (and the matching answer changes), no repeats.
  ASSERT_TRUE(pollUntil(
      [&] {
        int answers = 0;
        for (const auto& b : receiver.bodies()) answers += b.value("event", "") == "answer";
        return answers == 2;
      },
      5s));
  EXPECT_EQ(health("down").size(), 1u);
  EXPECT_EQ(health("up").size(), 1u);
  int failed_over = 0;
  for (const auto& b : receiver.bodies()) {
    if (b.value("event", "") == "answer") {
      EXPECT_EQ(b["record"], "app.hook.test. A");
      EXPECT_EQ(b["pool"], "app");
      failed_over += b["failed_over"].get<bool>();
    }
  }
  EXPECT_EQ(failed_over, 1);
}

TEST(Webhook, FailedReloadIsNotified) {
  TempDir dir;
  Receiver receiver;
  std::string good =
      "server: { listen: [\"127.0.0.1:0\"], threads: 1 }\nnotify:\n  - { url: "
      "\"http://127.0.0.1:" +
      std::to_string(receiver.port()) + "/hook\" }\nzones:\n  - name: r.test\n";
  Understudy d(dir, good);
  writeFile(d.configPath(), good + "    records: [ { name: www, type: A, value: nope } ]\n");
  d.process().signal(SIGHUP);
  ASSERT_TRUE(pollUntil(
      [&] {
        for (const auto& b : receiver.bodies()) {
          if (b.value("event", "") == "reload_failed") return true;
        }
        return false;
      },
      5s))
      << d.process().log();
  for (const auto& b : receiver.bodies()) {
    if (b.value("event", "") != "reload_failed") continue;
    ASSERT_EQ(b["errors"].size(), 1u);
    EXPECT_NE(b["errors"][0].get<std::string>().find("not a valid IPv4 address 'nope'"),
              std::string::npos)
        << b.dump();
  }
}

}  // namespace
}  // namespace understudy::systest
