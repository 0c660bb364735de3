// Running as a service: the systemd unit, and the sd_notify conversation with the real daemon
// (READY, RELOADING + MONOTONIC_USEC, READY, STOPPING, and WATCHDOG pings), captured on a
// datagram socket the test owns.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"

namespace understudy::systest {
namespace {

std::string unitForBuild(const TempDir& dir) {
  std::string unit = readFile(std::string(UNDERSTUDY_SOURCE_DIR) + "/systemd/understudy.service");
  // systemd-analyze checks that the binaries exist: point them at the one just built.
  std::string binary = understudyBinary();
  size_t at = 0;
  while ((at = unit.find("/usr/sbin/understudy", at)) != std::string::npos) {
    unit.replace(at, 20, binary);
    at += binary.size();
  }
  return dir.write("understudy.service", unit);
}

TEST(SystemdUnit, VerifiesWithoutAnyWarning) {
  TempDir dir;
  std::string unit = unitForBuild(dir);
  CommandResult r = runCommand({"systemd-analyze", "verify", unit}, std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Unknown keys are only warnings for systemd-analyze; for us they are failures.
  EXPECT_EQ(r.err, "") << r.err;
}

TEST(SystemdUnit, IsTypeNotifyWithReloadWatchdogAndOnlyBindCapability) {
  std::string unit = readFile(std::string(UNDERSTUDY_SOURCE_DIR) + "/systemd/understudy.service");
  for (const char* line :
       {"Type=notify", "ExecStartPre=/usr/sbin/understudy check -c",
        "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
        "AmbientCapabilities=CAP_NET_BIND_SERVICE\n",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n", "NoNewPrivileges=yes",
        "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
        "RestrictAddressFamilies=", "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=yes", "LockPersonality=yes",
        "WatchdogSec=", "StateDirectory=understudy", "DynamicUser=yes"}) {
    EXPECT_NE(unit.find(line), std::string::npos) << "missing: " << line;
  }
}

TEST(SystemdUnit, SandboxExposureIsLow) {
  TempDir dir;
  std::string unit = unitForBuild(dir);
  CommandResult r = runCommand({"systemd-analyze", "security", "--offline=yes", "--no-pager", unit},
                               std::chrono::seconds(30));
  std::smatch m;
  std::string all = r.out + r.err;
  ASSERT_TRUE(std::regex_search(all, m, std::regex("exposure level for [^:]+: ([0-9.]+)"))) << all;
  // systemd rates 0..10; below 2.0 is "OK" territory, where hardened daemons sit.
  EXPECT_LT(std::stod(m[1]), 2.0) << all;
}

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    ::unlink(path.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "bind " << path << ": " << std::strerror(errno);
    }
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  // Every message received so far (non-blocking drain), appended to `all`.
  void drain() {
    char buf[4096];
    while (true) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      all.emplace_back(buf, static_cast<size_t>(n));
    }
  }
  // Waits until a message containing `needle` arrives after index `from`; returns its index.
  std::optional<size_t> waitFor(const std::string& needle, size_t from = 0,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::optional<size_t> found;
    pollUntil(
        [&] {
          drain();
          for (size_t i = from; i < all.size(); ++i) {
            if (all[i].find(needle) != std::string::npos) {
              found = i;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }
  size_t count(const std::string& needle) {
    drain();
    size_t n = 0;
    for (const auto& m : all) n += m.find(needle) != std::string::npos;
    return n;
  }
  std::vector<std::string> all;

 private:
  std::string path_;
  int fd_ = -1;
};

TEST(Notify, ReadyReloadingReadyStoppingAndWatchdog) {
  TempDir dir;
  NotifySocket notify(dir.file("notify.sock"));
  ::setenv("NOTIFY_SOCKET", dir.file("notify.sock").c_str(), 1);
  ::setenv("WATCHDOG_USEC", "300000", 1);  // pings expected every 150 ms
  std::string config = R"(
server: { listen: ["127.0.0.1:0"], threads: 1 }
zones:
  - name: n.test
    records:
      - { name: www, type: A, value: 192.0.2.1 }
)";
  Understudy d(dir, config);
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");

  auto ready = notify.waitFor("READY=1");
  ASSERT_TRUE(ready) << d.process().log();
  EXPECT_NE(notify.all[*ready].find("STATUS=serving 1 zone"), std::string::npos)
      << notify.all[*ready];

  // The watchdog keeps pinging while the control thread is alive.
  EXPECT_TRUE(pollUntil([&] { return notify.count("WATCHDOG=1") >= 4; }, std::chrono::seconds(5)))
      << notify.count("WATCHDOG=1") << " pings";

  d.process().signal(SIGHUP);
  auto reloading = notify.waitFor("RELOADING=1", *ready + 1);
  ASSERT_TRUE(reloading) << d.process().log();
  EXPECT_TRUE(std::regex_search(notify.all[*reloading], std::regex("MONOTONIC_USEC=[0-9]+")))
      << notify.all[*reloading];
  auto ready_again = notify.waitFor("READY=1", *reloading + 1);
  ASSERT_TRUE(ready_again) << d.process().log();

  int status = d.process().stop();
  EXPECT_EQ(status, 0) << d.process().log();
  auto stopping = notify.waitFor("STOPPING=1", *ready_again + 1, std::chrono::seconds(2));
  EXPECT_TRUE(stopping);
}

TEST(Notify, WatchdogIsSilentWithoutWatchdogUsec) {
  TempDir dir;
  NotifySocket notify(dir.file("notify.sock"));
  ::setenv("NOTIFY_SOCKET", dir.file("notify.sock").c_str(), 1);
  Understudy d(dir,
               "server: { listen: [\"127.0.0.1:0\"], threads: 1 }\nzones:\n  - name: q.test\n");
  ::unsetenv("NOTIFY_SOCKET");
  ASSERT_TRUE(notify.waitFor("READY=1"));
  // Give it the time several pings would take, measured by a reload round trip.
  d.process().signal(SIGHUP);
  ASSERT_TRUE(notify.waitFor("RELOADING=1"));
  ASSERT_TRUE(notify.waitFor("READY=1", 1));
  EXPECT_EQ(notify.count("WATCHDOG=1"), 0u);
}

}  // namespace
}  // namespace understudy::systest

namespace understudy::systest {
namespace {

TEST(Listen, ASecondServerOnTheSameAddressIsRefusedNotShared) {
  TempDir dir;
  Understudy first(dir,
                   "server: { listen: [\"127.0.0.1:0\"], threads: 2 }\nzones:\n  - name: a.test\n");
  uint16_t port = first.port();
  std::string config =
      dir.write("second.yaml", "server: { listen: [\"127.0.0.1:" + std::to_string(port) +
                                   "\"] }\nzones:\n  - name: b.test\n");
  Process second({understudyBinary(), "-c", config}, dir.file("second.log"));
  auto status = second.waitExit(5s);
  ASSERT_TRUE(status) << second.log();
  EXPECT_EQ(*status, 1);
  EXPECT_NE(second.log().find("cannot bind UDP 127.0.0.1:" + std::to_string(port) +
                              ": Address already in use"),
            std::string::npos)
      << second.log();
  // The first one still answers everything itself.
  QuerySpec q;
  q.name = "a.test.";
  q.type = 6;
  for (int i = 0; i < 20; ++i) {
    auto wire = udpExchange("127.0.0.1", port, buildQuery(q));
    ASSERT_TRUE(wire);
    auto m = parseWire(*wire);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->rcode, "NOERROR");
  }
}

}  // namespace
}  // namespace understudy::systest
