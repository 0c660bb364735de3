#include "metrics.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <string>

#include "control_stats.h"
#include "prometheus.h"
#include "understudy/common/host_port.h"
#include "understudy/health/tracker.h"
#include "understudy/version.h"

namespace understudy::control {

namespace {

constexpr const char* kProtocols[] = {"udp", "tcp"};

std::string hostPort(const health::ProbeTarget& t) {
  return understudy::hostPort(t.address, t.check.port);
}

void serverMetrics(Exposition& x, const server::Server* server) {
  server::QueryTotals totals = server ? server->queryTotals() : server::QueryTotals{};
  x.family("understudy_queries_total", "DNS queries answered, by transport, query type and rcode.",
           MetricType::kCounter);
  for (size_t p = 0; p < 2; ++p) {
    for (size_t t = 0; t < server::kTypeBuckets; ++t) {
      for (size_t r = 0; r < server::kRcodeBuckets; ++r) {
        uint64_t n = totals.answers[p][t][r];
        if (n == 0) continue;  // 2 x 19 x 24 mostly-zero series would drown the useful ones
        x.sample({{"protocol", kProtocols[p]},
                  {"qtype", server::typeBucketName(t)},
                  {"rcode", server::rcodeName(r)}},
                 n);
      }
    }
  }
  x.family("understudy_responses_truncated_total", "Responses sent with TC=1, by transport.",
           MetricType::kCounter);
  for (size_t p = 0; p < 2; ++p) x.sample({{"protocol", kProtocols[p]}}, totals.truncated[p]);
  x.family("understudy_queries_dropped_total",
           "Requests dropped without an answer (malformed beyond a header, or a response).",
           MetricType::kCounter);
  for (size_t p = 0; p < 2; ++p) x.sample({{"protocol", kProtocols[p]}}, totals.dropped[p]);
  x.family("understudy_tcp_connections", "Open DNS TCP connections.", MetricType::kGauge);
  x.sample({}, uint64_t{server ? server->tcpConnections() : 0u});
  x.family("understudy_tcp_connections_accepted_total", "DNS TCP connections accepted.",
           MetricType::kCounter);
  x.sample({}, server ? server->tcpAccepted() : 0);
  x.family("understudy_tcp_connections_refused_total",
           "DNS TCP connections closed at once because tcp_max_connections were open.",
           MetricType::kCounter);
  x.sample({}, server ? server->tcpRefused() : 0);
  x.family("understudy_udp_receive_buffer_bytes",
           "Receive buffer of a UDP listen address's sockets as the kernel reports it (twice the "
           "usable size on Linux); below 4194304 the 2 MiB asked for is not in place.",
           MetricType::kGauge);
  if (server) {
    for (const auto& b : server->bound()) {
      if (b.protocol == "udp") {
        x.sample({{"listen", b.address}}, static_cast<uint64_t>(std::max(b.receive_buffer, 0)));
      }
    }
  }
  x.family("understudy_tcp_accept_errors_total",
           "Failed accepts on the DNS TCP listeners, by cause (emfile: the process is out of "
           "descriptors, enfile: the system is, nomem: kernel memory); each pauses accepting.",
           MetricType::kCounter);
  for (size_t k = 0; k < server::kAcceptErrorKinds; ++k) {
    auto kind = static_cast<server::AcceptError>(k);
    x.sample({{"reason", server::acceptErrorName(kind)}},
             server ? server->tcpAcceptErrors(kind) : 0);
  }
}

void endpointMetrics(Exposition& x, const failover::StatusSnapshot& status) {
  auto endpoints = status.endpoints();
  x.family("understudy_endpoint_up",
           "Measured health of a pool endpoint (1 up, 0 down); absent until its first probe and "
           "for check: none.",
           MetricType::kGauge);
  for (const auto& e : endpoints) {
    if (e.state != "up" && e.state != "down") continue;
    x.sample({{"pool", e.pool}, {"endpoint", e.address}, {"check", e.check}},
             uint64_t{e.state == "up"});
  }
  x.family("understudy_endpoint_serving",
           "Whether answers count the endpoint as healthy (measured health or an override).",
           MetricType::kGauge);
  for (const auto& e : endpoints) {
    x.sample({{"pool", e.pool}, {"endpoint", e.address}}, uint64_t{e.serving});
  }
  x.family("understudy_endpoint_override", "1 while an operator override is active.",
           MetricType::kGauge);
  for (const auto& e : endpoints) {
    if (!e.override) continue;
    x.sample({{"pool", e.pool},
              {"endpoint", e.address},
              {"kind", failover::overrideName(e.override->kind)}},
             uint64_t{1});
  }

  x.family("understudy_endpoint_override_orphaned",
           "1 while an override is kept on an endpoint that a reload removed from the "
           "configuration (it expires or is cleared as usual, and applies again if the endpoint "
           "returns).",
           MetricType::kGauge);
  for (const auto& o : status.orphanedOverrides()) {
    x.sample({{"pool", o.pool},
              {"endpoint", o.address},
              {"kind", failover::overrideName(o.override.kind)}},
             uint64_t{1});
  }

  const auto& targets = status.index->targets;
  x.family("understudy_probe_results_total", "Health probes by outcome.", MetricType::kCounter);
  for (size_t i = 0; i < targets.size(); ++i) {
    const health::Tracker& t = status.targets[i].tracker;
    for (size_t k = 0; k < health::Tracker::kOutcomeKinds; ++k) {
      auto kind = static_cast<health::OutcomeKind>(k);
      x.sample({{"check", targets[i].check.name},
                {"target", hostPort(targets[i])},
                {"outcome", health::Outcome::kindName(kind)}},
               t.outcomeCount(kind));
    }
  }
  x.family("understudy_probe_duration_seconds", "Health probe duration.", MetricType::kHistogram);
  constexpr size_t kBuckets = std::size(health::Tracker::kDurationBuckets);
  for (size_t i = 0; i < targets.size(); ++i) {
    const health::Tracker& t = status.targets[i].tracker;
    uint64_t cumulative[kBuckets];
    for (size_t b = 0; b < kBuckets; ++b) cumulative[b] = t.durationBucket(b);
    x.histogram({{"check", targets[i].check.name}, {"target", hostPort(targets[i])}},
                health::Tracker::kDurationBuckets, cumulative, t.probes(), t.durationSum());
  }
}

void poolMetrics(Exposition& x, const failover::StatusSnapshot& status) {
  auto records = status.records(false);
  auto labels = [](const failover::RecordStatus& r) -> Labels {
    return {{"pool", r.pool}, {"record", r.name}, {"type", r.type}};
  };
  x.family("understudy_pool_answer_priority",
           "Priority tier a pooled record answers with (0 when no tier applies).",
           MetricType::kGauge);
  for (const auto& r : records) x.sample(labels(r), uint64_t{r.decision.tier});
  x.family("understudy_pool_answer_addresses", "Addresses in a pooled record's answer.",
           MetricType::kGauge);
  for (const auto& r : records) x.sample(labels(r), uint64_t{r.decision.addresses.size()});
  x.family("understudy_pool_failed_over",
           "1 while a pooled record does not answer its healthy primary endpoints.",
           MetricType::kGauge);
  for (const auto& r : records) {
    x.sample(labels(r), uint64_t{r.decision.kind != failover::Decision::Kind::kPrimary});
  }
  x.family("understudy_pool_all_down",
           "1 while no endpoint of a pooled record's family is healthy (when_all_down applies).",
           MetricType::kGauge);
  for (const auto& r : records) {
    x.sample(labels(r), uint64_t{r.decision.kind == failover::Decision::Kind::kAllDown});
  }

  const auto& stats = status.pool_stats;
  x.family("understudy_pool_transitions_total", "Answer changes of a pool's records.",
           MetricType::kCounter);
  for (const auto& pool : status.plan().pools) {
    auto it = stats.find(pool.name);
    x.sample({{"pool", pool.name}}, it == stats.end() ? 0 : it->second.transitions);
  }
  x.family("understudy_pool_last_transition_timestamp_seconds",
           "Unix time of a pool's last answer change; absent until it has changed.",
           MetricType::kGauge);
  for (const auto& pool : status.plan().pools) {
    auto it = stats.find(pool.name);
    if (it == stats.end() || !it->second.last_transition) continue;
    double t =
        std::chrono::duration<double>(it->second.last_transition->time_since_epoch()).count();
    x.sample({{"pool", pool.name}}, t);
  }
  x.family("understudy_health_transitions_total",
           "Up/down transitions of probe targets (first measurements not included).",
           MetricType::kCounter);
  x.sample({}, status.transitions);
}

void healthLoopMetrics(Exposition& x, const HealthLoopStats& h) {
  x.family("understudy_health_timer_late_total",
           "Health-thread timer callbacks that ran late (the thread was busy): each may delay a "
           "probe. Should stay 0.",
           MetricType::kCounter);
  x.sample({}, h.late_callbacks);
  x.family("understudy_health_timer_worst_late_seconds",
           "The latest any health-thread timer callback has run since start.", MetricType::kGauge);
  x.sample({}, h.worst_late_ms / 1000.0);
  x.family("understudy_probe_timeouts_judged_late_total",
           "Probe timeouts noticed too late to be fair to the backend (the health thread was "
           "busy): counted as not run, never as failures.",
           MetricType::kCounter);
  x.sample({}, h.late_timeouts);
}

}  // namespace

std::string renderMetrics(Sources& sources, const ControlStats* control) {
  Exposition x;
  x.family("understudy_build_info", "understudy build; the value is always 1.", MetricType::kGauge);
  x.sample({{"version", UNDERSTUDY_VERSION}}, uint64_t{1});
  serverMetrics(x, sources.server());
  auto status = sources.status();
  if (const failover::StatusSnapshot* f = status->failover.get()) {
    endpointMetrics(x, *f);
    poolMetrics(x, *f);
  }
  healthLoopMetrics(x, status->health);
  const ReloadCounts& reloads = status->reloads;
  x.family("understudy_reloads_total", "Configuration reloads, by result.", MetricType::kCounter);
  x.sample({{"result", "ok"}}, reloads.ok);
  x.sample({{"result", "failed"}}, reloads.failed);
  x.family("understudy_snapshot_generation",
           "Snapshots published since start (answers or zones changed).", MetricType::kGauge);
  x.sample({}, sources.snapshots().generation());
  x.family("understudy_webhook_deliveries_total", "Webhook notifications, by result.",
           MetricType::kCounter);
  {
    // Two hooks may share a URL (different headers or formats): one series each, summed.
    std::map<std::string, notify::HookStats> by_url;
    for (const auto& hook : status->hooks) {
      auto& sum = by_url[hook.url];
      sum.sent += hook.sent;
      sum.failed += hook.failed;
      sum.retried += hook.retried;
      sum.dropped += hook.dropped;
    }
    for (const auto& [url, hook] : by_url) {
      x.sample({{"url", url}, {"result", "sent"}}, hook.sent);
      x.sample({{"url", url}, {"result", "failed"}}, hook.failed);
      x.sample({{"url", url}, {"result", "retried"}}, hook.retried);
      x.sample({{"url", url}, {"result", "dropped"}}, hook.dropped);
    }
  }
  if (control) control->writeMetrics(x);
  return x.text();
}

}  // namespace understudy::control
