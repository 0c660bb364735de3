// A TimerService whose clock only moves when a test says so; due calls fire in time order.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>

#include "understudy/health/scheduler.h"

namespace understudy::testing {

class ManualTimers : public health::TimerService {
 public:
  health::SteadyTime now() override { return now_; }
  void callAt(health::SteadyTime at, std::function<void()> fn) override {
    pending_.emplace(at, std::move(fn));
  }
  void advance(std::chrono::milliseconds d) {
    health::SteadyTime end = now_ + d;
    while (!pending_.empty() && pending_.begin()->first <= end) {
      auto it = pending_.begin();
      now_ = std::max(now_, it->first);
      auto fn = std::move(it->second);
      pending_.erase(it);
      fn();
    }
    now_ = end;
  }

 private:
  health::SteadyTime now_{};
  std::multimap<health::SteadyTime, std::function<void()>> pending_;
};

}  // namespace understudy::testing
