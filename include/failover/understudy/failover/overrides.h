// Operator overrides (drain, force-up, force-down), kept beside measured health and never mixed
// into it (dnsdist's Availability::Up/Down/Auto). Keyed by pool and answered address, owned by
// the daemon so they survive reloads.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace understudy::failover {

enum class OverrideKind : uint8_t {
  kDrain,      // treated as down for answers, still probed
  kForceUp,    // treated as up whatever the probes say
  kForceDown,  // treated as down: a failover drill behaves exactly like a real failure
};

const char* overrideName(OverrideKind kind);  // "drain", "force-up", "force-down"

struct Override {
  OverrideKind kind = OverrideKind::kDrain;
  std::chrono::system_clock::time_point since;
  std::optional<std::chrono::system_clock::time_point> expires;
};

class OverrideStore {
 public:
  using Key = std::pair<std::string, std::string>;  // pool, address

  void set(const std::string& pool, const std::string& address, Override o) {
    overrides_[{pool, address}] = o;
  }
  bool clear(const std::string& pool, const std::string& address) {
    return overrides_.erase({pool, address}) > 0;
  }
  const Override* find(const std::string& pool, const std::string& address) const {
    auto it = overrides_.find({pool, address});
    return it == overrides_.end() ? nullptr : &it->second;
  }
  const std::map<Key, Override>& all() const { return overrides_; }
  // Removes the overrides whose expiry has passed and returns them.
  std::vector<std::pair<Key, Override>> expire(std::chrono::system_clock::time_point now) {
    std::vector<std::pair<Key, Override>> gone;
    for (auto it = overrides_.begin(); it != overrides_.end();) {
      if (it->second.expires && *it->second.expires <= now) {
        gone.emplace_back(it->first, it->second);
        it = overrides_.erase(it);
      } else {
        ++it;
      }
    }
    return gone;
  }

 private:
  std::map<Key, Override> overrides_;
};

}  // namespace understudy::failover
