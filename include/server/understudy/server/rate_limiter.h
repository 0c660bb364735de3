// Response rate limiting for UDP, as NSD and Knot do it: each source prefix (IPv4 /24, IPv6 /56
// by default) gets `responses_per_second`; beyond that answers are dropped, except every
// `slip`-th one, which goes out truncated (TC=1, no records) so a real client behind a spoofed
// flood retries over TCP. Off unless configured. Lock-free: one packed 64-bit word per slot.
//
// The settings can change while serving (a reload that changes `server.rrl`): they are published
// like snapshots, by generation, and each serving thread keeps its own reference to the settings
// it uses, taking a lock only the first time it sees a new generation.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace understudy::server {

struct NetworkPrefix {
  bool v6 = false;
  uint8_t bytes[16] = {};
  unsigned length = 0;
  // "10.0.0.0/8", "2001:db8::/32", or a bare address (full length). False on error.
  static bool parse(const std::string& text, NetworkPrefix* out);
  bool contains(const sockaddr_storage& peer) const noexcept;
};

struct RrlConfig {
  bool enabled = false;
  uint32_t responses_per_second = 20;
  uint32_t slip = 2;  // 0 = never slip, 1 = every limited answer goes out truncated
  unsigned ipv4_prefix = 24;
  unsigned ipv6_prefix = 56;
  std::vector<NetworkPrefix> exempt;
};

class RateLimiter {
 public:
  enum class Verdict : uint8_t { kPass, kDrop, kSlip };

  // With config.enabled false every check passes until reconfigure() turns limiting on.
  explicit RateLimiter(RrlConfig config, size_t slots = size_t{1} << 16);
  // Safe from any number of threads at once; never allocates once a thread has seen the current
  // settings (its first check after a change takes the lock once and copies a pointer).
  Verdict check(const sockaddr_storage& peer, uint32_t now_seconds) noexcept;
  uint64_t limited() const noexcept { return limited_.load(std::memory_order_relaxed); }

  // New settings for every later check. Counters carry over (keyed by the prefix: a changed
  // prefix length starts new counts). The old settings are freed when the last thread that
  // used them has moved on.
  void reconfigure(RrlConfig config);
  RrlConfig config() const;

 private:
  const uint64_t id_;  // tells this limiter's settings apart in a thread's cache
  mutable std::mutex mutex_;
  std::shared_ptr<const RrlConfig> settings_;
  std::atomic<uint64_t> generation_{1};
  size_t mask_;
  std::unique_ptr<std::atomic<uint64_t>[]> slots_;
  std::atomic<uint64_t> limited_{0};
};

// Turns a response into a minimal truncated one in place (header + question, TC=1); returns the
// new size, or 0 if the question cannot be found.
size_t truncateToQuestion(uint8_t* response, size_t size) noexcept;

}  // namespace understudy::server
