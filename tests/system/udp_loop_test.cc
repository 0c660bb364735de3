// The UDP serving loop of the real daemon: one thread per UDP socket (listen addresses x
// threads), each blocked in recvmmsg. Every address and thread answers, clients that vanish
// before their answer cost nothing, and signals still reach the daemon while every UDP thread
// sleeps: SIGHUP reloads, SIGTERM stops within 2 s.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "harness.h"

namespace understudy::systest {
namespace {

bool ipv6Loopback() {
  int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  ::close(fd);
  return runCommand({"ip", "-6", "addr", "show", "dev", "lo"}).out.find("::1") != std::string::npos;
}

std::string config(const std::vector<std::string>& listen, unsigned threads,
                   const std::string& www) {
  std::string out = "server:\n  listen: [";
  for (size_t i = 0; i < listen.size(); ++i) out += (i ? ", \"" : "\"") + listen[i] + "\"";
  out +=
      "]\n  threads: " + std::to_string(threads) +
      "\nzones:\n  - name: u.test\n    records:\n      - { name: www, type: A, ttl: 60, value: " +
      www + " }\n";
  return out;
}

void rewrite(const Understudy& d, const std::string& text) {
  std::string tmp = d.configPath() + ".new";
  writeFile(tmp, text);
  ASSERT_EQ(std::rename(tmp.c_str(), d.configPath().c_str()), 0);
}

// The A record answered for www.u.test on address:port (from a fresh source port), or why not.
std::string www(const std::string& address, uint16_t port, uint16_t id = 0x4242) {
  QuerySpec q;
  q.name = "www.u.test.";
  q.id = id;
  auto wire = udpExchange(address, port, buildQuery(q));
  if (!wire) return "<no answer>";
  auto m = parseWire(*wire);
  if (!m) return "<unparsable>";
  if (m->id != id) return "<wrong id>";
  if (m->rcode != "NOERROR" || m->answer.size() != 1) return m->rcode;
  return m->answer[0].rdata;
}

struct Task {
  std::string tid;
  std::string name;
};

std::vector<Task> tasks(pid_t pid) {
  std::vector<Task> out;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string name = readFile(dir + "/" + e->d_name + "/comm");
    while (!name.empty() && name.back() == '\n') name.pop_back();
    out.push_back({e->d_name, name});
  }
  ::closedir(d);
  return out;
}

std::set<std::string> namesWithPrefix(pid_t pid, const std::string& prefix) {
  std::set<std::string> out;
  for (const auto& t : tasks(pid)) {
    if (t.name.rfind(prefix, 0) == 0) out.insert(t.name);
  }
  return out;
}

// True once every "udp-N" thread of the daemon sleeps in recvmmsg (when /proc lets us see it;
// without ptrace rights on the child, the syscall file is empty and we only wait a little).
bool udpThreadsAsleep(pid_t pid) {
  auto all = tasks(pid);
  bool any = false;
  for (const auto& t : all) {
    if (t.name.rfind("udp-", 0) != 0) continue;
    any = true;
    std::string s;
    try {
      s = readFile("/proc/" + std::to_string(pid) + "/task/" + t.tid + "/syscall");
    } catch (...) {
      return true;
    }
    if (s.empty()) return true;
    if (s.rfind("running", 0) == 0) return false;
    try {
      if (std::stol(s) != SYS_recvmmsg) return false;
    } catch (...) {
      return false;
    }
  }
  return any;
}

std::set<std::string> expected(const std::string& prefix, size_t n) {
  std::set<std::string> out;
  for (size_t i = 0; i < n; ++i) out.insert(prefix + std::to_string(i));
  return out;
}

TEST(UdpLoop, EveryListenAddressAndEveryThreadAnswers) {
  std::vector<std::string> listen = {"127.0.0.1:0", "127.0.0.2:0"};
  if (ipv6Loopback()) listen.push_back("[::1]:0");
  TempDir dir;
  Understudy d(dir, config(listen, 2, "192.0.2.1"));
  pid_t pid = d.process().pid();
  // Two UDP threads per listen address, two TCP threads.
  EXPECT_EQ(namesWithPrefix(pid, "udp-"), expected("udp-", 2 * listen.size()));
  EXPECT_EQ(namesWithPrefix(pid, "tcp-"), expected("tcp-", 2));

  size_t udp_listeners = 0;
  for (const auto& l : d.listeners()) {
    if (l.proto != "udp") continue;
    ++udp_listeners;
    SCOPED_TRACE(l.address);
    // Each query from a new source port: SO_REUSEPORT spreads them over both sockets.
    for (uint16_t i = 0; i < 40; ++i) {
      ASSERT_EQ(www(l.address, l.port, static_cast<uint16_t>(0x100 + i)), "192.0.2.1");
    }
  }
  EXPECT_EQ(udp_listeners, listen.size());
  EXPECT_EQ(d.process().stop(), 0);
}

TEST(UdpLoop, ClientsGoneBeforeTheirAnswerDoNotStopServing) {
  TempDir dir;
  Understudy d(dir, config({"127.0.0.1:0"}, 2, "192.0.2.1"));
  uint16_t port = d.port();
  QuerySpec q;
  q.name = "www.u.test.";
  Bytes query = buildQuery(q);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int round = 0; round < 5; ++round) {
    // Each reply goes to a closed port: ICMP port unreachable comes back to the server.
    for (int i = 0; i < 100; ++i) {
      int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
      ::close(fd);
    }
    for (uint16_t i = 0; i < 20; ++i) {
      ASSERT_EQ(www("127.0.0.1", port, static_cast<uint16_t>(round * 100 + i)), "192.0.2.1")
          << "round " << round;
    }
  }
  EXPECT_TRUE(d.process().running());
  EXPECT_EQ(d.process().stop(), 0);
}

TEST(UdpLoop, SighupReloadsAndSigtermStopsWhileEveryUdpThreadSleeps) {
  TempDir dir;
  Understudy d(dir, config({"127.0.0.1:0", "127.0.0.2:0"}, 2, "192.0.2.1"));
  uint16_t port = d.port();
  pid_t pid = d.process().pid();
  ASSERT_EQ(www("127.0.0.1", port), "192.0.2.1");

  for (const char* next : {"192.0.2.2", "192.0.2.3"}) {
    ASSERT_TRUE(pollUntil([&] { return udpThreadsAsleep(pid); }, 5s));
    rewrite(d, config({"127.0.0.1:0", "127.0.0.2:0"}, 2, next));
    d.process().signal(SIGHUP);
    ASSERT_TRUE(pollUntil([&] { return www("127.0.0.1", port) == next; }, 5s)) << d.process().log();
  }
  for (const auto& l : d.listeners()) {
    if (l.proto != "udp") continue;
    EXPECT_EQ(www(l.address, l.port), "192.0.2.3") << l.address;
  }

  ASSERT_TRUE(pollUntil([&] { return udpThreadsAsleep(pid); }, 5s));
  auto t0 = Clock::now();
  d.process().signal(SIGTERM);
  auto status = d.process().waitExit(2s);
  ASSERT_TRUE(status) << "still running 2 s after SIGTERM";
  EXPECT_EQ(*status, 0);
  EXPECT_LT(Clock::now() - t0, 1s) << "the UDP threads were slow to stop";
}

}  // namespace
}  // namespace understudy::systest
