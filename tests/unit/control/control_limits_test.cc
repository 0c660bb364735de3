// The control endpoint's connection limits and timeouts (issue 12), on a real loopback socket
// with small limits: a per-client cap beside the global one, a deadline for the request header,
// an idle timeout between kept-alive requests, and every refusal counted in /metrics.
#include "understudy/control/control_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "loopback_peers.h"

namespace understudy::control {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class NoSources : public Sources {
 public:
  std::shared_ptr<const Status> status() const override { return std::make_shared<const Status>(); }
  const zone::SnapshotHolder& snapshots() const override { return holder_; }
  const server::Server* server() const override { return nullptr; }
  void changeOverride(
      failover::OverrideChange,
      std::function<void(std::optional<failover::OverrideChangeResult>)> done) override {
    done(std::nullopt);
  }
  void reload(std::string, std::function<void(ReloadAnswer)> done) override {
    done({true, "reload started"});
  }

 private:
  zone::SnapshotHolder holder_;
};

// A blocking TCP client bound to a chosen loopback source address, so that one test can be
// several clients.
class Client {
 public:
  Client(const std::string& source, uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Everything received until the server closes or `timeout` passes; `closed` says which.
  std::string readUntilClosed(std::chrono::milliseconds timeout, bool* closed = nullptr) {
    std::string out;
    auto deadline = Clock::now() + timeout;
    if (closed) *closed = false;
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed) *closed = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // One response on a kept-alive connection: reads until Content-Length bytes of body are in.
  std::string readResponse(std::chrono::milliseconds timeout = 2s) {
    std::string out;
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      size_t end = out.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t at = out.find("Content-Length: ");
        if (at != std::string::npos && out.size() >= end + 4 + std::stoul(out.substr(at + 16))) {
          return out;
        }
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
};

std::string get(const std::string& target, const std::string& host = "127.0.0.1") {
  return "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
}

std::string status(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

// The value of one sample in a /metrics response, or -1.
double sample(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

class ControlServerLimits : public ::testing::Test {
 protected:
  // Clients here are told apart by their loopback address (127.0.0.1, 127.0.0.2, ...), all of
  // them this test's user: LocalUsersAreToldApart turns counting by user back on.
  void start(ServerLimits limits, unsigned per_client = 8) {
    limits.local_clients_by_user = by_user_;
    config::ControlConfig config;
    config.enabled = true;
    config.address = "127.0.0.1";
    config.port = 0;
    config.max_connections_per_client = per_client;
    server_ = std::make_unique<ControlServer>(io_, sources_, config, limits);
    server_->start();
    std::string bound = server_->boundAddress();
    port_ = static_cast<uint16_t>(std::stoul(bound.substr(bound.rfind(':') + 1)));
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (server_) boost::asio::post(io_, [this] { server_->stop(); });
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }

  std::string metrics(const std::string& source = "127.0.0.9") {
    Client c(source, port_);
    c.send(get("/metrics"));
    return c.readResponse();
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  NoSources sources_;
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  bool by_user_ = false;
};

TEST_F(ControlServerLimits, OneClientAddressCannotTakeEveryConnection) {
  start({}, 3);
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<Client>("127.0.0.1", port_));
    ASSERT_TRUE(held.back()->connected());
  }
  // They send nothing: wait until the server has accepted all three (plus the one asking).
  std::string m;
  for (auto deadline = Clock::now() + 2s; Clock::now() < deadline;) {
    m = metrics();
    if (sample(m, "understudy_control_connections") == 4) break;  // three held, one asking
  }
  ASSERT_EQ(sample(m, "understudy_control_connections"), 4) << m;

  Client fourth("127.0.0.1", port_);
  bool closed = false;
  std::string refused = fourth.readUntilClosed(2s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(status(refused), "HTTP/1.1 429 Too Many Requests") << refused;
  EXPECT_NE(refused.find("3 connections from 127.0.0.1 are open "
                         "(control.max_connections_per_client)"),
            std::string::npos)
      << refused;

  // Another client is served meanwhile.
  Client other("127.0.0.2", port_);
  ASSERT_TRUE(other.send(get("/metrics")));
  m = other.readResponse();
  EXPECT_EQ(status(m), "HTTP/1.1 200 OK") << m;
  EXPECT_EQ(sample(m, "understudy_control_refused_total{reason=\"per_client\"}"), 1) << m;
  EXPECT_EQ(sample(m, "understudy_control_refused_total{reason=\"global\"}"), 0) << m;

  // A connection given back makes room for the same address again.
  held.pop_back();
  std::string again;
  for (auto deadline = Clock::now() + 2s; Clock::now() < deadline;) {
    Client c("127.0.0.1", port_);
    c.send(get("/status"));
    again = c.readResponse();
    if (status(again) == "HTTP/1.1 200 OK") break;
  }
  EXPECT_EQ(status(again), "HTTP/1.1 200 OK") << again;
}

TEST_F(ControlServerLimits, TheGlobalCapStillHolds) {
  ServerLimits limits;
  limits.max_connections = 4;
  start(limits, 2);
  std::vector<std::unique_ptr<Client>> held;
  for (const char* source : {"127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2"}) {
    held.push_back(std::make_unique<Client>(source, port_));
  }
  Client fifth("127.0.0.3", port_);
  bool closed = false;
  std::string refused = fifth.readUntilClosed(2s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(status(refused), "HTTP/1.1 503 Service Unavailable") << refused;
  held.clear();
  std::string m;
  for (auto deadline = Clock::now() + 2s; Clock::now() < deadline;) {
    m = metrics();
    if (status(m) == "HTTP/1.1 200 OK") break;
  }
  // At least the fifth; a poll that came before the server saw the closes counts too.
  EXPECT_GE(sample(m, "understudy_control_refused_total{reason=\"global\"}"), 1) << m;
  EXPECT_EQ(sample(m, "understudy_control_refused_total{reason=\"per_client\"}"), 0) << m;
}

TEST_F(ControlServerLimits, AHeaderSentSlowlyIsCutOffAtTheHeaderDeadline) {
  ServerLimits limits;
  limits.header_timeout = 400ms;
  start(limits);
  Client slow("127.0.0.1", port_);
  const std::string request = get("/metrics");
  auto begin = Clock::now();
  bool closed = false;
  // One byte every 50 ms: each read is quick, but the header is never complete in time.
  for (size_t i = 0; i + 2 < request.size() && !closed; ++i) {
    if (!slow.send(request.substr(i, 1))) break;
    slow.readUntilClosed(50ms, &closed);
  }
  if (!closed) slow.readUntilClosed(2s, &closed);
  auto took = Clock::now() - begin;
  EXPECT_TRUE(closed);
  EXPECT_GE(took, 350ms);
  EXPECT_LT(took, 1500ms);

  // Silence from the start is cut off the same way.
  Client silent("127.0.0.1", port_);
  begin = Clock::now();
  silent.readUntilClosed(3s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(Clock::now() - begin, 1500ms);

  std::string m = metrics();
  EXPECT_EQ(sample(m, "understudy_control_refused_total{reason=\"timeout\"}"), 2) << m;
}

TEST_F(ControlServerLimits, AKeptAliveConnectionIsClosedWhenIdle) {
  ServerLimits limits;
  limits.idle_timeout = 300ms;
  start(limits);
  Client c("127.0.0.1", port_);
  ASSERT_TRUE(c.send(get("/status")));
  EXPECT_EQ(status(c.readResponse()), "HTTP/1.1 200 OK");
  // Within the idle timeout, the connection serves the next request...
  ASSERT_TRUE(c.send(get("/status")));
  EXPECT_EQ(status(c.readResponse()), "HTTP/1.1 200 OK");
  // ... and then it is closed, without counting as a refusal.
  auto begin = Clock::now();
  bool closed = false;
  c.readUntilClosed(3s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_GE(Clock::now() - begin, 250ms);
  EXPECT_LT(Clock::now() - begin, 1500ms);
  std::string m = metrics();
  EXPECT_EQ(sample(m, "understudy_control_refused_total{reason=\"timeout\"}"), 0) << m;
}

// Local users all connect from 127.0.0.1: the kernel's socket diagnostics tell them apart, so
// one local user holding connections does not lock out another (Prometheus, `ctl`).
TEST(LoopbackPeers, NameTheUserOwningTheClientSocket) {
  LoopbackPeers peers;
  if (!peers.available()) GTEST_SKIP() << "no NETLINK_SOCK_DIAG here";
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  uint16_t port = acceptor.local_endpoint().port();
  Client client("127.0.0.1", port);
  ASSERT_TRUE(client.connected());
  boost::asio::ip::tcp::socket accepted(io);
  acceptor.accept(accepted);
  EXPECT_EQ(peers.uid(accepted.local_endpoint(), accepted.remote_endpoint()), getuid());
  // Not a connection on this host: nothing to say.
  EXPECT_FALSE(
      peers.uid(accepted.local_endpoint(),
                boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("192.0.2.1"), 4242)));
}

// A child process running as `nobody` holds connections from 127.0.0.1 until told to stop.
class OtherUserConnections {
 public:
  OtherUserConnections(uint16_t port, int count) {
    int ready[2], done[2];
    if (pipe(ready) != 0 || pipe(done) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      // Only system calls from here: the parent has threads.
      ::close(ready[0]);
      ::close(done[1]);
      if (setgid(65534) != 0 || setuid(65534) != 0) _exit(1);
      for (int i = 0; i < count; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) _exit(2);
      }
      char c = 1;
      if (write(ready[1], &c, 1) != 1) _exit(3);
      (void)!read(done[0], &c, 1);  // until the parent closes its end
      _exit(0);
    }
    ::close(ready[1]);
    ::close(done[0]);
    done_ = done[1];
    char c = 0;
    ok_ = pid_ > 0 && read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
  }
  ~OtherUserConnections() {
    if (done_ >= 0) ::close(done_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  bool ok() const { return ok_; }

 private:
  pid_t pid_ = -1;
  int done_ = -1;
  bool ok_ = false;
};

TEST_F(ControlServerLimits, LocalUsersAreToldApart) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to connect as another user";
  if (!LoopbackPeers().available()) GTEST_SKIP() << "no NETLINK_SOCK_DIAG here";
  by_user_ = true;
  start({}, 3);
  OtherUserConnections nobody(port_, 10);  // 3 held, 7 refused
  ASSERT_TRUE(nobody.ok());
  std::string m;
  for (auto deadline = Clock::now() + 2s; Clock::now() < deadline;) {
    m = metrics("127.0.0.1");  // from the same address, as root
    if (sample(m, "understudy_control_refused_total{reason=\"per_client\"}") == 7) break;
  }
  EXPECT_EQ(status(m), "HTTP/1.1 200 OK") << m;
  EXPECT_EQ(sample(m, "understudy_control_refused_total{reason=\"per_client\"}"), 7) << m;
  EXPECT_EQ(sample(m, "understudy_control_connections"), 4) << m;
  // And root's own cap is its own, whichever loopback addresses root connects from: more
  // addresses do not buy a local user more connections.
  std::vector<std::unique_ptr<Client>> held;
  for (const char* source : {"127.0.0.1", "127.0.0.2", "127.0.0.3"}) {
    held.push_back(std::make_unique<Client>(source, port_));
  }
  Client fourth("127.0.0.4", port_);
  std::string refused = fourth.readUntilClosed(2s);
  EXPECT_NE(refused.find("3 connections from local uid 0 are open"), std::string::npos) << refused;
}

}  // namespace
}  // namespace understudy::control
