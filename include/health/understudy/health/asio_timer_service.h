#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "understudy/health/late_callbacks.h"
#include "understudy/health/scheduler.h"

namespace understudy::health {

// The real clock for the Scheduler: one steady_timer per pending call, on the health thread.
// Every callback's lateness (when it ran minus when it was due) is recorded, so a thread that
// was kept busy shows up in the counters and the log instead of only as probes that "timed out".
class AsioTimerService : public TimerService {
 public:
  explicit AsioTimerService(boost::asio::io_context& io) : io_(io) {}
  SteadyTime now() override { return std::chrono::steady_clock::now(); }
  void callAt(SteadyTime at, std::function<void()> fn) override {
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, at);
    // Shared, not `this`: a timer may outlive the service on an io_context that runs on.
    timer->async_wait(
        [timer, late = late_, at, fn = std::move(fn)](const boost::system::error_code& ec) {
          if (ec) return;
          late->record(at, std::chrono::steady_clock::now());
          fn();
        });
  }

  // Callbacks that ran more than kLateThreshold after their time. Health thread only.
  uint64_t lateCallbacks() const { return late_->lateCallbacks(); }
  // The most any callback ran after its time. Health thread only.
  std::chrono::milliseconds worstLateness() const { return late_->worstLateness(); }

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<LateCallbacks> late_ = std::make_shared<LateCallbacks>();
};

}  // namespace understudy::health
