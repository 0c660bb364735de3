// Writes travel to the health thread and back (issue 12): the control thread parses and checks a
// write, hands it over, and keeps serving other clients while it waits; the answer, sent from
// another thread, is written by the control thread; a write the health thread never answers gets
// a 503 after the endpoint's timeout, and a late answer after that is dropped.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "support.h"

namespace understudy::control {
namespace {

using namespace std::chrono_literals;
using test::ControlHarness;
using test::FakeSources;
using test::HttpClient;
using understudy::test::LogCapture;

constexpr char kToken[] = "0123456789abcdef0123456789abcdef";

// A token file readable by its owner only, removed at the end.
class TokenFile {
 public:
  TokenFile() {
    char name[] = "/tmp/understudy-control-token-XXXXXX";
    int fd = mkstemp(name);
    path_ = name;
    std::string text = std::string(kToken) + "\n";
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    fchmod(fd, 0600);
    close(fd);
  }
  ~TokenFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using Done = std::function<void(std::optional<failover::OverrideChangeResult>)>;

// The write is held by a stand-in for the health thread until the test releases it.
struct HeldWrite {
  std::mutex mutex;
  std::condition_variable cv;
  size_t arrived = 0;
  Done done;  // the latest
  std::vector<Done> dones;
  failover::OverrideChange change;

  void take(failover::OverrideChange c, Done d) {
    std::lock_guard lock(mutex);
    change = std::move(c);
    done = d;
    dones.push_back(std::move(d));
    ++arrived;
    cv.notify_all();
  }
  bool waitArrived(std::chrono::milliseconds timeout, size_t n = 1) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, [this, n] { return arrived >= n; });
  }
};

TEST(ControlWrites, TheControlThreadKeepsServingWhileAWriteWaitsAndAnswersFromAnotherThread) {
  TokenFile token;
  FakeSources sources;
  HeldWrite held;
  sources.on_change = [&](failover::OverrideChange c, Done d) { held.take(c, std::move(d)); };
  ControlHarness harness(sources, {}, token.path());

  auto write = std::async(std::launch::async, [&] {
    return HttpClient(harness.port()).post("/pools/app/endpoints/192.0.2.10/drain?for=10m", kToken);
  });
  ASSERT_TRUE(held.waitArrived(5s));
  EXPECT_EQ(held.change.pool, "app");
  EXPECT_EQ(held.change.address, "192.0.2.10");
  ASSERT_TRUE(held.change.kind);
  EXPECT_EQ(*held.change.kind, failover::OverrideKind::kDrain);
  ASSERT_TRUE(held.change.duration);
  EXPECT_EQ(held.change.duration->count(), 600);

  // While the write waits for the health thread, other clients are served.
  HttpClient reader(harness.port());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(reader.get("/metrics").status, 200);
  EXPECT_EQ(write.wait_for(0s), std::future_status::timeout)
      << "answered before the write was done";

  // The answer comes from another thread, as it does from the health thread.
  failover::OverrideChangeResult result;
  result.serving = false;
  result.override = failover::Override{failover::OverrideKind::kDrain,
                                       std::chrono::system_clock::now(), std::nullopt};
  std::thread health([&] { held.done(result); });
  health.join();
  test::Reply reply = write.get();
  ASSERT_EQ(reply.status, 200) << reply.error << reply.body;
  EXPECT_NE(reply.body.find("\"drain on app/192.0.2.10 for 10m\""), std::string::npos)
      << reply.body;
  EXPECT_NE(reply.body.find("\"serving\": false"), std::string::npos) << reply.body;
}

TEST(ControlWrites, AWriteTheHealthThreadDoesNotAnswerGets503AndALateAnswerIsDropped) {
  LogCapture log;
  TokenFile token;
  FakeSources sources;
  HeldWrite held;
  sources.on_change = [&](failover::OverrideChange c, Done d) { held.take(c, std::move(d)); };
  ServerLimits limits;
  limits.timeout = 300ms;
  ControlHarness harness(sources, limits, token.path());
  HttpClient client(harness.port());

  auto start = std::chrono::steady_clock::now();
  test::Reply reply = client.post("/pools/app/endpoints/192.0.2.10/clear", kToken);
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(reply.status, 503) << reply.error << reply.body;
  EXPECT_NE(reply.body.find("not carried out in time"), std::string::npos) << reply.body;
  EXPECT_GE(waited, 300ms);
  EXPECT_NE(log.text().find("POST /pools/app/endpoints/192.0.2.10/clear from 127.0.0.1:"),
            std::string::npos)
      << log.text();
  EXPECT_NE(log.text().find("the health thread did not answer within 300 ms"), std::string::npos)
      << log.text();

  // The connection goes on with the next write; the first one's answer turns up meanwhile and is
  // dropped, not taken for the answer to the second.
  ASSERT_TRUE(held.waitArrived(1s));
  auto second = std::async(std::launch::async, [&] {
    return client.post("/pools/app/endpoints/192.0.2.10/force-up", kToken);
  });
  ASSERT_TRUE(held.waitArrived(5s, 2));
  failover::OverrideChangeResult nothing;
  nothing.result = failover::OverrideChangeResult::Result::kNothingToClear;
  nothing.message = "the first write's late answer";
  held.dones[0](nothing);
  EXPECT_EQ(second.wait_for(100ms), std::future_status::timeout)
      << "the second write got the first one's answer: " << second.get().body;
  failover::OverrideChangeResult forced;
  forced.serving = true;
  held.dones[1](forced);
  test::Reply next = second.get();
  EXPECT_EQ(next.status, 200) << next.error << next.body;
  EXPECT_NE(next.body.find("force-up on app/192.0.2.10 until cleared"), std::string::npos)
      << next.body;
  EXPECT_EQ(client.get("/").status, 200);
}

}  // namespace
}  // namespace understudy::control
