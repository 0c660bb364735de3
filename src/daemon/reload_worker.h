// Runs one reload's load + compile off the control thread, with a time limit (issue 11, "a reload
// that cannot finish within a bound is abandoned and logged, never wedges the next").
//
// A blocked read (a slow NFS path, a device) cannot be cancelled, so a job that overruns its time
// limit is abandoned, not stopped: its thread is detached and left to finish into the void, and
// whatever it produces is dropped, never applied. The next job gets a thread of its own at once.
// A job still running when the worker is destroyed is abandoned the same way: destruction never
// waits for it. How many abandoned jobs may still be running is capped, so a file that never
// answers cannot collect a thread per SIGHUP.
#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace understudy::daemon {

class ReloadWorker {
 public:
  // What a finished job hands back: run on the io_context's thread, only if the job is still
  // wanted (not abandoned, not timed out, the worker not destroyed).
  using Finish = std::function<void()>;
  // The job proper, on its own thread. It must not touch anything the io_context's thread owns;
  // it returns the Finish that will.
  using Job = std::function<Finish()>;

  static constexpr size_t kMaxAbandonedRunning = 4;

  explicit ReloadWorker(boost::asio::io_context& io);
  ~ReloadWorker();
  ReloadWorker(const ReloadWorker&) = delete;
  ReloadWorker& operator=(const ReloadWorker&) = delete;

  enum class Start : uint8_t {
    kStarted,
    kBusy,          // a job is running and not abandoned
    kTooManyStuck,  // kMaxAbandonedRunning abandoned jobs have not returned yet
  };
  // Starts `job` on a new thread. Exactly one of its Finish or `on_timeout` runs later on the
  // io_context, unless abandon() or destruction comes first (then neither runs).
  Start start(Job job, std::chrono::milliseconds timeout, std::function<void()> on_timeout);
  // Gives up the running job (if any): its result will be dropped.
  void abandon();

  bool busy() const { return current_ != 0; }
  // Abandoned jobs whose threads have not returned yet.
  size_t abandonedRunning() const;
  uint64_t abandonedTotal() const { return abandoned_total_; }
  // Job threads of every worker in the process that have not returned: main() must not run static
  // destructors under a thread that may still be compiling.
  static size_t threadsRunning();

 private:
  struct Mailbox;

  boost::asio::io_context& io_;
  std::shared_ptr<Mailbox> mailbox_;
  boost::asio::steady_timer timer_;
  uint64_t current_ = 0;  // id of the job whose result is wanted; 0 = none
  uint64_t next_id_ = 0;
  uint64_t abandoned_total_ = 0;
};

}  // namespace understudy::daemon
