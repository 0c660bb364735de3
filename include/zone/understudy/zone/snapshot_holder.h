// Publishes Snapshots to serving threads (DESIGN.md; PowerDNS sholder.hh is the model): the
// writer swaps a shared_ptr under a mutex and bumps a generation; each reader keeps its own copy
// and only takes the mutex when the generation moved, so the per-packet cost is one atomic load.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "understudy/zone/snapshot.h"

namespace understudy::zone {

class SnapshotHolder {
 public:
  void publish(std::shared_ptr<const Snapshot> snapshot) {
    std::lock_guard lock(mutex_);
    current_ = std::move(snapshot);
    generation_.fetch_add(1, std::memory_order_release);
  }

  std::shared_ptr<const Snapshot> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

  uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

  // One per serving thread.
  class Reader {
   public:
    explicit Reader(const SnapshotHolder& holder) : holder_(holder) {}
    const Snapshot* get() {
      uint64_t g = holder_.generation();
      if (g != seen_) {
        local_ = holder_.current();
        seen_ = g;
      }
      return local_.get();
    }

   private:
    const SnapshotHolder& holder_;
    std::shared_ptr<const Snapshot> local_;
    uint64_t seen_ = ~uint64_t{0};
  };

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> current_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace understudy::zone
