// Notifier against real HTTP receivers that each test starts on loopback: one POST per event per
// hook with the right body and headers, retries with back-off only where a retry can help, a
// bounded queue, and a hanging receiver that delays neither other hooks nor the io_context.
#include "understudy/notify/notifier.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>  // Boost 1.74 Asio uses std::exchange without including it
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

namespace understudy::notify {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using std::chrono::milliseconds;

// How the receiver answers one request.
enum class Reply {
  kOk,         // 202 Accepted, like PagerDuty
  kSlowOk,     // 200 after 200 ms
  kStatus500,  // 500
  kStatus400,  // 400 with a JSON complaint
  kStatus429,  // 429 with Retry-After: 1
  kHang,       // reads the request, never answers
};

struct Received {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  Clock::time_point at;  // when the whole request had arrived

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  Json json() const { return Json::parse(body); }
};

// A tiny HTTP/1.1 receiver on its own thread and io_context, so nothing it does can block the
// notifier's thread. `script(n)` says how to answer the n-th request (0-based).
class Receiver {
 public:
  using Script = std::function<Reply(size_t)>;

  explicit Receiver(Script script)
      : script_(std::move(script)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  explicit Receiver(Reply always = Reply::kOk) : Receiver([always](size_t) { return always; }) {}
  ~Receiver() {
    io_.stop();
    thread_.join();
  }

  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  std::vector<Received> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  size_t count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

 private:
  asio::awaitable<void> accept() {
    for (;;) {
      auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
      asio::co_spawn(io_, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(asio::ip::tcp::socket socket) {
    try {
      std::string data;
      size_t head_end = co_await asio::async_read_until(socket, asio::dynamic_buffer(data),
                                                        "\r\n\r\n", asio::use_awaitable);
      Received request = parseHead(data.substr(0, head_end));
      size_t length = std::stoul("0" + request.header("content-length"));
      if (data.size() < head_end + length) {
        co_await asio::async_read(socket, asio::dynamic_buffer(data),
                                  asio::transfer_exactly(head_end + length - data.size()),
                                  asio::use_awaitable);
      }
      request.body = data.substr(head_end, length);
      request.at = Clock::now();
      size_t index = 0;
      {
        std::lock_guard lock(mutex_);
        index = requests_.size();
        requests_.push_back(request);
      }
      asio::steady_timer timer(io_);
      switch (script_(index)) {
        case Reply::kOk:
          co_await reply(socket, "202 Accepted", R"({"status":"success"})");
          break;
        case Reply::kSlowOk:
          timer.expires_after(200ms);
          co_await timer.async_wait(asio::use_awaitable);
          co_await reply(socket, "200 OK", "{}");
          break;
        case Reply::kStatus500:
          co_await reply(socket, "500 Internal Server Error", "oops");
          break;
        case Reply::kStatus400:
          co_await reply(
              socket, "400 Bad Request",
              "{\"status\":\"invalid event\",\n\"message\":\"Event object is invalid\"}");
          break;
        case Reply::kStatus429:
          co_await reply(socket, "429 Too Many Requests", "slow down", "Retry-After: 1\r\n");
          break;
        case Reply::kHang:
          for (char byte;;)
            co_await socket.async_read_some(asio::buffer(&byte, 1), asio::use_awaitable);
      }
    } catch (const std::exception&) {
      // The client went away: nothing left to serve.
    }
  }

  static Received parseHead(const std::string& head) {
    Received request;
    std::istringstream lines(head);
    std::string line;
    std::getline(lines, line);
    std::istringstream first(line);
    first >> request.method >> request.target;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      request.headers[name] = value;
    }
    return request;
  }

  static asio::awaitable<void> reply(asio::ip::tcp::socket& socket, const std::string& status,
                                     const std::string& body, const std::string& extra = "") {
    std::string text =
        "HTTP/1.1 " + status +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n" + extra + "\r\n" + body;
    co_await asio::async_write(socket, asio::buffer(text), asio::use_awaitable);
  }

  Script script_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Received> requests_;
};

// A loopback URL nobody listens on: connections are refused at once.
std::string refusedUrl() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/hook";
}

// Replaces the default logger while alive, so tests can read what was logged.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>(
        "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_));
    logger->set_level(spdlog::level::debug);
    logger->set_pattern("%l %v");
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }

  std::string text() const { return stream_.str(); }
  size_t count(const std::string& needle) const {
    std::string all = text();
    size_t n = 0;
    for (auto at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1)) ++n;
    return n;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

config::WebhookConfig hook(const std::string& url, unsigned retries = 3,
                           milliseconds timeout = 2000ms) {
  config::WebhookConfig config;
  config.url = url;
  config.retries = retries;
  config.timeout = timeout;
  return config;
}

config::WebhookConfig pagerDutyHook(const std::string& url) {
  config::WebhookConfig config = hook(url);
  config.format = config::WebhookConfig::Format::kPagerDuty;
  config.routing_key = "R0UT1NGKEY";
  return config;
}

NotifierOptions fastRetries(size_t max_queue = 1000) {
  NotifierOptions options;
  options.base_delay = 50ms;
  options.max_delay = 2000ms;
  options.max_queue = max_queue;
  return options;
}

failover::HealthEvent healthEvent(const std::string& target, std::string from, std::string to,
                                  bool initial = false) {
  failover::HealthEvent event;
  event.time = std::chrono::system_clock::now();
  event.target = target;
  event.check = target.substr(0, target.find(' '));
  event.address = "127.0.0.1";
  event.endpoints = {"app/192.0.2.10"};
  event.from = std::move(from);
  event.to = std::move(to);
  event.reason = event.to == "down" ? "HTTP 503 x3" : "HTTP 200 x2";
  event.initial = initial;
  return event;
}

failover::AnswerEvent answerEvent(bool failed_over) {
  failover::AnswerEvent event;
  event.time = std::chrono::system_clock::now();
  event.record = "app.svc.example.com. A";
  event.pool = "app";
  event.from = failed_over ? "192.0.2.10 (primary, ttl 300)" : "198.51.100.10 (ttl 30)";
  event.to = failed_over ? "198.51.100.10 (ttl 30)" : "192.0.2.10 (primary, ttl 300)";
  event.failed_over = failed_over;
  return event;
}

failover::ReloadFailedEvent reloadEvent() {
  failover::ReloadFailedEvent event;
  event.time = std::chrono::system_clock::now();
  event.source = "understudy.yaml";
  event.errors = {"understudy.yaml:3:5: pools.app: unknown check 'web2'"};
  return event;
}

milliseconds gap(const Received& earlier, const Received& later) {
  return std::chrono::duration_cast<milliseconds>(later.at - earlier.at);
}

class NotifierTest : public ::testing::Test {
 protected:
  // Runs the io_context until `done` holds; false if it did not within `limit`.
  bool runUntil(const std::function<bool()>& done, milliseconds limit = 5000ms) {
    auto deadline = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() > deadline) return false;
      io_.run_for(5ms);
    }
    return true;
  }
  void runFor(milliseconds duration) { io_.run_for(duration); }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
};

TEST_F(NotifierTest, PostsOneGenericBodyPerEventWithTheHooksHeaders) {
  Receiver receiver;
  config::WebhookConfig config = hook(receiver.url("/hooks/dns?team=sre"));
  config.headers = {{"Authorization", "Bearer s3cret"}, {"X-Team", "dns"}};
  Notifier notifier(io_, {config}, "ns1.example.net", fastRetries());

  notifier.onHealth(healthEvent("web 127.0.0.1:8080", "up", "down"));
  notifier.onAnswer(answerEvent(true));
  notifier.onReloadFailed(reloadEvent());
  ASSERT_TRUE(runUntil([&] { return notifier.stats()[0].sent == 3; }));
  runFor(100ms);  // nothing more arrives

  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& request : requests) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.target, "/hooks/dns?team=sre");
    EXPECT_EQ(request.header("content-type"), "application/json");
    EXPECT_EQ(request.header("authorization"), "Bearer s3cret");
    EXPECT_EQ(request.header("x-team"), "dns");
    EXPECT_EQ(request.header("expect"), "");
    EXPECT_EQ(request.json()["instance"], "ns1.example.net");
  }
  Json health = requests[0].json();
  EXPECT_EQ(health["event"], "health");
  EXPECT_EQ(health["target"], "web 127.0.0.1:8080");
  EXPECT_EQ(health["check"], "web");
  EXPECT_EQ(health["address"], "127.0.0.1");
  EXPECT_EQ(health["endpoints"], Json::array({"app/192.0.2.10"}));
  EXPECT_EQ(health["from"], "up");
  EXPECT_EQ(health["to"], "down");
  EXPECT_EQ(health["reason"], "HTTP 503 x3");
  EXPECT_EQ(health["initial"], false);
  std::string time = health["time"];
  ASSERT_EQ(time.size(), 24u) << time;  // 2024-05-01T12:01:07.123Z
  EXPECT_EQ(time[10], 'T');
  EXPECT_EQ(time[19], '.');
  EXPECT_EQ(time.back(), 'Z');

  Json answer = requests[1].json();
  EXPECT_EQ(answer["event"], "answer");
  EXPECT_EQ(answer["record"], "app.svc.example.com. A");
  EXPECT_EQ(answer["pool"], "app");
  EXPECT_EQ(answer["to"], "198.51.100.10 (ttl 30)");
  EXPECT_EQ(answer["failed_over"], true);
  EXPECT_EQ(answer["all_down"], false);

  Json reload = requests[2].json();
  EXPECT_EQ(reload["event"], "reload_failed");
  EXPECT_EQ(reload["source"], "understudy.yaml");
  EXPECT_EQ(reload["errors"],
            Json::array({"understudy.yaml:3:5: pools.app: unknown check 'web2'"}));

  HookStats stats = notifier.stats()[0];
  EXPECT_EQ(stats.url, receiver.url("/hooks/dns"));
  EXPECT_EQ(stats.sent, 3u);
  EXPECT_EQ(stats.failed + stats.retried + stats.dropped + stats.queued, 0u);
}

TEST_F(NotifierTest, GenericAndPagerDutyHooksEachGetTheirShape) {
  Receiver generic;
  Receiver pagerduty;
  Notifier notifier(io_, {hook(generic.url()), pagerDutyHook(pagerduty.url("/v2/enqueue"))}, "ns1",
                    fastRetries());

  notifier.onHealth(healthEvent("web 127.0.0.1:8080", "unknown", "up", true));  // no page
  notifier.onHealth(healthEvent("web 127.0.0.1:8080", "up", "down"));
  notifier.onAnswer(answerEvent(true));
  notifier.onHealth(healthEvent("web 127.0.0.1:8080", "down", "up"));
  notifier.onAnswer(answerEvent(false));
  notifier.onReloadFailed(reloadEvent());
  ASSERT_TRUE(runUntil([&] { return notifier.pending() == 0; }));
  runFor(100ms);

  auto events = generic.requests();
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0].json()["initial"], true);
  EXPECT_EQ(events[5].json()["event"], "reload_failed");

  auto pages = pagerduty.requests();
  ASSERT_EQ(pages.size(), 5u);
  std::vector<std::string> actions;
  for (const auto& page : pages) {
    Json body = page.json();
    EXPECT_EQ(page.target, "/v2/enqueue");
    EXPECT_EQ(body["routing_key"], "R0UT1NGKEY");
    EXPECT_EQ(body["payload"]["source"], "ns1");
    actions.push_back(body["event_action"]);
  }
  EXPECT_EQ(actions,
            (std::vector<std::string>{"trigger", "trigger", "resolve", "resolve", "trigger"}));
  Json down = pages[0].json();
  Json up = pages[2].json();
  EXPECT_EQ(down["dedup_key"], "understudy/ns1/web 127.0.0.1:8080");
  EXPECT_EQ(up["dedup_key"], down["dedup_key"]);
  EXPECT_EQ(down["payload"]["summary"],
            "web 127.0.0.1:8080 down: HTTP 503 x3 (pools app/192.0.2.10)");
  EXPECT_EQ(down["payload"]["severity"], "warning");
  EXPECT_EQ(down["payload"]["class"], "health");
  EXPECT_EQ(down["payload"]["group"], "app");
  EXPECT_EQ(down["payload"]["custom_details"]["reason"], "HTTP 503 x3");
  EXPECT_EQ(pages[1].json()["dedup_key"], "understudy/ns1/app.svc.example.com. A");
  EXPECT_EQ(pages[3].json()["dedup_key"], pages[1].json()["dedup_key"]);
  EXPECT_EQ(pages[4].json()["payload"]["severity"], "error");
  EXPECT_EQ(notifier.stats()[1].sent, 5u);
}

TEST_F(NotifierTest, RetriesServerErrorsWithGrowingBackOff) {
  Receiver receiver([](size_t n) { return n < 2 ? Reply::kStatus500 : Reply::kOk; });
  Notifier notifier(io_, {hook(receiver.url(), 3)}, "ns1", fastRetries());
  LogCapture log;

  notifier.onHealth(healthEvent("web 127.0.0.1:8080", "up", "down"));
  ASSERT_TRUE(runUntil([&] { return notifier.stats()[0].sent == 1; }));
  runFor(200ms);

  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_GE(gap(requests[0], requests[1]), 50ms);   // base delay
  EXPECT_GE(gap(requests[1], requests[2]), 100ms);  // doubled
  EXPECT_EQ(requests[0].body, requests[2].body);
  HookStats stats = notifier.stats()[0];
  EXPECT_EQ(stats.retried, 2u);
  EXPECT_EQ(stats.failed, 0u);
  // One line per failed attempt, naming the hook, the event and the reason.
  EXPECT_EQ(log.count("warning webhook " + receiver.url() +
                      ": health web 127.0.0.1:8080 up -> "
                      "down not delivered: HTTP 500: oops; retry "),
            2u)
      << log.text();
}

TEST_F(NotifierTest, TooManyRequestsWaitsForRetryAfter) {
  Receiver receiver([](size_t n) { return n == 0 ? Reply::kStatus429 : Reply::kOk; });
  Notifier notifier(io_, {hook(receiver.url(), 1)}, "ns1", fastRetries());

  notifier.onHealth(healthEvent("web 127.0.0.1:8080", "up", "down"));
  ASSERT_TRUE(runUntil([&] { return notifier.stats()[0].sent == 1; }));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(gap(requests[0], requests[1]), 1000ms);  // Retry-After: 1, not the 50 ms back-off
}

TEST_F(NotifierTest, GivesUpWhenRetriesAreExhausted) {
  Receiver receiver(Reply::kStatus500);
  Notifier notifier(io_, {hook(receiver.url(), 2)}, "ns1", fastRetries());
  LogCapture log;

  notifier.onHealth(healthEvent("web 127.0.0.1:8080", "up", "down"));
  ASSERT_TRUE(runUntil([&] { return notifier.stats()[0].failed == 1; }));
  runFor(400ms);  // longer than any further back-off would be

  EXPECT_EQ(receiver.count(), 3u);
  HookStats stats = notifier.stats()[0];
  EXPECT_EQ(stats.retried, 2u);
  EXPECT_EQ(stats.sent, 0u);
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_EQ(log.count("giving up after 3 attempts"), 1u) << log.text();
}

TEST_F(NotifierTest, ClientErrorIsNotRetriedAndLogsNoSecrets) {
  Receiver receiver(Reply::kStatus400);
  std::string url = receiver.url("/hook?token=s3cret");
  url.replace(url.find("127.0.0.1"), 0, "user:s3cret@");
  Notifier notifier(io_, {hook(url, 3)}, "ns1", fastRetries());
  LogCapture log;

  notifier.onReloadFailed(reloadEvent());
  ASSERT_TRUE(runUntil([&] { return notifier.stats()[0].failed == 1; }));
  runFor(300ms);

  EXPECT_EQ(receiver.count(), 1u);
  EXPECT_EQ(notifier.stats()[0].retried, 0u);
  EXPECT_EQ(notifier.stats()[0].url, receiver.url("/hook"));
  EXPECT_EQ(log.count("warning "), 1u) << log.text();
  EXPECT_EQ(log.count("warning webhook " + receiver.url("/hook") +
                      ": reload_failed understudy.yaml not delivered: HTTP 400: "
                      "{\"status\":\"invalid event\", \"message\":\"Event object is invalid\"}; "
                      "not retried"),
            1u)
      << log.text();
  EXPECT_EQ(log.count("s3cret"), 0u) << log.text();
}

TEST_F(NotifierTest, HangingReceiverTimesOutAndIsRetried) {
  Receiver receiver([](size_t n) { return n == 0 ? Reply::kHang : Reply::kOk; });
  Notifier notifier(io_, {hook(receiver.url(), 1, 300ms)}, "ns1", fastRetries());
  LogCapture log;

  notifier.onHealth(healthEvent("web 127.0.0.1:8080", "up", "down"));
  ASSERT_TRUE(runUntil([&] { return notifier.stats()[0].sent == 1; }));

  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  // The timeout, then the back-off. Curl's clock starts before the connection, the receiver's
  // once the request is in: allow for that moment.
  EXPECT_GE(gap(requests[0], requests[1]), 300ms + 50ms - 20ms);
  EXPECT_EQ(notifier.stats()[0].retried, 1u);
  EXPECT_EQ(log.count("not delivered: timed out after 300 ms; retry 1 of 1 in"), 1u) << log.text();
}

TEST_F(NotifierTest, RefusedConnectionsAreRetried) {
  Notifier notifier(io_, {hook(refusedUrl(), 2)}, "ns1", fastRetries());
  LogCapture log;

  notifier.onHealth(healthEvent("web 127.0.0.1:8080", "up", "down"));
  ASSERT_TRUE(runUntil([&] { return notifier.stats()[0].failed == 1; }));
  EXPECT_EQ(notifier.stats()[0].retried, 2u);
  EXPECT_EQ(log.count("not delivered: connect failed: Connection refused"), 3u) << log.text();
}

TEST_F(NotifierTest, FullQueueDropsTheOldestWaiting) {
  // The receiver is failing when the burst comes: the first notification is being delivered
  // (and retried), only the newest of the others fit behind it.
  Receiver receiver([](size_t n) { return n == 0 ? Reply::kStatus500 : Reply::kOk; });
  Notifier notifier(io_, {hook(receiver.url(), 1)}, "ns1", fastRetries(3));
  LogCapture log;

  for (int i = 0; i < 10; ++i) {
    std::string target = std::to_string(i);  // not "t" + std::string&&: GCC 12 -O3 -Wrestrict
    target.insert(target.begin(), 't');
    notifier.onHealth(healthEvent(target + " 127.0.0.1:80", "up", "down"));
  }
  HookStats stats = notifier.stats()[0];
  EXPECT_EQ(stats.queued, 3u);
  EXPECT_EQ(stats.dropped, 7u);
  EXPECT_EQ(log.count("dropping the oldest"), 1u) << log.text();  // once per burst

  ASSERT_TRUE(runUntil([&] { return notifier.stats()[0].sent == 3; }));
  std::vector<std::string> targets;
  for (const auto& request : receiver.requests()) targets.push_back(request.json()["target"]);
  EXPECT_EQ(targets, (std::vector<std::string>{"t0 127.0.0.1:80", "t0 127.0.0.1:80",
                                               "t8 127.0.0.1:80", "t9 127.0.0.1:80"}));
  EXPECT_EQ(notifier.stats()[0].dropped, 7u);
}

TEST_F(NotifierTest, HangingHookDelaysNeitherOtherHooksNorTheIoContext) {
  Receiver hanging(Reply::kHang);
  Receiver healthy;
  Notifier notifier(io_, {hook(hanging.url(), 0, 3000ms), hook(healthy.url())}, "ns1",
                    fastRetries());

  // A 20 ms ticker on the same io_context: its worst lateness shows whether anything blocked.
  milliseconds worst_late{0};
  asio::steady_timer ticker(io_);
  std::function<void(Clock::time_point)> tick = [&](Clock::time_point due) {
    ticker.expires_at(due);
    ticker.async_wait([&, due](const boost::system::error_code& ec) {
      if (ec) return;
      worst_late =
          std::max(worst_late, std::chrono::duration_cast<milliseconds>(Clock::now() - due));
      tick(due + 20ms);
    });
  };
  tick(Clock::now() + 20ms);

  auto start = Clock::now();
  for (int i = 0; i < 5; ++i) {
    std::string target = std::to_string(i);  // not "t" + std::string&&: GCC 12 -O3 -Wrestrict
    target.insert(target.begin(), 't');
    notifier.onHealth(healthEvent(target + " 127.0.0.1:80", "up", "down"));
  }
  EXPECT_LT(Clock::now() - start, 50ms);  // the sink call itself never waits
  ASSERT_TRUE(runUntil([&] { return healthy.count() == 5; }, 2000ms));
  EXPECT_LT(Clock::now() - start, 1000ms);  // far less than the hanging hook's 3 s timeout
  runFor(200ms);

  EXPECT_EQ(hanging.count(), 1u);  // one at a time: the rest wait behind the hanging one
  EXPECT_EQ(notifier.stats()[0].queued, 5u);
  EXPECT_EQ(notifier.stats()[1].sent, 5u);
  EXPECT_LT(worst_late, 100ms);
  ticker.cancel();
}

TEST_F(NotifierTest, SetHooksKeepsUnchangedHooksAndDropsRemovedOnes) {
  Receiver a;
  Receiver b;
  Receiver c;
  Notifier notifier(io_, {hook(a.url()), hook(b.url())}, "ns1", fastRetries());
  notifier.onHealth(healthEvent("t0 127.0.0.1:80", "up", "down"));
  ASSERT_TRUE(runUntil([&] { return notifier.pending() == 0; }));

  notifier.setHooks({hook(c.url()), hook(a.url())});
  notifier.onHealth(healthEvent("t1 127.0.0.1:80", "down", "up"));
  ASSERT_TRUE(runUntil([&] { return notifier.pending() == 0; }));
  runFor(100ms);

  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(b.count(), 1u);
  EXPECT_EQ(c.count(), 1u);
  auto stats = notifier.stats();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].url, c.url());
  EXPECT_EQ(stats[0].sent, 1u);
  EXPECT_EQ(stats[1].url, a.url());
  EXPECT_EQ(stats[1].sent, 2u);  // kept its counters across the reload
}

TEST_F(NotifierTest, RemovedHookFinishesItsRequestInFlightOnly) {
  Receiver slow(Reply::kSlowOk);
  Notifier notifier(io_, {hook(slow.url())}, "ns1", fastRetries());
  for (int i = 0; i < 3; ++i) {
    std::string target = std::to_string(i);  // not "t" + std::string&&: GCC 12 -O3 -Wrestrict
    target.insert(target.begin(), 't');
    notifier.onHealth(healthEvent(target + " 127.0.0.1:80", "up", "down"));
  }
  ASSERT_TRUE(runUntil([&] { return slow.count() == 1; }));

  notifier.setHooks({});
  EXPECT_TRUE(notifier.stats().empty());
  EXPECT_EQ(notifier.pending(), 1u);  // the request in flight
  ASSERT_TRUE(runUntil([&] { return notifier.pending() == 0; }));
  runFor(300ms);
  EXPECT_EQ(slow.count(), 1u);
}

TEST_F(NotifierTest, DestroyingAbandonsPendingDeliveries) {
  Receiver hanging(Reply::kHang);
  {
    Notifier notifier(io_, {hook(hanging.url(), 3, 5000ms), hook(refusedUrl(), 5)}, "ns1",
                      fastRetries());
    notifier.onHealth(healthEvent("t0 127.0.0.1:80", "up", "down"));
    notifier.onHealth(healthEvent("t1 127.0.0.1:80", "up", "down"));
    ASSERT_TRUE(runUntil([&] { return hanging.count() == 1 && notifier.stats()[1].retried >= 1; }));
    EXPECT_EQ(notifier.pending(), 4u);
  }
  // Timers and sockets of the dead notifier may still complete: none of them may touch it.
  runFor(300ms);
  EXPECT_EQ(hanging.count(), 1u);
}

}  // namespace
}  // namespace understudy::notify
