// The reload worker: a job that never returns (a read from a stuck path) is abandoned at its
// time limit, its late result dropped, and it never blocks the next job or the worker's
// destruction.
#include "reload_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <thread>

namespace understudy::daemon {
namespace {

using namespace std::chrono_literals;

// Runs the io_context until `done` holds or `timeout` passes.
bool runUntil(boost::asio::io_context& io, const std::function<bool()>& done,
              std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  io.restart();
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(10ms);
    io.restart();
  }
  return done();
}

// A job blocked until the test releases it: the stand-in for a read that does not return.
struct Gate {
  std::promise<void> open;
  std::shared_future<void> opened = open.get_future().share();
};

TEST(ReloadWorker, AFinishedJobHandsItsResultToTheIoThread) {
  boost::asio::io_context io;
  ReloadWorker worker(io);
  int applied = 0, timed_out = 0;
  auto thread_of_job = std::make_shared<std::thread::id>();
  std::thread::id thread_of_finish;
  ASSERT_EQ(worker.start(
                [&applied, &thread_of_finish, thread_of_job]() -> ReloadWorker::Finish {
                  *thread_of_job = std::this_thread::get_id();
                  return [&applied, &thread_of_finish] {
                    ++applied;
                    thread_of_finish = std::this_thread::get_id();
                  };
                },
                5s, [&] { ++timed_out; }),
            ReloadWorker::Start::kStarted);
  EXPECT_TRUE(worker.busy());
  ASSERT_TRUE(runUntil(io, [&] { return applied == 1; }));
  EXPECT_EQ(timed_out, 0);
  EXPECT_FALSE(worker.busy());
  EXPECT_TRUE(thread_of_finish == std::this_thread::get_id());
  EXPECT_TRUE(*thread_of_job != std::this_thread::get_id());
  EXPECT_TRUE(runUntil(io, [] { return ReloadWorker::threadsRunning() == 0; }));
}

TEST(ReloadWorker, AJobPastItsTimeLimitIsAbandonedAndItsLateResultDropped) {
  boost::asio::io_context io;
  ReloadWorker worker(io);
  Gate gate;
  int stuck_applied = 0, timed_out = 0;
  worker.start(
      [opened = gate.opened, &stuck_applied]() -> ReloadWorker::Finish {
        opened.wait();
        return [&stuck_applied] { ++stuck_applied; };
      },
      50ms, [&] { ++timed_out; });
  ASSERT_TRUE(runUntil(io, [&] { return timed_out == 1; }));
  EXPECT_FALSE(worker.busy());
  EXPECT_EQ(worker.abandonedRunning(), 1u);
  EXPECT_EQ(worker.abandonedTotal(), 1u);

  // The next job runs at once, beside the stuck one, and is applied.
  int applied = 0;
  ASSERT_EQ(worker.start([&applied]() -> ReloadWorker::Finish { return [&applied] { ++applied; }; },
                         5s, [&] { ++timed_out; }),
            ReloadWorker::Start::kStarted);
  ASSERT_TRUE(runUntil(io, [&] { return applied == 1; }));

  // The stuck job returns late: its result is never applied.
  gate.open.set_value();
  ASSERT_TRUE(runUntil(io, [&] { return worker.abandonedRunning() == 0; }));
  runUntil(
      io, [] { return false; }, 50ms);
  EXPECT_EQ(stuck_applied, 0);
  EXPECT_EQ(timed_out, 1);
}

TEST(ReloadWorker, AbandonDropsTheResultAndFreesTheWorker) {
  boost::asio::io_context io;
  ReloadWorker worker(io);
  Gate gate;
  int applied = 0, timed_out = 0;
  worker.start(
      [opened = gate.opened, &applied]() -> ReloadWorker::Finish {
        opened.wait();
        return [&applied] { ++applied; };
      },
      5s, [&] { ++timed_out; });
  worker.abandon();
  EXPECT_FALSE(worker.busy());
  gate.open.set_value();
  ASSERT_TRUE(runUntil(io, [&] { return worker.abandonedRunning() == 0; }));
  runUntil(
      io, [] { return false; }, 50ms);
  EXPECT_EQ(applied, 0);
  EXPECT_EQ(timed_out, 0);
}

TEST(ReloadWorker, BusyWhileAJobRuns) {
  boost::asio::io_context io;
  ReloadWorker worker(io);
  Gate gate;
  worker.start(
      [opened = gate.opened]() -> ReloadWorker::Finish {
        opened.wait();
        return nullptr;
      },
      5s, nullptr);
  EXPECT_EQ(worker.start([]() -> ReloadWorker::Finish { return nullptr; }, 5s, nullptr),
            ReloadWorker::Start::kBusy);
  gate.open.set_value();
  EXPECT_TRUE(runUntil(io, [&] { return !worker.busy(); }));
}

TEST(ReloadWorker, StuckJobsAreCappedSoAStuckFileCannotCollectAThreadPerReload) {
  boost::asio::io_context io;
  ReloadWorker worker(io);
  Gate gate;
  int timed_out = 0;
  for (size_t i = 0; i < ReloadWorker::kMaxAbandonedRunning; ++i) {
    ASSERT_EQ(worker.start(
                  [opened = gate.opened]() -> ReloadWorker::Finish {
                    opened.wait();
                    return nullptr;
                  },
                  10ms, [&] { ++timed_out; }),
              ReloadWorker::Start::kStarted);
    ASSERT_TRUE(runUntil(io, [&] { return timed_out == static_cast<int>(i + 1); }));
  }
  EXPECT_EQ(worker.abandonedRunning(), ReloadWorker::kMaxAbandonedRunning);
  EXPECT_EQ(worker.start([]() -> ReloadWorker::Finish { return nullptr; }, 5s, nullptr),
            ReloadWorker::Start::kTooManyStuck);
  gate.open.set_value();
  ASSERT_TRUE(runUntil(io, [&] { return worker.abandonedRunning() == 0; }));
  EXPECT_EQ(worker.start([]() -> ReloadWorker::Finish { return nullptr; }, 5s, nullptr),
            ReloadWorker::Start::kStarted);
  EXPECT_TRUE(runUntil(io, [&] { return !worker.busy(); }));
}

// SIGTERM with a reload stuck in a read: destroying the worker returns at once.
TEST(ReloadWorker, DestructionNeverWaitsForAStuckJob) {
  Gate gate;
  auto applied = std::make_shared<std::atomic<int>>(0);
  {
    boost::asio::io_context io;
    auto worker = std::make_unique<ReloadWorker>(io);
    worker->start(
        [opened = gate.opened, applied]() -> ReloadWorker::Finish {
          opened.wait();
          return [applied] { ++*applied; };
        },
        5s, nullptr);
    auto before = std::chrono::steady_clock::now();
    worker.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - before, 100ms);
  }
  // The job ends after its worker and io_context are gone: it must not touch them.
  gate.open.set_value();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (ReloadWorker::threadsRunning() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(ReloadWorker::threadsRunning(), 0u);
  EXPECT_EQ(*applied, 0);
}

}  // namespace
}  // namespace understudy::daemon
