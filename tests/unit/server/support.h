// Helpers for the server unit tests: a compiled test zone, raw DNS queries, a UDP client, and a
// look at this process's threads through /proc (names, the system call they sleep in, their
// blocked signals). Nothing sleeps for a fixed time: waits poll until a deadline.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dirent.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/zone_builder.h"
#include "understudy/server/query_stats.h"
#include "understudy/zone/snapshot.h"

namespace understudy::server::test {

using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;

// www A `www` (and a TXT RRset too big for 512 octets at "big", for truncation).
inline std::shared_ptr<const zone::Snapshot> testSnapshot(const std::string& www = "192.0.2.1") {
  std::string text =
      "@    NS    ns1\n"
      "ns1  A     192.0.2.53\n"
      "www  A     " +
      www +
      "\n"
      // DNAME synthesis builds a name per query: the no-allocation test asks below it.
      "old  DNAME example.test.\n";
  for (int i = 0; i < 12; ++i) {
    text += "big  TXT   \"" + std::to_string(i) + std::string(60, 'x') + "\"\n";
  }
  return understudy::test::snapshotFromText("example.test", text);
}

// "www.example.test" -> wire format.
inline std::string wireName(const std::string& text) {
  std::string out;
  std::stringstream in(text);
  std::string label;
  while (std::getline(in, label, '.')) {
    out += static_cast<char>(label.size());
    out += label;
  }
  out += '\0';
  return out;
}

inline Bytes query(const std::string& name, uint16_t qtype, uint16_t id, bool edns = false) {
  std::string q;
  q += static_cast<char>(id >> 8);
  q += static_cast<char>(id & 0xff);
  q += std::string("\x01\x00\x00\x01\x00\x00\x00\x00\x00", 9);
  q += static_cast<char>(edns ? 1 : 0);
  q += wireName(name);
  q += static_cast<char>(qtype >> 8);
  q += static_cast<char>(qtype & 0xff);
  q += std::string("\x00\x01", 2);
  if (edns) q += std::string("\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00", 11);
  return Bytes(q.begin(), q.end());
}

inline uint16_t responseId(const Bytes& r) {
  return r.size() < 2 ? 0 : static_cast<uint16_t>(r[0] << 8 | r[1]);
}
inline int responseRcode(const Bytes& r) {
  return r.size() < 4 ? -1 : r[3] & 0x0f;
}
inline bool responseTruncated(const Bytes& r) {
  return r.size() >= 3 && (r[2] & 0x02) != 0;
}
inline uint16_t answerCount(const Bytes& r) {
  return r.size() < 8 ? 0 : static_cast<uint16_t>(r[6] << 8 | r[7]);
}
// The RDATA of a lone A answer (no EDNS): the last four octets.
inline std::string lastAddress(const Bytes& r) {
  if (r.size() < 16) return "";
  char text[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, r.data() + r.size() - 4, text, sizeof text);
  return text;
}

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t size = 0;
  int family() const { return addr.ss_family; }
};

// "127.0.0.1:5353" or "[::1]:5353", as Server::bound() reports them.
inline Endpoint parseEndpoint(const std::string& text) {
  Endpoint e;
  auto colon = text.rfind(':');
  uint16_t port = static_cast<uint16_t>(std::stoi(text.substr(colon + 1)));
  std::string host = text.substr(0, colon);
  if (!host.empty() && host[0] == '[') {
    auto* a = reinterpret_cast<sockaddr_in6*>(&e.addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a->sin6_addr);
    e.size = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&e.addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    inet_pton(AF_INET, host.c_str(), &a->sin_addr);
    e.size = sizeof(sockaddr_in);
  }
  return e;
}

// An unconnected UDP socket on an ephemeral port: every client is a new 4-tuple, so with
// SO_REUSEPORT the kernel hashes clients over all of a listen address's sockets.
class UdpClient {
 public:
  explicit UdpClient(int family) : fd_(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~UdpClient() { close(); }
  UdpClient(const UdpClient&) = delete;
  UdpClient& operator=(const UdpClient&) = delete;

  bool send(const Endpoint& to, const Bytes& bytes) const {
    return ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to.addr),
                    to.size) == static_cast<ssize_t>(bytes.size());
  }
  std::optional<Bytes> receive(std::chrono::milliseconds timeout = 2s) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
      if (r == 1) break;
      if (r < 0 && errno == EINTR) continue;  // a test's own signal
      return std::nullopt;
    }
    Bytes buf(65535);
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) return std::nullopt;
    buf.resize(static_cast<size_t>(n));
    return buf;
  }
  std::optional<Bytes> exchange(const Endpoint& to, const Bytes& q,
                                std::chrono::milliseconds timeout = 2s) const {
    if (!send(to, q)) return std::nullopt;
    return receive(timeout);
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

inline bool pollUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) return cond();
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

inline bool ipv6LoopbackWorks() {
  int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// ---------------------------------------------------------------------------------------------
// This process's threads

struct TaskInfo {
  pid_t tid = 0;
  std::string name;
};

inline std::string readProc(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<TaskInfo> threadsNamed(const std::string& prefix) {
  std::vector<TaskInfo> out;
  DIR* d = ::opendir("/proc/self/task");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string name = readProc(std::string("/proc/self/task/") + e->d_name + "/comm");
    while (!name.empty() && name.back() == '\n') name.pop_back();
    if (name.rfind(prefix, 0) == 0) out.push_back({std::stoi(e->d_name), name});
  }
  ::closedir(d);
  return out;
}

// The system call a thread sleeps in (first field of /proc/.../syscall), or -1 when running.
inline long sleepingIn(pid_t tid) {
  std::string s = readProc("/proc/self/task/" + std::to_string(tid) + "/syscall");
  if (s.empty() || s.rfind("running", 0) == 0) return -1;
  try {
    return std::stol(s);
  } catch (...) {
    return -1;
  }
}

// The thread's blocked-signal mask (SigBlk in /proc/.../status).
inline uint64_t blockedSignals(pid_t tid) {
  std::string s = readProc("/proc/self/task/" + std::to_string(tid) + "/status");
  auto at = s.find("SigBlk:");
  if (at == std::string::npos) return 0;
  return std::stoull(s.substr(at + 7), nullptr, 16);
}
inline bool blocks(uint64_t mask, int signo) {
  return (mask >> (signo - 1)) & 1;
}

inline uint64_t answersOf(const ThreadQueryStats& t, query::Transport p) {
  int i = p == query::Transport::kTcp ? 1 : 0;
  uint64_t sum = 0;
  for (const auto& byType : t.answers[i]) {
    for (const auto& c : byType) sum += c.load(std::memory_order_relaxed);
  }
  return sum;
}

}  // namespace understudy::server::test
