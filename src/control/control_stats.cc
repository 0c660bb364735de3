#include "control_stats.h"

#include <spdlog/spdlog.h>

#include "prometheus.h"

namespace understudy::control {

namespace {

// In the report of what was held back: "127.0.0.1: 999 more 401 responses in the last 10.0 s".
const char* pluralName(Refusal kind) {
  switch (kind) {
    case Refusal::kGlobal:
      return "connections refused (endpoint full)";
    case Refusal::kPerClient:
      return "connections refused (control.max_connections_per_client)";
    case Refusal::kTimeout:
      return "connections closed on a timeout";
    case Refusal::kUnauthorized:
      return "401 responses";
    case Refusal::kHost:
      return "421 responses (Host not this endpoint's)";
  }
  return "refusals";
}

const char* const kOtherAddresses = "other addresses";

}  // namespace

const char* refusalName(Refusal kind) {
  switch (kind) {
    case Refusal::kGlobal:
      return "global";
    case Refusal::kPerClient:
      return "per_client";
    case Refusal::kTimeout:
      return "timeout";
    case Refusal::kUnauthorized:
      return "unauthorized";
    case Refusal::kHost:
      return "host";
  }
  return "unknown";
}

void ControlStats::refuse(Refusal kind, const std::string& client, const std::string& message,
                          Clock::time_point now) {
  ++refused_[static_cast<size_t>(kind)];
  auto key = std::make_pair(kind, client);
  auto it = entries_.find(key);
  if (it == entries_.end() && entries_.size() >= kMaxTrackedClients) {
    key.second = kOtherAddresses;
    it = entries_.find(key);
  }
  if (it == entries_.end()) {
    spdlog::warn("control: {}", message);
    entries_.emplace(std::move(key), Entry{now, 0, {}});
    return;
  }
  ++it->second.held;
  it->second.latest = message;
}

void ControlStats::report(Clock::time_point now, bool everything) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    if (!everything && now - e.since < interval_) {
      ++it;
      continue;
    }
    if (e.held == 0) {
      // Quiet for a whole interval: the next refusal is logged at once again.
      it = entries_.erase(it);
      continue;
    }
    double seconds = std::chrono::duration<double>(now - e.since).count();
    spdlog::warn("control: {}: {} more {} in the last {:.1f} s; the latest: {}", it->first.second,
                 e.held, pluralName(it->first.first), seconds, e.latest);
    e.held = 0;
    e.latest.clear();
    e.since = now;
    if (everything) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

void ControlStats::writeMetrics(Exposition& x) const {
  x.family("understudy_control_connections", "Open connections to the control endpoint.",
           MetricType::kGauge);
  x.sample({}, uint64_t{open_});
  x.family("understudy_control_connections_accepted_total",
           "Connections the control endpoint accepted and served.", MetricType::kCounter);
  x.sample({}, accepted_);
  x.family("understudy_control_refused_total",
           "Connections and requests the control endpoint refused, by reason: global and "
           "per_client (connection caps), timeout (a request not received or a response not read "
           "in time), unauthorized (401), host (421, a Host header not the endpoint's).",
           MetricType::kCounter);
  for (size_t k = 0; k < kRefusalKinds; ++k) {
    x.sample({{"reason", refusalName(static_cast<Refusal>(k))}}, refused_[k]);
  }
}

}  // namespace understudy::control
