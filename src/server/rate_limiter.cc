#include "understudy/server/rate_limiter.h"

#include <arpa/inet.h>

#include <cstring>

namespace understudy::server {

namespace {

// Key of the source prefix: the masked address folded to 32 bits, tagged by family.
uint32_t prefixKey(const sockaddr_storage& peer, unsigned v4_bits, unsigned v6_bits) noexcept {
  if (peer.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&peer);
    uint32_t a = ntohl(sin->sin_addr.s_addr);
    uint32_t mask = v4_bits == 0 ? 0 : ~uint32_t{0} << (32 - v4_bits);
    return (a & mask) ^ 0x9e3779b9u;
  }
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&peer);
  uint64_t hi = 0;
  for (int i = 0; i < 8; ++i) hi = (hi << 8) | sin6->sin6_addr.s6_addr[i];
  unsigned bits = v6_bits > 64 ? 64 : v6_bits;
  uint64_t mask = bits == 0 ? 0 : ~uint64_t{0} << (64 - bits);
  hi &= mask;
  hi ^= hi >> 33;
  hi *= 0xff51afd7ed558ccdULL;
  hi ^= hi >> 33;
  return static_cast<uint32_t>(hi) | 1u;  // never collides with an IPv4 key pattern of 0
}

uint32_t slotHash(uint32_t key) noexcept {
  key ^= key >> 16;
  key *= 0x7feb352dU;
  key ^= key >> 15;
  key *= 0x846ca68bU;
  key ^= key >> 16;
  return key;
}

}  // namespace

bool NetworkPrefix::parse(const std::string& text, NetworkPrefix* out) {
  NetworkPrefix p;
  std::string address = text;
  int length = -1;
  size_t slash = text.find('/');
  if (slash != std::string::npos) {
    address = text.substr(0, slash);
    std::string len = text.substr(slash + 1);
    if (len.empty() || len.size() > 3) return false;
    length = 0;
    for (char c : len) {
      if (c < '0' || c > '9') return false;
      length = length * 10 + (c - '0');
    }
  }
  if (inet_pton(AF_INET, address.c_str(), p.bytes) == 1) {
    p.v6 = false;
    if (length > 32) return false;
    p.length = length < 0 ? 32 : static_cast<unsigned>(length);
  } else if (inet_pton(AF_INET6, address.c_str(), p.bytes) == 1) {
    p.v6 = true;
    if (length > 128) return false;
    p.length = length < 0 ? 128 : static_cast<unsigned>(length);
  } else {
    return false;
  }
  *out = p;
  return true;
}

bool NetworkPrefix::contains(const sockaddr_storage& peer) const noexcept {
  const uint8_t* a = nullptr;
  if (!v6 && peer.ss_family == AF_INET) {
    a = reinterpret_cast<const uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(&peer)->sin_addr.s_addr);
  } else if (v6 && peer.ss_family == AF_INET6) {
    a = reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_addr.s6_addr;
  } else {
    return false;
  }
  unsigned full = length / 8;
  if (std::memcmp(a, bytes, full) != 0) return false;
  unsigned rest = length % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (bytes[full] & mask);
}

namespace {

std::atomic<uint64_t> g_next_limiter_id{1};

// The settings a serving thread last saw, and whose and which generation they were.
struct SettingsCache {
  uint64_t limiter = 0;
  uint64_t generation = 0;
  std::shared_ptr<const RrlConfig> settings;
};

}  // namespace

RateLimiter::RateLimiter(RrlConfig config, size_t slots)
    : id_(g_next_limiter_id.fetch_add(1)),
      settings_(std::make_shared<const RrlConfig>(std::move(config))),
      mask_(slots - 1),
      slots_(new std::atomic<uint64_t>[slots]) {
  for (size_t i = 0; i < slots; ++i) slots_[i].store(0, std::memory_order_relaxed);
}

void RateLimiter::reconfigure(RrlConfig config) {
  auto next = std::make_shared<const RrlConfig>(std::move(config));
  std::lock_guard lock(mutex_);
  settings_ = std::move(next);
  generation_.fetch_add(1, std::memory_order_release);
}

RrlConfig RateLimiter::config() const {
  std::lock_guard lock(mutex_);
  return *settings_;
}

RateLimiter::Verdict RateLimiter::check(const sockaddr_storage& peer,
                                        uint32_t now_seconds) noexcept {
  // PowerDNS's sholder pattern, as for snapshots: one acquire load per check; the lock only when
  // the settings changed since this thread last looked.
  static thread_local SettingsCache cache;
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  if (cache.limiter != id_ || cache.generation != generation) {
    std::lock_guard lock(mutex_);
    cache.settings = settings_;
    cache.generation = generation;
    cache.limiter = id_;
  }
  const RrlConfig& config = *cache.settings;
  if (!config.enabled) return Verdict::kPass;
  for (const auto& e : config.exempt) {
    if (e.contains(peer)) return Verdict::kPass;
  }
  const uint32_t key = prefixKey(peer, config.ipv4_prefix, config.ipv6_prefix);
  std::atomic<uint64_t>& slot = slots_[slotHash(key) & mask_];
  const uint64_t second = now_seconds & 0xffff;
  // Packed: key (32) | second (16) | count (16). Another prefix landing in the same slot simply
  // restarts its count: collisions make the limiter more lenient, never stricter.
  uint64_t old = slot.load(std::memory_order_relaxed);
  uint64_t count;
  while (true) {
    bool same = (old >> 32) == key && ((old >> 16) & 0xffff) == second;
    count = same ? (old & 0xffff) + 1 : 1;
    if (count > 0xffff) count = 0xffff;
    uint64_t next = (uint64_t{key} << 32) | (second << 16) | count;
    if (slot.compare_exchange_weak(old, next, std::memory_order_relaxed)) break;
  }
  if (count <= config.responses_per_second) return Verdict::kPass;
  limited_.fetch_add(1, std::memory_order_relaxed);
  uint64_t over = count - config.responses_per_second;
  if (config.slip != 0 && over % config.slip == 0) return Verdict::kSlip;
  return Verdict::kDrop;
}

size_t truncateToQuestion(uint8_t* r, size_t size) noexcept {
  if (size < 12 || ((r[4] << 8) | r[5]) != 1) return 0;
  size_t pos = 12;
  while (pos < size && r[pos] != 0) {
    if (r[pos] > 63) return 0;
    pos += 1 + r[pos];
  }
  pos += 1 + 4;
  if (pos > size) return 0;
  r[2] |= 0x02;  // TC
  for (int i = 6; i < 12; ++i) r[i] = 0;
  return pos;
}

}  // namespace understudy::server
