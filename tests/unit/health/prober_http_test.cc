// HttpProber against real HTTP and HTTPS servers that each test starts on loopback: every way a
// backend can answer (or fail to) must map to one OutcomeKind, within the check's timeout.
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>  // Boost 1.74 Asio uses std::exchange without including it
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "../support/descriptors_exhausted.h"
#include "understudy/health/asio_prober.h"
#include "understudy/health/http_prober.h"

namespace understudy::health {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kTlsDir = std::string(UNDERSTUDY_TEST_DATA) + "/tls/";
constexpr size_t kHugeBodySize = 10 * 1024 * 1024;
constexpr size_t kNeedleOffset = 1024 * 1024;  // well past the 64 KiB the prober reads

// How a test backend behaves once a client connects.
enum class Mode {
  kOk,              // 200 "OK"
  kStatus503,       // 503 "down"
  kWrongBody,       // 200 "nothing to see"
  kHang,            // accepts, reads the request, never answers
  kHeadersForever,  // status line, then one header line every 100 ms, never the blank line
  kHugeBody,        // 200 with a 10 MB body: "OK", 'x's, and "NEEDLE" at 1 MiB
  kRedirect,        // 302 to the same path
  kReset,           // RST right after accept
  kEmptyReply,      // reads the request, closes without a byte
  kSlow,            // 200 "OK" after 300 ms
  kOkAfter50ms,     // 200 "OK" 50 ms after the request (time for onRequest's hook to act)
  kBadRequestNow,   // 400 before reading anything, as a plain-HTTP server answers a TLS hello
};

struct Request {
  std::string method;
  std::string target;
  std::string host;
  std::string head;  // request line and headers, verbatim
};

// A tiny HTTP/1.1 backend on its own thread and io_context, so nothing it does can block the
// prober's thread. Plain TCP, or TLS when given a certificate.
class TestServer {
 public:
  explicit TestServer(Mode mode, const std::string& address = "127.0.0.1",
                      const std::string& cert = "", uint16_t port = 0)
      : mode_(mode), acceptor_(io_, {asio::ip::make_address(address), port}) {
    if (!cert.empty()) {
      tls_.emplace(asio::ssl::context::tls_server);
      tls_->use_certificate_chain_file(kTlsDir + cert + ".pem");
      tls_->use_private_key_file(kTlsDir + cert + ".key", asio::ssl::context::pem);
      SSL_CTX_set_tlsext_servername_callback(tls_->native_handle(), &TestServer::onServerName);
      SSL_CTX_set_tlsext_servername_arg(tls_->native_handle(), this);
    }
    asio::co_spawn(io_, accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<std::string> serverNames() const {
    std::lock_guard lock(mutex_);
    return server_names_;
  }
  size_t connections() const { return connections_; }
  // Runs on the server's thread each time a request has been read, before it is answered.
  void onRequest(std::function<void()> hook) {
    std::lock_guard lock(mutex_);
    on_request_ = std::move(hook);
  }
  size_t bodyBytesSent() const { return body_bytes_sent_; }

 private:
  using Tls = asio::ssl::stream<asio::ip::tcp::socket>;

  static int onServerName(SSL* ssl, int*, void* self) {
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    auto* server = static_cast<TestServer*>(self);
    std::lock_guard lock(server->mutex_);
    if (name != nullptr) server->server_names_.emplace_back(name);
    return SSL_TLSEXT_ERR_OK;
  }

  asio::awaitable<void> accept() {
    for (;;) {
      auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
      ++connections_;
      asio::co_spawn(io_, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(asio::ip::tcp::socket socket) {
    try {
      if (mode_ == Mode::kReset) {
        socket.set_option(asio::socket_base::linger(true, 0));
        socket.close();
        co_return;
      }
      if (mode_ == Mode::kBadRequestNow) {
        co_await write(socket, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        // Keep reading until the client gives up, so our close never turns into a RST.
        for (char byte;;)
          co_await socket.async_read_some(asio::buffer(&byte, 1), asio::use_awaitable);
      }
      if (tls_) {
        Tls stream(std::move(socket), *tls_);
        co_await stream.async_handshake(Tls::server, asio::use_awaitable);
        co_await serve(stream);
      } else {
        co_await serve(socket);
      }
    } catch (const std::exception&) {
      // The client went away (or refused our certificate): nothing left to serve.
    }
  }

  template <typename Stream>
  asio::awaitable<void> serve(Stream& stream) {
    std::string head;
    co_await asio::async_read_until(stream, asio::dynamic_buffer(head), "\r\n\r\n",
                                    asio::use_awaitable);
    Request request = parse(head);
    std::function<void()> hook;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      hook = on_request_;
    }
    if (hook) hook();
    const bool head_only = request.method == "HEAD";
    asio::steady_timer timer(co_await asio::this_coro::executor);
    switch (mode_) {
      case Mode::kOk:
        co_await reply(stream, "200 OK", "OK", head_only);
        break;
      case Mode::kStatus503:
        co_await reply(stream, "503 Service Unavailable", "down", head_only);
        break;
      case Mode::kWrongBody:
        co_await reply(stream, "200 OK", "nothing to see", head_only);
        break;
      case Mode::kHang:
        for (char byte;;)
          co_await stream.async_read_some(asio::buffer(&byte, 1), asio::use_awaitable);
      case Mode::kHeadersForever:
        co_await write(stream, "HTTP/1.1 200 OK\r\n");
        for (int line = 0;; ++line) {
          timer.expires_after(100ms);
          co_await timer.async_wait(asio::use_awaitable);
          co_await write(stream, "X-Dribble: " + std::to_string(line) + "\r\n");
        }
      case Mode::kHugeBody:
        co_await sendHugeBody(stream);
        break;
      case Mode::kRedirect:
        co_await write(stream, "HTTP/1.1 302 Found\r\nLocation: " + request.target +
                                   "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        break;
      case Mode::kSlow:
        timer.expires_after(300ms);
        co_await timer.async_wait(asio::use_awaitable);
        co_await reply(stream, "200 OK", "OK", head_only);
        break;
      case Mode::kOkAfter50ms:
        timer.expires_after(50ms);
        co_await timer.async_wait(asio::use_awaitable);
        co_await reply(stream, "200 OK", "OK", head_only);
        break;
      case Mode::kEmptyReply:
      case Mode::kReset:
      case Mode::kBadRequestNow:
        break;
    }
  }

  template <typename Stream>
  static asio::awaitable<void> write(Stream& stream, const std::string& text) {
    co_await asio::async_write(stream, asio::buffer(text), asio::use_awaitable);
  }

  template <typename Stream>
  static asio::awaitable<void> reply(Stream& stream, const std::string& status,
                                     const std::string& body, bool head_only) {
    std::string text = "HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    // RFC 9110 §9.3.2: a HEAD response has the GET headers but no content.
    if (!head_only) text += body;
    co_await write(stream, text);
  }

  template <typename Stream>
  asio::awaitable<void> sendHugeBody(Stream& stream) {
    co_await write(stream, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(kHugeBodySize) +
                               "\r\nConnection: close\r\n\r\n");
    std::string chunk(64 * 1024, 'x');
    for (size_t offset = 0; offset < kHugeBodySize; offset += chunk.size()) {
      std::fill(chunk.begin(), chunk.end(), 'x');
      if (offset == 0) chunk.replace(0, 2, "OK");
      if (offset == kNeedleOffset) chunk.replace(0, 6, "NEEDLE");
      co_await asio::async_write(stream, asio::buffer(chunk), asio::use_awaitable);
      body_bytes_sent_ += chunk.size();
    }
  }

  static Request parse(const std::string& head) {
    Request request;
    request.head = head.substr(0, head.find("\r\n\r\n") + 2);
    auto space = head.find(' ');
    request.method = head.substr(0, space);
    request.target = head.substr(space + 1, head.find(' ', space + 1) - space - 1);
    for (size_t at = head.find("\r\n"); at != std::string::npos && at + 2 < head.size();) {
      size_t end = head.find("\r\n", at + 2);
      std::string line = head.substr(at + 2, end - at - 2);
      if (line.size() > 6 && (line.compare(0, 6, "Host: ") == 0)) request.host = line.substr(6);
      at = end;
    }
    return request;
  }

  Mode mode_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::optional<asio::ssl::context> tls_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  std::vector<std::string> server_names_;
  std::function<void()> on_request_;
  std::atomic<size_t> connections_{0};
  std::atomic<size_t> body_bytes_sent_{0};
};

struct Result {
  Outcome outcome;
  Clock::duration elapsed{};  // probe() to done, as the test saw it
  int calls = 0;
};

ProbeTarget target(CheckType type, uint16_t port, const std::string& address = "127.0.0.1") {
  ProbeTarget target;
  target.check.name = "web";
  target.check.type = type;
  target.check.port = port;
  target.check.timeout = 1000ms;
  target.address = address;
  return target;
}

class HttpProberTest : public ::testing::Test {
 protected:
  // Starts a probe whose result lands in `result`.
  void start(const ProbeTarget& probe_target, Result& result) {
    auto started = Clock::now();
    prober_->probe(probe_target, [&result, started](Outcome outcome) {
      result.outcome = std::move(outcome);
      result.elapsed = Clock::now() - started;
      ++result.calls;
    });
  }

  // Runs the io_context until `finished` holds or the (generous) deadline passes.
  void runUntil(const std::function<bool()>& finished, Clock::duration limit = 8s) {
    auto deadline = Clock::now() + limit;
    while (!finished() && Clock::now() < deadline) {
      io_.run_one_for(10ms);
      if (io_.stopped()) io_.restart();
    }
  }

  // Lets any stray second completion surface before a test checks `calls`.
  void drain() {
    io_.restart();
    io_.run_for(50ms);
  }

  Result probe(const ProbeTarget& probe_target) {
    Result result;
    start(probe_target, result);
    EXPECT_EQ(result.calls, 0) << "done must not run inside probe()";
    runUntil([&] { return result.calls > 0; });
    drain();
    EXPECT_EQ(result.calls, 1);
    EXPECT_LE(result.elapsed, probe_target.check.timeout + 200ms);
    EXPECT_GT(result.outcome.duration.count(), 0);
    return result;
  }

  asio::io_context io_;
  std::unique_ptr<HttpProber> prober_ = std::make_unique<HttpProber>(io_);
};

TEST_F(HttpProberTest, OkIsOk) {
  TestServer server(Mode::kOk);
  auto probe_target = target(CheckType::kHttp, server.port());
  probe_target.check.path = "/healthz";
  probe_target.check.expect_body = "OK";
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kOk) << result.outcome.detail;
  EXPECT_EQ(result.outcome.http_status, 200);
  EXPECT_EQ(result.outcome.detail, "HTTP 200");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "GET");
  EXPECT_EQ(server.requests()[0].target, "/healthz");
  EXPECT_EQ(server.requests()[0].host, "127.0.0.1:" + std::to_string(server.port()));
}

TEST_F(HttpProberTest, StatusOutsideExpectIsBadStatus) {
  TestServer server(Mode::kStatus503);
  Result result = probe(target(CheckType::kHttp, server.port()));
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kBadStatus);
  EXPECT_EQ(result.outcome.http_status, 503);
  EXPECT_EQ(result.outcome.detail, "HTTP 503");
}

TEST_F(HttpProberTest, ExpectStatusRangesAreHonoured) {
  TestServer server(Mode::kStatus503);
  auto probe_target = target(CheckType::kHttp, server.port());
  probe_target.check.expect_status = {{200, 299}, {503, 503}};
  EXPECT_EQ(probe(probe_target).outcome.kind, OutcomeKind::kOk);
}

TEST_F(HttpProberTest, MissingBodyTextIsBodyMismatch) {
  TestServer server(Mode::kWrongBody);
  auto probe_target = target(CheckType::kHttp, server.port());
  probe_target.check.expect_body = "OK";
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kBodyMismatch);
  EXPECT_EQ(result.outcome.http_status, 200);
  EXPECT_EQ(result.outcome.detail, "'OK' not in the first 14 body bytes");
}

TEST_F(HttpProberTest, HangingBackendTimesOut) {
  TestServer server(Mode::kHang);
  auto probe_target = target(CheckType::kHttp, server.port());
  probe_target.check.timeout = 300ms;
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kTimeout);
  EXPECT_EQ(result.outcome.detail, "no response");
  EXPECT_GE(result.elapsed, 300ms);
}

TEST_F(HttpProberTest, EndlessHeadersTimeOut) {
  TestServer server(Mode::kHeadersForever);
  auto probe_target = target(CheckType::kHttp, server.port());
  probe_target.check.timeout = 500ms;
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kTimeout);
  EXPECT_EQ(result.outcome.detail, "response incomplete");
  EXPECT_GE(result.elapsed, 500ms);
}

TEST_F(HttpProberTest, HugeBodyIsCutAt64KiB) {
  TestServer server(Mode::kHugeBody);
  auto probe_target = target(CheckType::kHttp, server.port());
  probe_target.check.expect_body = "OK";
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kOk) << result.outcome.detail;
  EXPECT_EQ(prober_->peakBodyBytes(), HttpProber::kMaxBody);
  // The prober hung up instead of draining the rest (kernel buffers may absorb a few MB).
  EXPECT_LT(server.bodyBytesSent(), kHugeBodySize);
}

TEST_F(HttpProberTest, BodyTextPastTheFirst64KiBIsNotSeen) {
  TestServer server(Mode::kHugeBody);
  auto probe_target = target(CheckType::kHttp, server.port());
  probe_target.check.expect_body = "NEEDLE";
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kBodyMismatch);
  EXPECT_EQ(result.outcome.detail, "'NEEDLE' not in the first 65536 body bytes");
  EXPECT_LE(prober_->peakBodyBytes(), HttpProber::kMaxBody);
}

TEST_F(HttpProberTest, RedirectIsJudgedNotFollowed) {
  TestServer server(Mode::kRedirect);
  auto probe_target = target(CheckType::kHttp, server.port());
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kOk);
  EXPECT_EQ(result.outcome.http_status, 302);
  EXPECT_EQ(server.requests().size(), 1u);

  probe_target.check.expect_status = {{200, 299}};
  result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kBadStatus);
  EXPECT_EQ(result.outcome.detail, "HTTP 302");
}

TEST_F(HttpProberTest, ResetAfterAcceptIsConnectFailed) {
  TestServer server(Mode::kReset);
  Result result = probe(target(CheckType::kHttp, server.port()));
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kConnectFailed);
  EXPECT_EQ(result.outcome.detail, "connection reset");
}

TEST_F(HttpProberTest, CloseWithoutAnswerIsEmptyReply) {
  TestServer server(Mode::kEmptyReply);
  Result result = probe(target(CheckType::kHttp, server.port()));
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kConnectFailed);
  EXPECT_EQ(result.outcome.detail, "empty reply");
}

TEST_F(HttpProberTest, ClosedPortIsConnectionRefused) {
  uint16_t port;
  {
    asio::ip::tcp::acceptor closed(io_, {asio::ip::make_address("127.0.0.1"), 0});
    port = closed.local_endpoint().port();
  }
  Result result = probe(target(CheckType::kHttp, port));
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kConnectFailed);
  EXPECT_EQ(result.outcome.detail, "connection refused");
}

// A host out of descriptors: curl cannot open the probe's socket and would call that "could not
// connect", as for a dead backend. It is a local failure: "not run", never counted against the
// backend.
TEST_F(HttpProberTest, NoDescriptorLeftIsNotRunNotAFailure) {
  TestServer server(Mode::kOk);
  Result result;
  {
    testing::DescriptorsExhausted exhausted;
    if (!exhausted.exhausted()) GTEST_SKIP() << exhausted.whyNot();
    result = probe(target(CheckType::kHttp, server.port()));
  }
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kNotRun) << result.outcome.detail;
  EXPECT_EQ(result.outcome.detail, "socket(): too many open files");
  EXPECT_TRUE(server.requests().empty());
  // Descriptors back: the same backend is measured again.
  EXPECT_EQ(probe(target(CheckType::kHttp, server.port())).outcome.kind, OutcomeKind::kOk);
}

// Loopback never drops packets; a listener with a full accept queue does (Linux drops the SYN),
// which is what a firewalled or dead host looks like. See prober_tcp_test.cc.
TEST_F(HttpProberTest, UnansweredConnectTimesOut) {
  asio::ip::tcp::acceptor listener(io_, asio::ip::tcp::v4());
  listener.bind({asio::ip::make_address("127.0.0.1"), 0});
  listener.listen(0);
  asio::ip::tcp::endpoint endpoint = listener.local_endpoint();
  std::vector<asio::ip::tcp::socket> fillers;
  bool full = false;
  for (int i = 0; i < 16 && !full; ++i) {
    asio::ip::tcp::socket socket(io_, endpoint.protocol());
    socket.non_blocking(true);
    (void)::connect(socket.native_handle(), endpoint.data(), endpoint.size());
    pollfd pfd{socket.native_handle(), POLLOUT, 0};
    full = ::poll(&pfd, 1, 200) == 0;
    if (!full) fillers.push_back(std::move(socket));
  }
  if (!full) GTEST_SKIP() << "this kernel does not drop SYNs to a full accept queue";

  auto probe_target = target(CheckType::kHttp, endpoint.port());
  probe_target.check.timeout = 300ms;
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kTimeout);
  EXPECT_EQ(result.outcome.detail, "connect timed out");
}

TEST_F(HttpProberTest, SlowButInTimeIsOk) {
  TestServer server(Mode::kSlow);
  Result result = probe(target(CheckType::kHttp, server.port()));
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kOk);
  EXPECT_GE(result.outcome.duration, 300ms);
}

// Issue 12: the prober's thread kept busy (a slow handler elsewhere on it) for three times the
// timeout must not turn a healthy backend's probe into a timeout. Once the thread is free, the
// answer is there to read; whether it is read (kOk) or the timeout was noticed first and not
// counted (kNotRun), it is never kTimeout.
void expectNotATimeout(const Result& result, uint64_t late_timeouts) {
  EXPECT_EQ(result.calls, 1);
  EXPECT_NE(result.outcome.kind, OutcomeKind::kTimeout) << result.outcome.detail;
  if (result.outcome.kind == OutcomeKind::kNotRun) {
    EXPECT_TRUE(std::regex_match(
        result.outcome.detail,
        std::regex("timeout judged [0-9]+ ms late \\(the health thread was busy\\): not counted")))
        << result.outcome.detail;
    EXPECT_EQ(late_timeouts, 1u);
  } else {
    EXPECT_EQ(result.outcome.kind, OutcomeKind::kOk) << result.outcome.detail;
  }
}

// Busy right after the request is handed to curl: curl's first step and the safety timer are
// both overdue when the thread comes back.
TEST_F(HttpProberTest, ThreadBusyRightAfterTheProbeStartsIsNotATimeout) {
  TestServer server(Mode::kOk);
  auto probe_target = target(CheckType::kHttp, server.port());
  probe_target.check.timeout = 150ms;
  Result result;
  start(probe_target, result);
  asio::post(io_, [] { std::this_thread::sleep_for(450ms); });
  runUntil([&] { return result.calls > 0; });
  drain();
  expectNotATimeout(result, prober_->lateTimeouts());
}

// Busy while the answer arrives: when the thread comes back the response is readable and curl's
// timeout is overdue, and curl checks its timeout before reading.
TEST_F(HttpProberTest, ThreadBusyWhileTheAnswerArrivesIsNotATimeout) {
  TestServer server(Mode::kOkAfter50ms);
  server.onRequest([this] { asio::post(io_, [] { std::this_thread::sleep_for(450ms); }); });
  auto probe_target = target(CheckType::kHttp, server.port());
  probe_target.check.timeout = 150ms;
  Result result;
  start(probe_target, result);
  runUntil([&] { return result.calls > 0; });
  drain();
  expectNotATimeout(result, prober_->lateTimeouts());
  EXPECT_EQ(server.requests().size(), 1u);
}

// The other side of the same rule: a backend that really is slow (answers after twice the
// timeout) on a thread that is not busy is still a timeout, described as before.
TEST_F(HttpProberTest, SlowBackendOnAnIdleThreadStillTimesOut) {
  TestServer server(Mode::kSlow);
  auto probe_target = target(CheckType::kHttp, server.port());
  probe_target.check.timeout = 150ms;
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kTimeout) << result.outcome.detail;
  EXPECT_EQ(result.outcome.detail, "no response");
  EXPECT_EQ(result.outcome.describe(probe_target.check), "timeout 150 ms");
  EXPECT_EQ(prober_->lateTimeouts(), 0u);
}

TEST_F(HttpProberTest, HeadReadsNoBody) {
  TestServer server(Mode::kOk);
  auto probe_target = target(CheckType::kHttp, server.port());
  probe_target.check.method = "HEAD";
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kOk);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "HEAD");
  EXPECT_EQ(prober_->peakBodyBytes(), 0u);
}

TEST_F(HttpProberTest, HostAndHeadersGoToTheTargetAddress) {
  TestServer server(Mode::kOk);
  auto probe_target = target(CheckType::kHttp, server.port());
  probe_target.check.host = "www.example.test";
  probe_target.check.headers = {{"X-Probe", "understudy"}};
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kOk) << result.outcome.detail;
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].host, "www.example.test:" + std::to_string(server.port()));
  EXPECT_NE(server.requests()[0].head.find("\r\nX-Probe: understudy\r\n"), std::string::npos);
}

// Two backends behind one name and port, probed at once: each probe must reach its own address,
// never one the other probe's name-to-address mapping points at.
TEST_F(HttpProberTest, SameHostOnTwoAddressesStaysApart) {
  TestServer up(Mode::kOk, "127.0.0.1");
  std::unique_ptr<TestServer> down;
  try {
    down = std::make_unique<TestServer>(Mode::kStatus503, "127.0.0.2", "", up.port());
  } catch (const std::exception&) {
    GTEST_SKIP() << "127.0.0.2 unavailable or the port is taken there";
  }
  std::vector<Result> results(20);
  for (size_t i = 0; i < results.size(); ++i) {
    auto probe_target = target(CheckType::kHttp, up.port(), i % 2 ? "127.0.0.2" : "127.0.0.1");
    probe_target.check.host = "backend.test";
    start(probe_target, results[i]);
  }
  runUntil([&] {
    return std::all_of(results.begin(), results.end(), [](auto& r) { return r.calls > 0; });
  });
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].outcome.http_status, i % 2 ? 503 : 200) << "probe " << i;
  }
  EXPECT_EQ(up.requests().size(), results.size() / 2);
  EXPECT_EQ(down->requests().size(), results.size() / 2);
}

TEST_F(HttpProberTest, Ipv6Loopback) {
  std::unique_ptr<TestServer> server;
  try {
    server = std::make_unique<TestServer>(Mode::kOk, "::1");
  } catch (const std::exception&) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  EXPECT_EQ(probe(target(CheckType::kHttp, server->port(), "::1")).outcome.kind, OutcomeKind::kOk);
  auto named = target(CheckType::kHttp, server->port(), "::1");
  named.check.host = "backend.test";
  EXPECT_EQ(probe(named).outcome.kind, OutcomeKind::kOk);
  EXPECT_EQ(server->requests().back().host, "backend.test:" + std::to_string(server->port()));
}

TEST_F(HttpProberTest, HangingBackendDoesNotDelayAGoodOne) {
  TestServer hang(Mode::kHang);
  TestServer good(Mode::kOk);
  auto slow_target = target(CheckType::kHttp, hang.port());
  slow_target.check.timeout = 2000ms;
  auto good_target = target(CheckType::kHttp, good.port());
  good_target.check.timeout = 2000ms;
  Result slow;
  Result fast;
  start(slow_target, slow);
  start(good_target, fast);
  runUntil([&] { return fast.calls > 0; });
  EXPECT_EQ(fast.outcome.kind, OutcomeKind::kOk);
  EXPECT_LT(fast.elapsed, 500ms);
  EXPECT_EQ(slow.calls, 0);
  runUntil([&] { return slow.calls > 0; });
  EXPECT_EQ(slow.outcome.kind, OutcomeKind::kTimeout);
  EXPECT_LE(slow.elapsed, 2200ms);
}

TEST_F(HttpProberTest, DestroyedWithProbesInFlightCallsNothing) {
  TestServer server(Mode::kHang);
  Result result;
  start(target(CheckType::kHttp, server.port()), result);
  runUntil([&] { return server.connections() > 0; }, 2s);
  prober_.reset();
  drain();
  EXPECT_EQ(result.calls, 0);
}

TEST_F(HttpProberTest, DoneMayDestroyTheProber) {
  TestServer server(Mode::kOk);
  int calls = 0;
  prober_->probe(target(CheckType::kHttp, server.port()), [&](Outcome outcome) {
    ++calls;
    EXPECT_TRUE(outcome.ok());
    prober_.reset();
  });
  runUntil([&] { return calls > 0; });
  drain();
  EXPECT_EQ(calls, 1);
}

TEST_F(HttpProberTest, ManyConcurrentProbesOnOneThread) {
  TestServer server(Mode::kSlow);
  std::vector<Result> results(1000);
  auto probe_target = target(CheckType::kHttp, server.port());
  probe_target.check.timeout = 5000ms;  // room for a slow (sanitizer) build; the server waits 300
  auto started = Clock::now();
  for (auto& result : results) start(probe_target, result);
  EXPECT_EQ(prober_->inFlight(), results.size());
  runUntil([&] {
    return std::all_of(results.begin(), results.end(), [](auto& r) { return r.calls > 0; });
  });
  // Concurrent, not one after another: 1000 x 300 ms in sequence would be five minutes.
  EXPECT_LT(Clock::now() - started, 4s);
  for (const auto& result : results) {
    EXPECT_EQ(result.calls, 1);
    EXPECT_EQ(result.outcome.kind, OutcomeKind::kOk) << result.outcome.detail;
  }
  EXPECT_EQ(prober_->inFlight(), 0u);
}

// --- HTTPS -------------------------------------------------------------------------------------

ProbeTarget httpsTarget(uint16_t port, const std::string& ca = "ca.pem") {
  auto probe_target = target(CheckType::kHttps, port);
  if (!ca.empty()) probe_target.check.ca_file = kTlsDir + ca;
  return probe_target;
}

TEST_F(HttpProberTest, HttpsVerifiedWithTheTestCa) {
  TestServer server(Mode::kOk, "127.0.0.1", "server");
  Result result = probe(httpsTarget(server.port()));
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kOk) << result.outcome.detail;
  EXPECT_TRUE(server.serverNames().empty()) << "RFC 6066 §3: no SNI for an IP literal";
}

TEST_F(HttpProberTest, HttpsSendsHostAsSniAndHostHeader) {
  TestServer server(Mode::kOk, "127.0.0.1", "server");
  auto probe_target = httpsTarget(server.port());
  probe_target.check.host = "backend.test";
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kOk) << result.outcome.detail;
  EXPECT_EQ(server.serverNames(), std::vector<std::string>{"backend.test"});
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].host, "backend.test:" + std::to_string(server.port()));
}

TEST_F(HttpProberTest, HttpsUnknownIssuerIsTlsError) {
  TestServer server(Mode::kOk, "127.0.0.1", "server");
  Result result = probe(httpsTarget(server.port(), ""));  // the system store lacks our CA
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kTlsError);
  EXPECT_EQ(result.outcome.detail,
            "certificate verify failed: unable to get local issuer certificate");
}

TEST_F(HttpProberTest, HttpsExpiredCertificate) {
  TestServer server(Mode::kOk, "127.0.0.1", "expired");
  auto probe_target = httpsTarget(server.port());
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kTlsError);
  EXPECT_EQ(result.outcome.detail, "certificate verify failed: certificate has expired");

  probe_target.check.tls_verify = false;
  EXPECT_EQ(probe(probe_target).outcome.kind, OutcomeKind::kOk);
}

TEST_F(HttpProberTest, HttpsWrongHostCertificate) {
  TestServer server(Mode::kOk, "127.0.0.1", "wrong_host");
  auto probe_target = httpsTarget(server.port());
  probe_target.check.host = "backend.test";
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kTlsError);
  EXPECT_EQ(result.outcome.detail, "certificate does not match host 'backend.test'");

  probe_target.check.tls_verify = false;
  EXPECT_EQ(probe(probe_target).outcome.kind, OutcomeKind::kOk);
}

TEST_F(HttpProberTest, HttpsToAPlainHttpBackendIsTlsError) {
  TestServer server(Mode::kBadRequestNow);
  Result result = probe(httpsTarget(server.port()));
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kTlsError);
  EXPECT_EQ(result.outcome.detail, "handshake failed: wrong version number");
}

TEST_F(HttpProberTest, HttpsToASilentBackendIsHandshakeTimeout) {
  TestServer server(Mode::kHang);  // plain TCP: reads the client hello, never answers it
  auto probe_target = httpsTarget(server.port());
  probe_target.check.timeout = 300ms;
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kTimeout);
  EXPECT_EQ(result.outcome.detail, "TLS handshake timed out");
}

TEST_F(HttpProberTest, HttpsMissingCaFileIsTlsError) {
  TestServer server(Mode::kOk, "127.0.0.1", "server");
  Result result = probe(httpsTarget(server.port(), "no-such-ca.pem"));
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kTlsError);
  EXPECT_EQ(result.outcome.detail, "cannot load CA file");
}

TEST_F(HttpProberTest, HttpsHangingBackendTimesOut) {
  TestServer server(Mode::kHang, "127.0.0.1", "server");
  auto probe_target = httpsTarget(server.port());
  probe_target.check.timeout = 300ms;
  Result result = probe(probe_target);
  EXPECT_EQ(result.outcome.kind, OutcomeKind::kTimeout);
  EXPECT_EQ(result.outcome.detail, "no response");
}

// --- AsioProber --------------------------------------------------------------------------------

TEST(AsioProberTest, DispatchesByCheckType) {
  asio::io_context io;
  AsioProber prober(io);
  TestServer server(Mode::kStatus503);
  std::vector<Outcome> outcomes;
  auto record = [&](Outcome outcome) { outcomes.push_back(std::move(outcome)); };
  prober.probe(target(CheckType::kHttp, server.port()), record);
  prober.probe(target(CheckType::kTcp, server.port()), record);
  io.run_for(3s);
  ASSERT_EQ(outcomes.size(), 2u);
  // Only the HTTP probe sees the 503; the TCP probe only sees a listening port.
  std::sort(outcomes.begin(), outcomes.end(),
            [](const Outcome& a, const Outcome& b) { return a.kind < b.kind; });
  EXPECT_EQ(outcomes[0].kind, OutcomeKind::kOk);
  EXPECT_EQ(outcomes[1].kind, OutcomeKind::kBadStatus);
  EXPECT_EQ(prober.inFlight(), 0u);
}

}  // namespace
}  // namespace understudy::health
