// Webhook notifications (issue 5 "Notifications"): every health transition, answer change and
// failed reload becomes one JSON POST per configured hook, generic or PagerDuty Events v2.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>  // Boost 1.74 Asio uses std::exchange without including it
#include <vector>

#include <boost/asio/io_context.hpp>

#include "understudy/config/config.h"
#include "understudy/failover/events.h"

namespace understudy::http {
class CurlMulti;
}

namespace understudy::notify {

class Webhook;

struct NotifierOptions {
  // Back-off before retry k (k = 1, 2, ...) is base_delay * 2^(k-1), capped at max_delay, plus up
  // to `jitter` of itself so many instances that saw the same outage do not retry in lockstep.
  // A receiver's Retry-After (429/503) lengthens the wait, never beyond max_delay.
  std::chrono::milliseconds base_delay{1000};
  std::chrono::milliseconds max_delay{60000};
  double jitter = 0.1;
  // Undelivered notifications kept per hook, the one being delivered included; beyond that the
  // oldest waiting one is dropped (and counted): a dead receiver must not grow memory forever.
  size_t max_queue = 1000;
};

// Counters of one hook, for /metrics. They survive a reload that keeps the hook unchanged.
struct HookStats {
  std::string url;       // without credentials, query or fragment: safe to show and log
  uint64_t sent = 0;     // delivered (HTTP 2xx)
  uint64_t failed = 0;   // given up: retries exhausted or an error not worth retrying
  uint64_t retried = 0;  // attempts after the first
  uint64_t dropped = 0;  // evicted from a full queue, or discarded when the hook was removed
  size_t queued = 0;     // undelivered right now, including the one in flight
};

// An EventSink that POSTs each event to every hook, through libcurl's multi socket interface on
// the control thread's io_context: the on*() calls only build a body and queue it, never block,
// never start a thread.
//
// Per hook, notifications go out one at a time in event order (a PagerDuty "resolve" must never
// overtake its "trigger"); different hooks never wait for each other. Connect failures, timeouts,
// HTTP 5xx and 429 are retried with exponential back-off, up to the hook's `retries`; any other
// answer (4xx: the body or the key is wrong, resending will not help) fails at once. Each failed
// attempt is logged once at WARN with the hook's URL stripped of credentials and query.
//
// Destroying the Notifier abandons whatever is still queued or in flight; no callback runs after.
class Notifier : public failover::EventSink {
 public:
  Notifier(boost::asio::io_context& io, std::vector<config::WebhookConfig> hooks,
           std::string instance, NotifierOptions options = {});
  ~Notifier() override;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // On reload. A hook whose settings did not change keeps its queue and counters; a removed or
  // changed one lets its in-flight request finish (without retrying it) and drops the rest.
  void setHooks(std::vector<config::WebhookConfig> hooks);

  void onHealth(const failover::HealthEvent& event) override;
  void onAnswer(const failover::AnswerEvent& event) override;
  void onReloadFailed(const failover::ReloadFailedEvent& event) override;

  // One entry per current hook, in configuration order.
  std::vector<HookStats> stats() const;
  // Notifications not yet delivered or given up, over all hooks (removed ones still finishing
  // included): lets a graceful stop wait a little for them.
  size_t pending() const;

 private:
  template <typename Event>
  void dispatch(const Event& event);
  void pruneRetired();

  boost::asio::io_context& io_;
  std::string instance_;
  NotifierOptions options_;
  std::shared_ptr<http::CurlMulti> multi_;
  std::vector<std::shared_ptr<Webhook>> hooks_;
  std::vector<std::shared_ptr<Webhook>> retired_;  // removed on reload, a request still in flight
};

}  // namespace understudy::notify
