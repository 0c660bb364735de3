// The control endpoint's own counters, and its log of refusals that a client cannot flood
// (issue 12: 1,000 bad requests wrote 7.1 MB of log in 0.15 s).
//
// Every refusal (a connection over a cap, a request that timed out, a 401, a 421) is counted for
// /metrics. The first of a kind from a client address is logged at WARN at once; the rest from
// that address are only counted, and one line per interval reports how many there were and the
// latest of them. A steady flood so costs one line per interval per address and kind.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace understudy::control {

class Exposition;

enum class Refusal : uint8_t {
  kGlobal,        // a connection over the endpoint's cap of open connections
  kPerClient,     // a connection over control.max_connections_per_client
  kTimeout,       // a request not received, or a response not read, in time
  kUnauthorized,  // 401: a mutation without the right bearer token
  kHost,          // 421: a Host header that is not the endpoint's (DNS rebinding)
};
inline constexpr size_t kRefusalKinds = 5;

// The `reason` label: "global", "per_client", "timeout", "unauthorized", "host".
const char* refusalName(Refusal kind);

class ControlStats {
 public:
  using Clock = std::chrono::steady_clock;

  // At most this many (kind, address) pairs are tracked; refusals from further addresses (a
  // client spread over an IPv6 prefix) share one entry, "other addresses".
  static constexpr size_t kMaxTrackedClients = 256;

  explicit ControlStats(Clock::duration interval = std::chrono::seconds(10))
      : interval_(interval) {}

  // Counts a refusal of `client` (an address without port). Logs "control: " + `message` at WARN
  // if it is the first of its kind from that address since the last report, else keeps it for
  // the report.
  void refuse(Refusal kind, const std::string& client, const std::string& message,
              Clock::time_point now = Clock::now());

  // Logs, per kind and address, how many refusals were held back over an interval that has
  // ended ("control: 127.0.0.1: 999 more 401 responses in the last 10.0 s; the latest: ...").
  // `everything` ignores the interval (at stop, so that nothing counted goes unlogged).
  void report(Clock::time_point now = Clock::now(), bool everything = false);

  Clock::duration interval() const { return interval_; }
  uint64_t refused(Refusal kind) const { return refused_[static_cast<size_t>(kind)]; }
  size_t trackedClients() const { return entries_.size(); }

  // A connection was accepted and is served until closed().
  void opened() {
    ++accepted_;
    ++open_;
  }
  void closed() { --open_; }
  uint64_t acceptedTotal() const { return accepted_; }
  size_t open() const { return open_; }

  // The understudy_control_* families.
  void writeMetrics(Exposition& x) const;

 private:
  struct Entry {
    Clock::time_point since;  // when this address was last logged or reported
    uint64_t held = 0;        // refusals counted since, not logged
    std::string latest;
  };
  Clock::duration interval_;
  std::map<std::pair<Refusal, std::string>, Entry> entries_;
  std::array<uint64_t, kRefusalKinds> refused_{};
  uint64_t accepted_ = 0;
  size_t open_ = 0;
};

}  // namespace understudy::control
