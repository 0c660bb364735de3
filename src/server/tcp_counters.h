#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "understudy/server/accept_error.h"

namespace understudy::server {

// Shared by every TCP thread of a Server: the connection cap is global, and so are the counters
// /metrics reads and the accept-failure log's rate limit.
struct TcpCounters {
  std::atomic<unsigned> connections{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};
  std::array<std::atomic<uint64_t>, kAcceptErrorKinds> accept_errors{};
  // One log line per kAcceptLogInterval across all threads: when the last went out (steady
  // clock, ns; 0 = never) and the failure total it reported.
  std::atomic<int64_t> accept_logged_at{0};
  std::atomic<uint64_t> accept_errors_logged{0};

  uint64_t acceptErrorTotal() const {
    uint64_t sum = 0;
    for (const auto& c : accept_errors) sum += c.load(std::memory_order_relaxed);
    return sum;
  }
};

}  // namespace understudy::server
