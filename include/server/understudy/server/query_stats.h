// Query counters for /metrics, kept per serving thread so counting never shares a cache line or
// takes a lock: each thread is the only writer of its own block (plain relaxed load + store), and
// a scrape sums the blocks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "understudy/query/answer.h"

namespace understudy::server {

// Query types with their own label; everything else counts as "other".
inline constexpr std::array<uint16_t, 18> kCountedTypes = {1,  2,  5,  6,  12, 15, 16,  28,  33,
                                                           35, 43, 48, 52, 64, 65, 255, 252, 251};
inline constexpr size_t kTypeBuckets = kCountedTypes.size() + 1;  // + other
inline constexpr size_t kRcodeBuckets = 24;                       // 0..23 (BADVERS = 16)

size_t typeBucket(uint16_t qtype) noexcept;
// "A", "NS", ..., "other"
const char* typeBucketName(size_t bucket) noexcept;
const char* rcodeName(size_t rcode) noexcept;

struct alignas(64) ThreadQueryStats {
  std::atomic<uint64_t> answers[2][kTypeBuckets][kRcodeBuckets] = {};
  std::atomic<uint64_t> truncated[2] = {};
  std::atomic<uint64_t> dropped[2] = {};  // malformed beyond a header, or QR=1

  static void bump(std::atomic<uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void count(query::Transport t, size_t response_size, const query::AnswerInfo& info) noexcept {
    int p = t == query::Transport::kTcp ? 1 : 0;
    if (response_size == 0) {
      bump(dropped[p]);
      return;
    }
    size_t rcode = info.rcode < kRcodeBuckets ? info.rcode : kRcodeBuckets - 1;
    bump(answers[p][typeBucket(info.qtype)][rcode]);
    if (info.truncated) bump(truncated[p]);
  }
};

struct QueryTotals {
  uint64_t answers[2][kTypeBuckets][kRcodeBuckets] = {};
  uint64_t truncated[2] = {};
  uint64_t dropped[2] = {};
};

class QueryStats {
 public:
  explicit QueryStats(size_t threads) {
    for (size_t i = 0; i < threads; ++i) blocks_.push_back(std::make_unique<ThreadQueryStats>());
  }
  ThreadQueryStats& thread(size_t i) { return *blocks_[i]; }
  const ThreadQueryStats& thread(size_t i) const { return *blocks_[i]; }
  size_t threads() const { return blocks_.size(); }
  QueryTotals totals() const;

 private:
  std::vector<std::unique_ptr<ThreadQueryStats>> blocks_;
};

}  // namespace understudy::server
