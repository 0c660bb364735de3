// Helpers for the control unit tests: a Sources double whose reads a test can make throw, a
// ControlServer on its own io_context thread (run the way the daemon runs its control thread),
// and a blocking HTTP client.
#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "../support/log_capture.h"
#include "understudy/control/control_server.h"
#include "understudy/control/run_loop.h"
#include "understudy/control/sources.h"

namespace understudy::control::test {

// Reads nothing but an empty Status, an empty snapshot holder and, when set, a server. `fault`
// runs inside status(), which GET /metrics calls: a test makes it throw to stand for a bug in a
// route. Writes are answered at once, from the calling thread.
class FakeSources : public Sources {
 public:
  std::shared_ptr<const Status> status() const override {
    if (fault) fault();
    return std::make_shared<const Status>();
  }
  const zone::SnapshotHolder& snapshots() const override { return holder; }
  const server::Server* server() const override { return server_; }
  void changeOverride(
      failover::OverrideChange change,
      std::function<void(std::optional<failover::OverrideChangeResult>)> done) override {
    if (on_change) return on_change(std::move(change), std::move(done));
    done(std::nullopt);
  }
  void reload(std::string, std::function<void(ReloadAnswer)> done) override {
    done({true, "reload started"});
  }

  zone::SnapshotHolder holder;
  const server::Server* server_ = nullptr;
  std::function<void()> fault;
  // Stands for the health thread: gets the write and answers it (or not) when it likes.
  std::function<void(failover::OverrideChange,
                     std::function<void(std::optional<failover::OverrideChangeResult>)>)>
      on_change;
};

// A ControlServer on 127.0.0.1 (a port the OS picks), its io_context run on a thread of its own
// through runCatchingExceptions, as the daemon runs its control thread.
class ControlHarness {
 public:
  explicit ControlHarness(Sources& sources, ServerLimits limits = {}, std::string token_file = "") {
    config::ControlConfig config;
    config.enabled = true;
    config.address = "127.0.0.1";
    config.port = 0;
    config.token_file = std::move(token_file);
    server_ = std::make_unique<ControlServer>(io_, sources, config, limits);
    server_->start();
    thread_ = std::thread([this] { caught_ = runCatchingExceptions(io_, "test-control"); });
  }
  ~ControlHarness() {
    // ControlServer is not thread-safe: stop it on its own thread, then let the loop end.
    std::promise<void> stopped;
    boost::asio::post(io_, [&] {
      server_->stop();
      stopped.set_value();
    });
    stopped.get_future().wait();
    io_.stop();
    thread_.join();
  }
  uint16_t port() const {
    std::string a = server_->boundAddress();
    return static_cast<uint16_t>(std::stoi(a.substr(a.rfind(':') + 1)));
  }
  boost::asio::io_context& io() { return io_; }
  // Exceptions the loop caught; read after the harness is gone or from the io thread.
  size_t caught() const { return caught_; }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
  size_t caught_ = 0;
};

struct Reply {
  int status = 0;
  std::string body;
  bool keep_alive = false;
  std::string error;  // non-empty when the exchange failed
};

// One HTTP/1.1 client connection; requests go out in order on it (keep-alive).
class HttpClient {
 public:
  explicit HttpClient(uint16_t port) : socket_(io_) {
    boost::system::error_code ec;
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    error_ = ec ? ec.message() : "";
  }
  Reply get(const std::string& target) { return send(boost::beast::http::verb::get, target, ""); }
  Reply post(const std::string& target, const std::string& token) {
    return send(boost::beast::http::verb::post, target, token);
  }
  Reply send(boost::beast::http::verb method, const std::string& target, const std::string& token) {
    namespace http = boost::beast::http;
    Reply r;
    if (!error_.empty()) {
      r.error = "connect: " + error_;
      return r;
    }
    http::request<http::empty_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    req.keep_alive(true);
    boost::system::error_code ec;
    http::write(socket_, req, ec);
    if (ec) {
      r.error = "write: " + ec.message();
      return r;
    }
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res, ec);
    if (ec) {
      r.error = "read: " + ec.message();
      return r;
    }
    r.status = res.result_int();
    r.body = res.body();
    r.keep_alive = res.keep_alive();
    return r;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::string error_;
};

}  // namespace understudy::control::test
