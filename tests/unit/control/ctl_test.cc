// `understudy ctl` finds the control endpoint the way the daemon binds it: the same parser of
// control.listen and the same default port (8053, docs/control.md), not HTTP's 80.
#include "understudy/control/ctl.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace understudy::control {
namespace {

namespace fs = std::filesystem;

// Answers one HTTP request on `address`:`port` with 200 and "{}", remembering its request line.
class OneShotServer {
 public:
  OneShotServer(const char* address, uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &sa.sin_addr);
    listening_ =
        ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(fd_, 4) == 0;
    if (listening_) thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  bool listening() const { return listening_; }
  std::string requestLine() {
    if (thread_.joinable()) thread_.join();
    return request_line_;
  }

 private:
  void serve() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return;
    int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      pollfd c{client, POLLIN, 0};
      if (::poll(&c, 1, 5000) <= 0) break;
      ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    request_line_ = request.substr(0, request.find("\r\n"));
    const std::string reply =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        "Connection: close\r\n\r\n{}";
    (void)!::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(client);
  }

  int fd_ = -1;
  bool listening_ = false;
  std::thread thread_;
  std::string request_line_;
};

class Ctl : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("understudy-ctl-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  // Runs ctl; returns its exit code, with what it printed in out_ and err_.
  int run(const std::string& config, const std::string& command = "status") {
    CtlOptions o;
    o.config_path = config;
    o.config_given = true;
    o.command = command;
    o.json = true;
    o.timeout_ms = 3000;
    std::FILE* out = std::tmpfile();
    std::FILE* err = std::tmpfile();
    int code = runCtl(o, out, err);
    out_ = slurp(out);
    err_ = slurp(err);
    return code;
  }
  static std::string slurp(std::FILE* f) {
    std::string text;
    std::rewind(f);
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
    return text;
  }
  fs::path dir_;
  std::string out_, err_;
};

TEST_F(Ctl, ControlListenWithoutAPortDialsTheDefault8053) {
  // An address of the loopback net nothing else uses, so port 8053 is free there.
  OneShotServer server("127.0.0.77", 8053);
  if (!server.listening()) GTEST_SKIP() << "cannot listen on 127.0.0.77:8053";
  std::string config = write("understudy.yaml", "control: { listen: 127.0.0.77 }\n");
  EXPECT_EQ(run(config), 0) << err_;
  EXPECT_EQ(server.requestLine(), "GET /status HTTP/1.1");
  EXPECT_EQ(out_, "{}\n");
}

TEST_F(Ctl, AnUnbracketedIpv6ControlListenIsAnError) {
  std::string config = write("understudy.yaml", "control: { listen: \"::1:8053\" }\n");
  EXPECT_EQ(run(config), 1);
  EXPECT_EQ(err_, "understudy ctl: " + config +
                      ": control.listen: an IPv6 address must be in brackets: write '[::1:8053]' "
                      "(address ::1:8053, port 8053), or '[::1]:8053' (address ::1, port 8053)\n");
}

TEST_F(Ctl, AConfigThatIsAFifoIsRefusedNotWaitedOn) {
  std::string config = (dir_ / "understudy.yaml").string();
  ASSERT_EQ(::mkfifo(config.c_str(), 0600), 0);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(run(config), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(err_,
            "understudy ctl: config file '" + config + "' is not a regular file (it is a FIFO)\n");
}

// ctl reads control.listen and control.token_file through the config loader, and nothing else of
// the file: an operator in the middle of editing zones or pools can still drain an endpoint.
TEST_F(Ctl, ProblemsElsewhereInTheConfigDoNotStopIt) {
  OneShotServer server("127.0.0.78", 8053);
  if (!server.listening()) GTEST_SKIP() << "cannot listen on 127.0.0.78:8053";
  std::string config = write("understudy.yaml",
                             "control: { listen: 127.0.0.78, hostnames: ['not a name'] }\n"
                             "zones:\n  - name: a..b\n    records: 5\n"
                             "unknown_key: 1\n");
  EXPECT_EQ(run(config), 0) << err_;
  EXPECT_EQ(server.requestLine(), "GET /status HTTP/1.1");
}

TEST_F(Ctl, ControlListenThatIsNotAStringIsNamedByKey) {
  std::string config = write("understudy.yaml", "control:\n  listen: [127.0.0.1, 8053]\n");
  EXPECT_EQ(run(config), 1);
  EXPECT_EQ(err_, "understudy ctl: " + config + ": control.listen: expected a string\n");
}

TEST_F(Ctl, AYamlSyntaxErrorNamesItsLine) {
  std::string config = write("understudy.yaml", "control:\n  listen: [127.0.0.1\n");
  EXPECT_EQ(run(config), 1);
  EXPECT_EQ(err_.rfind("understudy ctl: " + config + ":", 0), 0u) << err_;
}

TEST_F(Ctl, WithoutAControlSectionItAsksForAUrl) {
  std::string config = write("understudy.yaml", "log: { level: info }\n");
  EXPECT_EQ(run(config), 1);
  EXPECT_EQ(err_, "understudy ctl: " + config +
                      " has no control: section (the control endpoint is off); use --url\n");
}

TEST_F(Ctl, ARelativeTokenFileIsFoundBesideTheConfig) {
  std::string config =
      write("understudy.yaml", "control: { listen: 127.0.0.79, token_file: missing.token }\n");
  EXPECT_EQ(run(config, "reload"), 1);
  EXPECT_NE(err_.find((dir_ / "missing.token").string()), std::string::npos) << err_;
}

}  // namespace
}  // namespace understudy::control
