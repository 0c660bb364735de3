#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "understudy/health/scheduler.h"

namespace understudy::health {

// The real clock for the Scheduler: one steady_timer per pending call, on the control thread.
class AsioTimerService : public TimerService {
 public:
  explicit AsioTimerService(boost::asio::io_context& io) : io_(io) {}
  SteadyTime now() override { return std::chrono::steady_clock::now(); }
  void callAt(SteadyTime at, std::function<void()> fn) override {
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, at);
    timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec) fn();
    });
  }

 private:
  boost::asio::io_context& io_;
};

}  // namespace understudy::health
